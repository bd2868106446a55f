'use strict';
// A small reference lexer for `.scn` text, written from grammar/scenario.pest independently of
// the TextMate grammar: it tells, for every character of a file, what it is part of. The
// example tests compare the TextMate scopes with it, character by character.
//
// Kinds: 'code' (outside any text), 'comment', 'delimiter' (the quotes of a text), 'text'
// (literal text), 'escape', 'brace' (the `{` `}` of a placeholder), 'placeholder' (the
// expression inside `{…}`), 'regex' (a pattern after `expect`, `when` or `matches`, slashes and
// flags included).

const REGEX_KEYWORDS = new Set(['expect', 'when', 'matches']);

/**
 * The kinds of the characters of `text`, as an array of lines, each an array of kinds (one per
 * character, UTF-16 code unit as in JavaScript strings).
 */
function classify(text) {
  const kinds = new Array(text.length);
  // The stack of contexts: { kind: 'code' } at the bottom; { kind: 'string', triple } for a
  // text; { kind: 'placeholder' } for the expression of a `{…}` inside a text.
  const stack = [{ kind: 'code' }];
  let lastWord = '';
  let i = 0;
  const mark = (from, to, kind) => {
    for (let k = from; k < to; k += 1) kinds[k] = kind;
  };
  while (i < text.length) {
    const top = stack[stack.length - 1];
    const c = text[i];
    if (top.kind === 'string') {
      if (c === '\\') {
        let end = i + 2;
        if (text[i + 1] === 'u' && text[i + 2] === '{') {
          const close = text.indexOf('}', i);
          end = close === -1 ? text.length : close + 1;
        }
        mark(i, end, 'escape');
        i = end;
      } else if (c === '{') {
        mark(i, i + 1, 'brace');
        stack.push({ kind: 'placeholder' });
        lastWord = '';
        i += 1;
      } else if (top.triple && text.startsWith('"""', i)) {
        mark(i, i + 3, 'delimiter');
        stack.pop();
        i += 3;
      } else if (!top.triple && c === '"') {
        mark(i, i + 1, 'delimiter');
        stack.pop();
        i += 1;
      } else if (!top.triple && c === '\n') {
        throw new Error(`a one-line text is not closed before offset ${i}`);
      } else {
        mark(i, i + 1, 'text');
        i += 1;
      }
      continue;
    }
    // Code, at the top or inside a placeholder.
    const codeKind = top.kind === 'placeholder' ? 'placeholder' : 'code';
    if (c === '#') {
      const newline = text.indexOf('\n', i);
      const end = newline === -1 ? text.length : newline;
      mark(i, end, 'comment');
      i = end;
    } else if (text.startsWith('"""', i)) {
      mark(i, i + 3, 'delimiter');
      stack.push({ kind: 'string', triple: true });
      i += 3;
    } else if (c === '"') {
      mark(i, i + 1, 'delimiter');
      stack.push({ kind: 'string', triple: false });
      i += 1;
    } else if (c === '}' && top.kind === 'placeholder') {
      mark(i, i + 1, 'brace');
      stack.pop();
      i += 1;
    } else if (c === '/' && REGEX_KEYWORDS.has(lastWord)) {
      let end = i + 1;
      while (end < text.length && text[end] !== '/' && text[end] !== '\n') {
        end += text[end] === '\\' ? 2 : 1;
      }
      end += 1;
      while (end < text.length && /[A-Za-z]/.test(text[end])) end += 1;
      mark(i, end, 'regex');
      lastWord = '';
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      let end = i + 1;
      while (end < text.length && /[A-Za-z0-9_]/.test(text[end])) end += 1;
      lastWord = text.slice(i, end);
      mark(i, end, codeKind);
      i = end;
    } else {
      if (!/\s/.test(c)) lastWord = '';
      mark(i, i + 1, codeKind);
      i += 1;
    }
  }
  if (stack.length !== 1) throw new Error('the text ends inside a text or a placeholder');
  const lines = [];
  let start = 0;
  for (const line of text.split('\n')) {
    lines.push(kinds.slice(start, start + line.length));
    start += line.length + 1;
  }
  return lines;
}

/**
 * The line with everything that is not code blanked out: texts become `"` (so that "a text
 * follows" stays visible), comments spaces, patterns `/`. Placeholders' expressions are kept
 * only when `placeholders` is true (as code of their own).
 */
function codeOnly(line, kinds, placeholders) {
  let out = '';
  for (let k = 0; k < line.length; k += 1) {
    const kind = kinds[k];
    if (kind === 'code' || (placeholders && kind === 'placeholder')) out += line[k];
    else if (kind === 'comment') out += ' ';
    else if (kind === 'regex') out += '/';
    else out += '"';
  }
  return out;
}

module.exports = { classify, codeOnly };
