// Starts `nnspec lsp` (stdio) for .nn files; the server does all the work.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate() {
  const config = vscode.workspace.getConfiguration("nnspec");
  const [command, ...args] = config.get("server.command", ["nnspec", "lsp"]);
  client = new LanguageClient(
    "nnspec",
    "nnspec language server",
    { command, args },
    { documentSelector: [{ language: "nnspec" }] },
  );
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
