import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ATTACH_FILE_ENV } from '../protocol/lsp';
import { readSettings } from './settings';
import { isRunnableFile, runArgv, runCommandLine } from './runCommandLine';

export const RUN_CURRENT_FILE_COMMAND = 'perfLens.runCurrentFile';
export const TERMINAL_NAME = 'Perf Lens';

/**
 * "Perf Lens: Run Current File with Perf Lens": runs the active JS/TS file under the bundled CLI
 * (`perf-lens run`) in an integrated terminal named "Perf Lens", which prints the timing table.
 * The line is typed into a shell (not run as the terminal's process), so the terminal and its
 * output stay open after the program ends and the user can run it again by hand.
 * Returns the terminal, or undefined when it refused (after telling the user why).
 */
export async function runCurrentFile(extensionPath: string, attachFile?: string): Promise<vscode.Terminal | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('Perf Lens runs your program with an injected runtime: trust this workspace first (Workspaces: Manage Workspace Trust).');
    return undefined;
  }
  const document = vscode.window.activeTextEditor?.document;
  if (!document) {
    void vscode.window.showErrorMessage('Perf Lens: open a JavaScript or TypeScript file first, then run this command.');
    return undefined;
  }
  if (!isRunnableFile(document.fileName, document.languageId)) {
    void vscode.window.showErrorMessage(`Perf Lens can only run JavaScript or TypeScript files, not ${path.basename(document.fileName)} (${document.languageId}).`);
    return undefined;
  }
  if (document.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage(`Perf Lens runs files saved on disk: save ${path.basename(document.fileName)} first.`);
    return undefined;
  }
  if (document.isDirty && !(await document.save())) {
    void vscode.window.showErrorMessage(`Perf Lens: could not save ${path.basename(document.fileName)}; not running it.`);
    return undefined;
  }
  const settings = readSettings(document.uri);
  if (!settings.enable) {
    void vscode.window.showWarningMessage('Perf Lens is turned off (setting "perfLens.enable"). Turn it on to run files with Perf Lens.');
    return undefined;
  }
  const cliPath = path.join(extensionPath, 'dist', 'cli.js');
  if (!fs.existsSync(cliPath)) {
    void vscode.window.showErrorMessage(`Perf Lens: the bundled CLI is missing (${cliPath}). Reinstall the extension (or run "npm run build" in a checkout).`);
    return undefined;
  }

  // A finished run's terminal stays open for reading; a new run replaces it.
  vscode.window.terminals.filter((t) => t.name === TERMINAL_NAME).forEach((t) => t.dispose());
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  const terminal = vscode.window.createTerminal({
    name: TERMINAL_NAME,
    cwd: folder?.uri.fsPath ?? path.dirname(document.fileName),
    iconPath: new vscode.ThemeIcon('pulse'),
    // Where `perf-lens run` can find the insight server's attach socket to stream the run into the
    // editor's lenses (protocol/lsp.ts ATTACH_FILE_ENV); harmless when the CLI does not use it.
    env: attachFile && fs.existsSync(attachFile) ? { [ATTACH_FILE_ENV]: attachFile } : undefined,
  });
  terminal.show();
  terminal.sendText(runCommandLine(runArgv(cliPath, document.fileName, settings.mode)));
  return terminal;
}
