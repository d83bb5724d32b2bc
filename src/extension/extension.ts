import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { PerfLensDebugInjection } from './debugInjection';
import { DebugStats, type DebugStatsResult } from '../protocol/lsp';
import { InsightClient } from './insightClient';
import { ResourceGauge, type GaugeSnapshot } from './resourceGauge';
import { ResourcePanel } from './resourcePanel';
import { RUN_CURRENT_FILE_COMMAND, runCurrentFile } from './runCurrentFile';
import { TOGGLE_TERMINAL_COMMAND, TerminalMeasuring } from './terminalMeasuring';

/**
 * Perf Lens extension entry point: stays cheap. Activated by a Node debug launch, a Perf Lens command,
 * or a workspace with saved runs; the insight server starts right after, without blocking activation.
 */
/** What activate() returns to other extensions and to our integration tests. */
export interface PerfLensApi {
  /** What the status-bar resource gauge shows now (status bar items cannot be read through the VS Code API). */
  resourceGauge(): GaugeSnapshot;
  /** Diagnostics of the insight server (its CPU, deltas, gauge timers, what keeps it alive). */
  serverStats(): Promise<DebugStatsResult>;
}

export function activate(context: vscode.ExtensionContext): PerfLensApi {
  const output = vscode.window.createOutputChannel('Perf Lens');
  const insight = new InsightClient(context, output);
  const debugInjection = new PerfLensDebugInjection(insight);
  context.subscriptions.push(
    output,
    { dispose: () => void insight.dispose() },
    debugInjection,
    vscode.commands.registerCommand(RUN_CURRENT_FILE_COMMAND, () => runCurrentFile(context.extensionPath, insight.attachFile)),
  );
  registerCommands(context, insight);
  context.subscriptions.push(insight.onSessionChanged((change) => {
    // Lenses show the numbers; these say what happened to the processes behind them. No pop-up
    // but for a rejected connection (a process that could not report). The server sees a debug
    // session the user stopped as processes whose connection dropped: say what really happened.
    if (change.kind === 'processCrashed' && change.sessionId !== null && debugInjection.wasStoppedByUser(change.sessionId)) {
      const who = change.pid !== undefined ? `process ${change.pid}` : 'the program';
      vscode.window.setStatusBarMessage(`$(pulse) Perf Lens: ${who} stopped from the debugger; the data received so far is kept`, 8_000);
    } else if (change.kind === 'runSaved' || change.kind === 'processCrashed') vscode.window.setStatusBarMessage(`$(pulse) ${change.message}`, 8_000);
    else if (change.kind === 'connectionRejected') void vscode.window.showWarningMessage(change.message);
  }));
  const terminals = new TerminalMeasuring(context, insight);
  context.subscriptions.push(terminals, vscode.commands.registerCommand(TOGGLE_TERMINAL_COMMAND, async () => {
    try {
      return await terminals.toggle();
    } catch (err) {
      void vscode.window.showErrorMessage(`Perf Lens: ${err instanceof Error ? err.message : String(err)}`);
      return terminals.active;
    }
  }));
  const resources = new ResourcePanel(context, insight);
  const gauge = new ResourceGauge(insight, (sessionId) => void resources.open(sessionId));
  context.subscriptions.push(resources, gauge);
  // Lenses of saved runs show as soon as a file opens; errors are shown to the user by start().
  if (vscode.workspace.isTrusted) setTimeout(() => void insight.start().catch(() => undefined), 0);
  return { resourceGauge: () => gauge.snapshot(), serverStats: () => insight.request<DebugStatsResult>(DebugStats) };
}

export function deactivate(): void {
  // Everything registered (the language client too) is disposed through context.subscriptions.
}
