// Helpers for tests running inside the extension host.
import * as path from 'path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'perf-lens.perf-lens';
export const COMMAND = 'perfLens.runCurrentFile';
export const TERMINAL_NAME = 'Perf Lens';

export function perfLens(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed in this extension host`);
  return ext;
}

export function workspaceFolder(): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests need the examples/primes workspace open');
  return folder;
}

export function examplePath(...parts: string[]): string {
  return path.join(workspaceFolder().uri.fsPath, ...parts);
}

/** Resolves with the first event that matches, or rejects after `ms` saying what did not happen. */
export function nextEvent<T>(event: vscode.Event<T>, matches: (e: T) => boolean, what: string, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out after ${ms} ms waiting for ${what}`)); }, ms);
    const sub = event((e) => {
      if (!matches(e)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e);
    });
  });
}

export async function openInEditor(file: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(file);
  return vscode.window.showTextDocument(doc);
}

export async function closeEverything(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  for (const t of vscode.window.terminals) t.dispose();
}

export interface TerminalRun {
  terminal: vscode.Terminal;
  commandLine: string;
  output: string;
  exitCode: number | undefined;
}

/**
 * Runs the command and follows what it types into its terminal through VS Code's shell
 * integration (bash): the command line as the shell saw it, everything it printed, its exit code.
 */
export async function runCommandInTerminal(timeoutMs = 90_000): Promise<TerminalRun> {
  let output = '';
  let reading: Promise<void> = Promise.resolve();
  const started = nextEvent(vscode.window.onDidStartTerminalShellExecution, (e) => {
    if (e.terminal.name !== TERMINAL_NAME) return false;
    // read() only yields data written after its first call: start reading right away.
    reading = (async () => { for await (const chunk of e.execution.read()) output += chunk; })();
    return true;
  }, 'the "Perf Lens" terminal to start a command (shell integration)');
  const terminal = await vscode.commands.executeCommand<vscode.Terminal | undefined>(COMMAND);
  if (!terminal) throw new Error(`${COMMAND} refused to run (returned no terminal)`);
  const start = await started;
  const end = await nextEvent(vscode.window.onDidEndTerminalShellExecution, (e) => e.execution === start.execution,
    'the command in the "Perf Lens" terminal to finish', timeoutMs);
  await reading;
  return { terminal, commandLine: start.execution.commandLine.value, output: stripAnsi(output), exitCode: end.exitCode };
}

export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
}
