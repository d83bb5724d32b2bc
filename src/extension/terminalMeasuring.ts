import * as vscode from 'vscode';
import * as P from '../protocol/lsp';
import type { InsightClient } from './insightClient';
import { readSettings } from './settings';

export const TOGGLE_TERMINAL_COMMAND = 'perfLens.toggleTerminalMeasuring';
/** Context key: true while Node programs started in new integrated terminals are measured. */
export const TERMINAL_MEASURING_CONTEXT = 'perfLens.terminalMeasuring';

/**
 * Optional, off by default: measure every Node.js program started in an integrated terminal opened
 * afterwards, through the extension's environmentVariableCollection (NODE_OPTIONS gets our preload in
 * front, the PERF_LENS_* variables are set). All those processes report into one server session,
 * which ends (and is saved as a run) when the user turns it off. Not persisted across reloads: the
 * session's socket does not survive the server.
 */
export class TerminalMeasuring implements vscode.Disposable {
  private sessionId: string | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly insight: InsightClient) {
    context.environmentVariableCollection.persistent = false;
    context.environmentVariableCollection.clear();
  }

  get active(): boolean {
    return this.sessionId !== undefined;
  }

  /** Turns measuring on or off; returns the new state. */
  async toggle(): Promise<boolean> {
    if (this.sessionId) await this.stop();
    else await this.start();
    await vscode.commands.executeCommand('setContext', TERMINAL_MEASURING_CONTEXT, this.active);
    return this.active;
  }

  private async start(): Promise<void> {
    if (!vscode.workspace.isTrusted) throw new Error('trust this workspace first: measuring terminals injects a runtime into every Node program started there');
    const settings = readSettings();
    if (!settings.enable) throw new Error('Perf Lens is turned off (setting "perfLens.enable")');
    const started = await this.insight.request<P.StartSessionResult>(P.StartSession, {
      name: 'Integrated terminals',
      mode: settings.mode,
      include: settings.include.length ? settings.include : undefined,
      exclude: settings.exclude.length ? settings.exclude : undefined,
      includeNodeModules: settings.includeNodeModules,
      root: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      nodeOptions: '', // ours only: each terminal keeps its own NODE_OPTIONS after it
    } satisfies P.StartSessionParams);
    const env = this.context.environmentVariableCollection;
    for (const [name, value] of Object.entries(started.env)) {
      if (name === 'NODE_OPTIONS') env.prepend(name, `${value.trim()} `);
      else env.replace(name, value);
    }
    env.description = new vscode.MarkdownString('Perf Lens measures Node.js programs started here ("Perf Lens: Toggle Measuring in Terminals" turns it off).');
    this.sessionId = started.sessionId;
    void vscode.window.showInformationMessage('Perf Lens: Node.js programs started in new terminals are now measured (existing terminals: relaunch them).');
  }

  private async stop(): Promise<void> {
    const id = this.sessionId;
    this.sessionId = undefined;
    this.context.environmentVariableCollection.clear();
    if (id) {
      const result = await this.insight.request<P.EndSessionResult>(P.EndSession, { sessionId: id } satisfies P.EndSessionParams);
      void vscode.window.showInformationMessage(result.runFile
        ? `Perf Lens: terminal measuring off; the run is saved (${vscode.workspace.asRelativePath(result.runFile)}).`
        : 'Perf Lens: terminal measuring off.');
    }
  }

  dispose(): void {
    if (this.sessionId) void this.insight.request(P.EndSession, { sessionId: this.sessionId } satisfies P.EndSessionParams).catch(() => undefined);
  }
}
