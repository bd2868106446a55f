'use strict';
// Every example scenario of the repository (`scenarios/*.scn`, found at run time) tokenized by
// the TextMate engine VS Code uses, and checked character by character against a reference
// lexer written from the pest grammar (test/support/reference.js): comments, texts and their
// quotes, escapes, `{…}` placeholders and the expression inside them, patterns; then the
// constructs of the code: keywords, step names after `step`/`goto`/`->`/`start`/`entry`,
// durations, numbers, translations' language tags, paths like `contact.email`, functions,
// actions and argument names. No line may end inside a scope that should have closed on it.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { loadGrammar, tokenize, scopesAt, MAY_SPAN_LINES, EXTENSION } = require('./support/textmate');
const { classify, codeOnly } = require('./support/reference');

const SCENARIOS = path.resolve(EXTENSION, '..', '..', 'scenarios');
const NAME = '[A-Za-z_][A-Za-z0-9_]*';

// The reserved and statement words of the language (grammar/scenario.pest's `kw_*`), plus the
// words of shared flows (`flow`, `include`).
const KEYWORDS = new Set(
  `scenario flow step include description start entry on languages language from escape say
   one of link image card text ask expect save invalid attempts timeout then choice when if
   else set goto route team handoff advisor end call as error close resume and or not is empty
   matches open`.split(/\s+/),
);

const ENCLOSING = ['string.', 'comment.', 'meta.embedded.', 'meta.interpolation.'];

/** The innermost scope that says what encloses a character: a text, a comment or a placeholder. */
function innermost(scopes) {
  for (let k = scopes.length - 1; k >= 0; k -= 1) {
    if (ENCLOSING.some((prefix) => scopes[k].startsWith(prefix))) return scopes[k];
  }
  return '';
}

const CHARACTER_RULES = {
  comment: (s) => s.includes('comment.line.number-sign.scn'),
  delimiter: (s) =>
    innermost(s).startsWith('string.quoted.') &&
    /^punctuation\.definition\.string\.(begin|end)\.scn$/.test(s[s.length - 1]),
  text: (s) => s[s.length - 1].startsWith('string.quoted.'),
  escape: (s) => s[s.length - 1] === 'constant.character.escape.scn',
  brace: (s) => /^punctuation\.section\.interpolation\.(begin|end)\.scn$/.test(s[s.length - 1]),
  placeholder: (s) => innermost(s) === 'meta.embedded.line.scn',
  regex: (s) => s.includes('string.regexp.scn'),
  code: (s) => innermost(s) === '',
};

function exampleFiles() {
  return fs
    .readdirSync(SCENARIOS)
    .filter((name) => name.endsWith('.scn'))
    .sort()
    .map((name) => path.join(SCENARIOS, name));
}

/** Every match of `regex` (global) in `text`, with the offset of each of its groups. */
function* matches(regex, text) {
  const flags = regex.flags.includes('d') ? regex.flags : `${regex.flags}d`;
  const global = new RegExp(regex.source, flags.includes('g') ? flags : `${flags}g`);
  for (const m of text.matchAll(global)) yield m;
}

const counts = new Map();
const files = exampleFiles();

function checkExample(grammar, file) {
  const source = fs.readFileSync(file, 'utf8');
  const name = path.basename(file);
  const kinds = classify(source);
  const { lines, finalDepth } = tokenize(grammar, source);
  const failures = [];
  const count = (label) => counts.set(label, (counts.get(label) || 0) + 1);

  // The characters of group `group` of `m` on line `index` all carry `scope` (a prefix).
  const expectGroup = (label, index, m, group, scope) => {
    const [from, to] = m.indices[group];
    const line = lines[index];
    for (let column = from; column < to; column += 1) {
      const scopes = scopesAt(line, column);
      if (!scopes.includes(scope)) {
        failures.push(`${name}:${index + 1}:${column + 1}: ${label}: \`${m[group]}\` lacks ${scope} (has ${scopes.join(' ')})`);
        return;
      }
    }
    count(label);
  };

  lines.forEach((line, index) => {
    const lineKinds = kinds[index];
    const where = (column) => `${name}:${index + 1}:${column + 1}`;

    // Character by character, what encloses each one.
    for (let column = 0; column < line.text.length; column += 1) {
      const kind = lineKinds[column];
      const scopes = scopesAt(line, column);
      if (!CHARACTER_RULES[kind](scopes)) {
        failures.push(`${where(column)}: a ${kind} character \`${line.text[column]}\` has ${scopes.join(' ')}`);
        break;
      }
    }
    for (const kind of new Set(lineKinds)) if (kind !== 'code') count(`${kind} character`);
    if (line.text.includes('"""')) count('multi-line text');

    // The line ends inside no scope that should have closed on it.
    const leaking = line.carried.filter((s) => !MAY_SPAN_LINES.includes(s));
    if (leaking.length > 0) failures.push(`${where(line.text.length)}: the line ends inside ${leaking.join(' ')}`);

    const code = codeOnly(line.text, lineKinds, false);
    const expression = codeOnly(line.text, lineKinds, true);

    // Step names where a step is declared or named as a target.
    for (const m of matches(new RegExp(`\\b(step|goto|start)\\s+(${NAME})`), code)) {
      expectGroup(`step name after ${m[1]}`, index, m, 2, 'entity.name.function.step.scn');
    }
    for (const m of matches(new RegExp(`->\\s*(${NAME})`), code)) {
      if (m[1] !== 'handoff') expectGroup('step name after ->', index, m, 1, 'entity.name.function.step.scn');
    }
    for (const m of matches(new RegExp(`\\bentry\\s+(${NAME}(?:\\s*,\\s*${NAME})*)`), code)) {
      for (const n of matches(new RegExp(NAME), m[1])) {
        const at = m.indices[1][0] + n.index;
        expectGroup('step name after entry', index, { indices: [null, [at, at + n[0].length]], 1: n[0] }, 1, 'entity.name.function.step.scn');
      }
    }

    // Keywords, except where the word is a name (after `goto`, `step`, `->`, `start`, `as`, a
    // dot, or a validator after `expect`).
    for (const m of matches(new RegExp(`(?<![\\w.])(${NAME})\\b`), expression)) {
      const word = m[1];
      if (!KEYWORDS.has(word)) continue;
      const before = expression.slice(0, m.index);
      if (/(\b(goto|step|start|as|expect|entry)\s+|->\s*|,\s*)$/.test(before)) continue;
      // An include's values are step names (`give_up: handoff`).
      if (/^\s*include\b/.test(code) && /:\s*$/.test(before)) continue;
      const scopes = scopesAt(lines[index], m.index);
      if (!scopes.some((s) => s.startsWith('keyword.') || s.startsWith('storage.type.'))) {
        failures.push(`${where(m.index)}: keyword \`${word}\` has ${scopes.join(' ')}`);
      } else count('keyword');
    }

    // Durations, then numbers (which a duration is not).
    for (const m of matches(/(?<![\w.])(\d+[smhd](?:\d+[smhd])*)(?!\w)/, code)) {
      expectGroup('duration', index, m, 1, 'constant.numeric.duration.scn');
    }
    for (const m of matches(/(?<!\w)(\d+(?:\.\d+)?)(?!\w)/, expression)) {
      expectGroup('number', index, m, 1, 'constant.numeric.scn');
    }

    // Language tags: in `languages fr, en`, and before a translation's text.
    for (const m of matches(/\blanguages\s+([A-Za-z\-, ]+)/, code)) {
      for (const n of matches(/[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*/, m[1])) {
        const at = m.indices[1][0] + n.index;
        expectGroup('languages tag', index, { indices: [null, [at, at + n[0].length]], 1: n[0] }, 1, 'constant.other.language.scn');
      }
    }
    for (const m of matches(/(?<![\w.-])([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\s*"/, code)) {
      if (!KEYWORDS.has(m[1])) expectGroup('translation tag', index, m, 1, 'constant.other.language.scn');
    }

    // Paths: the contact's, the conversation's and the answer are the language's own.
    for (const m of matches(new RegExp(`(?<![\\w.])(${NAME})((?:\\.${NAME})*)(?![\\w.]|\\s*\\()`), expression)) {
      if (KEYWORDS.has(m[1])) continue;
      const before = expression.slice(0, m.index);
      if (/(\b(goto|step|start|as|expect|entry|open|scenario|flow|include)\s+|->\s*|,\s*$)$/.test(before)) continue;
      if (/\b(entry|languages)\s+[\w, ]*$/.test(before)) continue;
      const after = expression.slice(m.index + m[0].length);
      if (/^\s*:/.test(after)) continue; // an argument's name
      if (/\bexpect\s+phone\s+$/.test(before)) {
        expectGroup('phone country', index, m, 1, 'constant.other.region.scn');
        continue;
      }
      if (/^\s*flow\b/.test(code) && /:\s*$/.test(before)) {
        expectGroup('parameter kind', index, m, 1, 'storage.type.parameter.scn');
        continue;
      }
      if (/^\s*"/.test(after) && /^[A-Za-z]{2,3}$/.test(m[0])) continue; // a translation's tag
      const own = ['contact', 'conversation', 'answer'].includes(m[1]);
      expectGroup(own ? 'contact path' : 'path', index, m, 1, own ? 'variable.language.scn' : 'variable.other.scn');
      for (const n of matches(new RegExp(`\\.(${NAME})`), m[2])) {
        const at = m.indices[2][0] + n.index + 1;
        expectGroup('path field', index, { indices: [null, [at, at + n[1].length]], 1: n[1] }, 1, 'variable.other.property.scn');
      }
    }

    // Actions after `call`, functions in expressions, argument names.
    for (const m of matches(new RegExp(`\\bcall\\s+(${NAME}(?:\\.${NAME})*)\\s*\\(`), code)) {
      expectGroup('action', index, m, 1, 'support.function.action.scn');
    }
    for (const m of matches(new RegExp(`(?<![\\w.])(${NAME})\\(`), expression)) {
      const before = expression.slice(0, m.index);
      if (/\b(flow|include)\s+$/.test(before)) expectGroup('flow name', index, m, 1, 'entity.name.function.flow.scn');
      else if (!/\bcall\s+$/.test(before)) expectGroup('function', index, m, 1, 'support.function.scn');
    }
    for (const m of matches(new RegExp(`(?<![\\w.])(${NAME})\\s*:`), code)) {
      expectGroup('argument name', index, m, 1, 'variable.parameter.scn');
    }

    // Patterns' flags.
    for (const m of matches(/\/((?:\\.|[^/\\])+)\/([A-Za-z]+)/, line.text)) {
      if (lineKinds[m.index] === 'regex') expectGroup('pattern flag', index, m, 2, 'keyword.other.flag.regexp.scn');
    }
  });

  if (finalDepth !== 1) failures.push(`${name}: the file ends ${finalDepth - 1} rule(s) deep`);
  return failures;
}

test('the example scenarios are found', () => {
  assert.ok(files.length >= 5, `expected the example scenarios in ${SCENARIOS}, found ${files.length}`);
});

for (const file of files) {
  test(`example ${path.basename(file)} gets the right scopes`, async () => {
    const grammar = await loadGrammar();
    assert.deepEqual(checkExample(grammar, file), []);
  });
}

test('every construct was met and checked in the examples', () => {
  const expected = [
    'comment character', 'delimiter character', 'text character', 'escape character',
    'brace character', 'placeholder character', 'regex character', 'multi-line text',
    'step name after step', 'step name after goto', 'step name after ->', 'step name after start',
    'step name after entry', 'keyword', 'duration', 'number', 'languages tag', 'translation tag',
    'contact path', 'path', 'path field', 'action', 'function', 'argument name', 'pattern flag',
  ];
  const missing = expected.filter((label) => !(counts.get(label) > 0));
  assert.deepEqual(missing, [], `checked: ${JSON.stringify(Object.fromEntries(counts))}`);
});
