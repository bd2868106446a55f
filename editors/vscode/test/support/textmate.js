'use strict';
// Loads the grammar with the TextMate engine VS Code uses (vscode-textmate on the
// vscode-oniguruma regular expressions) and tokenizes text line by line.

const fs = require('node:fs');
const path = require('node:path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const EXTENSION = path.resolve(__dirname, '..', '..');
const GRAMMAR = path.join(EXTENSION, 'syntaxes', 'scenarist.tmLanguage.json');
const SCOPE = 'source.scn';

let loading = null;

/** The grammar of `.scn` files, loaded once. */
function loadGrammar() {
  if (loading === null) {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    const onigLib = oniguruma
      .loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength))
      .then(() => ({
        createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
        createOnigString: (text) => new oniguruma.OnigString(text),
      }));
    const registry = new vsctm.Registry({
      onigLib,
      loadGrammar: async (scopeName) =>
        scopeName === SCOPE
          ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR)
          : null,
    });
    loading = registry.loadGrammar(SCOPE).then((grammar) => {
      if (grammar === null) throw new Error(`no grammar for ${SCOPE} in ${GRAMMAR}`);
      return grammar;
    });
  }
  return loading;
}

/**
 * Tokenizes `text` as an editor does, one line at a time, each line starting from the state
 * the previous one ended in. For each line: its text, its tokens ({ start, end, text, scopes }),
 * `carried` (the scopes a next line would start inside, read by tokenizing an empty line from
 * the state) and `depth` (of the rule stack after the line).
 */
function tokenize(grammar, text) {
  let state = vsctm.INITIAL;
  const lines = [];
  for (const line of text.split(/\r?\n/)) {
    const result = grammar.tokenizeLine(line, state);
    if (result.stoppedEarly) throw new Error(`tokenizing stopped early on: ${line}`);
    state = result.ruleStack;
    const tokens = result.tokens.map((token) => ({
      start: token.startIndex,
      end: token.endIndex,
      text: line.slice(token.startIndex, token.endIndex),
      scopes: token.scopes,
    }));
    const carried = grammar.tokenizeLine('', state).tokens[0].scopes;
    lines.push({ text: line, tokens, carried, depth: state.depth });
  }
  return { lines, finalDepth: state.depth };
}

/**
 * The scopes a line may end inside: a multi-line text, a list of arguments or of a flow's
 * parameters. Any other scope carried to the next line has leaked (a text, a placeholder or a
 * pattern left open).
 */
const MAY_SPAN_LINES = ['source.scn', 'string.quoted.triple.scn', 'meta.arguments.scn', 'meta.parameters.scn'];

/** The scopes of the character at `column` of a tokenized line. */
function scopesAt(line, column) {
  const token = line.tokens.find((t) => t.start <= column && column < t.end);
  return token ? token.scopes : [];
}

module.exports = { loadGrammar, tokenize, scopesAt, MAY_SPAN_LINES, EXTENSION, GRAMMAR, SCOPE };
