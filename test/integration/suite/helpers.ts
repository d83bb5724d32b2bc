// Helpers for tests running inside the extension host.
import { strict as assert } from 'assert';
import * as fs from 'fs';
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

/* ---------------------- debug sessions and lenses ---------------------- */

export const LENS_TITLE = /^avg .* · p95 .* · 199,998 calls/;
export const runsDir = () => examplePath('.perf-lens', 'runs');

export function runFiles(): string[] {
  return fs.existsSync(runsDir()) ? fs.readdirSync(runsDir()).filter((f) => f.endsWith('.json')).sort() : [];
}

export async function lensesOf(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  return (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
}

/** Polls `read` until it returns a value (not undefined), or fails saying what did not happen. */
export async function waitFor<T>(what: string, read: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls the lenses of the file until one on `line` has a title matching `title`. */
export async function waitForLens(uri: vscode.Uri, line: number, title: RegExp, ms = 60_000): Promise<vscode.CodeLens> {
  const deadline = Date.now() + ms;
  let seen: string[] = [];
  for (;;) {
    const lenses = await lensesOf(uri);
    const lens = lenses.find((l) => l.range.start.line === line && title.test(l.command?.title ?? ''));
    if (lens) return lens;
    seen = lenses.map((l) => `${l.range.start.line}: ${l.command?.title ?? '(no command)'}`);
    if (Date.now() > deadline) throw new Error(`no lens matching ${String(title)} on line ${line} of ${uri.fsPath} within ${ms} ms; lenses: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Debugs `config` to its end; resolves with the (parent) session once it terminated. */
export async function debugToEnd(config: vscode.DebugConfiguration, ms = 90_000): Promise<vscode.DebugSession> {
  const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === config.name && !s.parentSession, `debug session "${String(config.name)}" to start`);
  assert.equal(await vscode.debug.startDebugging(workspaceFolder(), config), true, 'startDebugging');
  const session = await started;
  await nextEvent(vscode.debug.onDidTerminateDebugSession, (s) => s.id === session.id, `debug session "${String(config.name)}" to end`, ms);
  return session;
}

export const launch = (name: string, program: string, extra: Record<string, unknown> = {}): vscode.DebugConfiguration =>
  ({ type: 'node', request: 'launch', name, program: examplePath(program), console: 'internalConsole', ...extra });

