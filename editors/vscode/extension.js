'use strict';
// The Scenarist extension: `.scn` files get the grammar and language configuration declared
// in package.json, and this starts the language server, `scenarist lsp`, over stdio through
// vscode-languageclient. The binary is the `scenarist.path` setting (default `scenarist`, looked
// up on PATH); changing the setting restarts the server. Plain JavaScript: no build step.

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

const LANGUAGE = 'scenarist';
const SECTION = 'scenarist';

/** @type {LanguageClient | undefined} */
let client;

/** The binary to start: the `scenarist.path` setting, or `scenarist` when it is empty. */
function serverPath(configuration) {
  const configured = configuration.get('path');
  return typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : 'scenarist';
}

/** How to start the server: `<scenarist.path> lsp`, speaking LSP on its stdin and stdout. */
function serverOptions(configuration) {
  return { command: serverPath(configuration), args: ['lsp'], transport: TransportKind.stdio };
}

/** Which documents the server serves, and the files whose changes it hears of. */
function clientOptions() {
  return {
    documentSelector: [
      { scheme: 'file', language: LANGUAGE },
      { scheme: 'untitled', language: LANGUAGE },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.scn,*.test.yaml,scenarist.yaml}'),
    },
  };
}

async function start() {
  const configuration = vscode.workspace.getConfiguration(SECTION);
  const options = serverOptions(configuration);
  client = new LanguageClient(LANGUAGE, 'Scenarist', options, clientOptions());
  try {
    await client.start();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    vscode.window.showErrorMessage(
      `Scenarist: could not start \`${options.command} lsp\` (${reason}). ` +
        'Install scenarist, or set `scenarist.path` to the binary.',
    );
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    try {
      await running.stop();
    } catch {
      // A server that never started, or already died, has nothing to stop.
    }
  }
}

async function restart() {
  await stop();
  await start();
}

/** Called by VS Code when the first `.scn` file opens. */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('scenarist.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.path`)) return restart();
      return undefined;
    }),
    { dispose: () => stop() },
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate, serverOptions, serverPath };
