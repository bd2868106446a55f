'use strict';
// The extension's manifest, language configuration and activation. VS Code itself is not
// available here: `vscode` is a recording stand-in, and so is vscode-languageclient's
// LanguageClient (its other exports, TransportKind among them, are the real ones, loaded
// against the stand-in), so the tests see exactly which server the extension starts and when.

const { test, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const { EXTENSION } = require('./support/textmate');

const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION, 'package.json'), 'utf8'));

// ---------------------------------------------------------------------------------------------
// The stand-ins.

const world = {
  settings: {},
  clients: [],
  errors: [],
  commands: new Map(),
  configurationListeners: [],
  failStart: null,
};

const anything = new Proxy(function stub() {}, {
  get: (_, property) => (property === '__esModule' ? false : anything),
  apply: () => anything,
  construct: () => ({}),
});

const vscode = {
  workspace: {
    getConfiguration: (section) => ({
      get: (key) => world.settings[`${section}.${key}`],
    }),
    createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
    onDidChangeConfiguration: (listener) => {
      world.configurationListeners.push(listener);
      return { dispose() {} };
    },
  },
  window: {
    showErrorMessage: (message) => {
      world.errors.push(message);
      return Promise.resolve(undefined);
    },
  },
  commands: {
    registerCommand: (name, handler) => {
      world.commands.set(name, handler);
      return { dispose() {} };
    },
  },
};

class FakeLanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, started: 0, stopped: 0 });
    world.clients.push(this);
  }

  async start() {
    this.started += 1;
    if (world.failStart !== null) throw new Error(world.failStart);
  }

  async stop() {
    this.stopped += 1;
  }
}

const load = Module._load;
Module._load = function loadWithStandIns(request, parent, isMain) {
  if (request === 'vscode') {
    // vscode-languageclient reads `vscode` when it loads; the extension reads the stand-in.
    return parent && parent.filename === path.join(EXTENSION, 'extension.js') ? vscode : anything;
  }
  if (request === 'vscode-languageclient/node') {
    const real = load.call(this, request, parent, isMain);
    return { ...real, LanguageClient: FakeLanguageClient };
  }
  return load.call(this, request, parent, isMain);
};
const extension = require(path.join(EXTENSION, manifest.main));
const { TransportKind } = load('vscode-languageclient/node', module, false);

function context() {
  return { subscriptions: [] };
}

beforeEach(() => {
  world.settings = {};
  world.clients = [];
  world.errors = [];
  world.commands = new Map();
  world.configurationListeners = [];
  world.failStart = null;
});

// ---------------------------------------------------------------------------------------------
// Activation.

test('activation starts `scenarist lsp` over stdio for .scn documents', async () => {
  await extension.activate(context());
  assert.equal(world.clients.length, 1);
  const [client] = world.clients;
  assert.equal(client.id, 'scenarist');
  assert.deepEqual(client.serverOptions, { command: 'scenarist', args: ['lsp'], transport: TransportKind.stdio });
  assert.equal(TransportKind.stdio, 0);
  assert.deepEqual(
    client.clientOptions.documentSelector.map((s) => s.language),
    ['scenarist', 'scenarist'],
  );
  assert.equal(client.started, 1);
  assert.deepEqual(world.errors, []);
  await extension.deactivate();
  assert.equal(client.stopped, 1);
});

test('scenarist.path chooses the binary, and an empty one means `scenarist`', async () => {
  world.settings['scenarist.path'] = '  /opt/scenarist/bin/scenarist ';
  await extension.activate(context());
  assert.equal(world.clients[0].serverOptions.command, '/opt/scenarist/bin/scenarist');
  await extension.deactivate();

  world.settings['scenarist.path'] = '   ';
  await extension.activate(context());
  assert.equal(world.clients[1].serverOptions.command, 'scenarist');
  await extension.deactivate();
});

test('changing scenarist.path restarts the server with the new binary; other settings do not', async () => {
  await extension.activate(context());
  assert.equal(world.configurationListeners.length, 1);
  const [listener] = world.configurationListeners;

  await listener({ affectsConfiguration: (key) => key === 'editor.tabSize' });
  assert.equal(world.clients.length, 1);

  world.settings['scenarist.path'] = '/usr/local/bin/scenarist';
  await listener({ affectsConfiguration: (key) => key === 'scenarist.path' });
  assert.equal(world.clients.length, 2);
  assert.equal(world.clients[0].stopped, 1);
  assert.equal(world.clients[1].serverOptions.command, '/usr/local/bin/scenarist');
  assert.equal(world.clients[1].started, 1);
  await extension.deactivate();
});

test('the restart command restarts the server', async () => {
  await extension.activate(context());
  const restart = world.commands.get('scenarist.restartServer');
  assert.equal(typeof restart, 'function');
  await restart();
  assert.equal(world.clients.length, 2);
  assert.equal(world.clients[0].stopped, 1);
  assert.equal(world.clients[1].started, 1);
  await extension.deactivate();
});

test('a server that cannot start is reported, naming the binary and the setting', async () => {
  world.settings['scenarist.path'] = '/nowhere/scenarist';
  world.failStart = 'spawn /nowhere/scenarist ENOENT';
  await extension.activate(context());
  assert.equal(world.errors.length, 1);
  assert.match(world.errors[0], /\/nowhere\/scenarist lsp/);
  assert.match(world.errors[0], /ENOENT/);
  assert.match(world.errors[0], /scenarist\.path/);
  await extension.deactivate();
});

// ---------------------------------------------------------------------------------------------
// The manifest and the language configuration.

test('the manifest ties .scn files to the grammar, the configuration and the server setting', () => {
  const [language] = manifest.contributes.languages;
  assert.equal(language.id, 'scenarist');
  assert.deepEqual(language.extensions, ['.scn']);
  assert.ok(fs.existsSync(path.join(EXTENSION, language.configuration)));

  const [grammar] = manifest.contributes.grammars;
  assert.equal(grammar.language, language.id);
  const tmLanguage = JSON.parse(fs.readFileSync(path.join(EXTENSION, grammar.path), 'utf8'));
  assert.equal(grammar.scopeName, tmLanguage.scopeName);

  const setting = manifest.contributes.configuration.properties['scenarist.path'];
  assert.equal(setting.type, 'string');
  assert.equal(setting.default, 'scenarist');
  assert.deepEqual(manifest.activationEvents, [`onLanguage:${language.id}`]);
  assert.deepEqual(manifest.contributes.commands.map((c) => c.command), ['scenarist.restartServer']);
  assert.ok(fs.existsSync(path.join(EXTENSION, manifest.main)));
});

test('the extension needs no VS Code newer than its language client accepts', () => {
  const semver = require('semver');
  const client = JSON.parse(
    fs.readFileSync(require.resolve('vscode-languageclient/package.json'), 'utf8'),
  );
  assert.ok(manifest.dependencies['vscode-languageclient'], 'the client ships with the extension');
  assert.ok(
    semver.subset(manifest.engines.vscode, client.engines.vscode),
    `engines.vscode ${manifest.engines.vscode} must be within ${client.engines.vscode}`,
  );
});

test('the language configuration: # comments, brackets, indentation after an opening bracket', () => {
  const configuration = JSON.parse(
    fs.readFileSync(path.join(EXTENSION, 'language-configuration.json'), 'utf8'),
  );
  assert.equal(configuration.comments.lineComment, '#');
  assert.deepEqual(configuration.brackets, [['{', '}'], ['[', ']'], ['(', ')']]);
  const increase = new RegExp(configuration.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(configuration.indentationRules.decreaseIndentPattern);
  for (const line of ['step welcome {', '  ask "Q {x}" {', 'call zendesk.create_ticket(', 'ask "Q" { # why', '} else {']) {
    assert.ok(increase.test(line), `indent after: ${line}`);
  }
  for (const line of ['say "a {"', 'goto x # {', 'say "x" # {', '}']) {
    assert.ok(!increase.test(line), `no indent after: ${line}`);
  }
  for (const line of ['}', '  } else {', ') as user']) assert.ok(decrease.test(line), `outdent: ${line}`);
  assert.ok(!decrease.test('  say "}"'));
});
