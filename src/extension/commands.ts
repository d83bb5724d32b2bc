import * as path from 'path';
import * as vscode from 'vscode';
import { formatCount, formatDuration } from '../model/format';
import * as P from '../protocol/lsp';
import { ATTACH_COMMAND, attachToProcess } from './attach';
import type { InsightClient } from './insightClient';
import { isRunnableFile } from './runCommandLine';

export const COMMANDS = {
  debugCurrentFile: 'perfLens.debugCurrentFile',
  showLastRun: 'perfLens.showLastRun',
  openRun: 'perfLens.openRun',
  clear: 'perfLens.clear',
  exportRun: 'perfLens.export',
  deleteOldRuns: 'perfLens.deleteOldRuns',
  toggleLenses: 'perfLens.toggleLenses',
  selectSession: 'perfLens.selectSession',
  showDetails: P.SHOW_DETAILS_COMMAND,
  attachToProcess: ATTACH_COMMAND,
} as const;

/** Context key: true while the user has hidden the lenses (Toggle Lenses). */
export const LENSES_HIDDEN_CONTEXT = 'perfLens.lensesHidden';
export const DETAILS_SCHEME = 'perf-lens-details';

const EXPORT_FORMATS: { label: string; format: P.ExportParams['format']; ext: string }[] = [
  { label: 'JSON', format: 'json', ext: 'json' },
  { label: 'CSV', format: 'csv', ext: 'csv' },
  { label: 'Markdown', format: 'md', ext: 'md' },
];

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/^Perf Lens: /, '');
}

/** The palette commands and the lens click. Each returns what it did, for tests and other extensions. */
export function registerCommands(context: vscode.ExtensionContext, insight: InsightClient): void {
  const details = new DetailsDocuments();
  const register = (id: string, fn: (...args: never[]) => Promise<unknown>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        void vscode.window.showErrorMessage(`Perf Lens: ${errorText(err)}`);
        return undefined;
      }
    }));
  context.subscriptions.push(details, vscode.workspace.registerTextDocumentContentProvider(DETAILS_SCHEME, details));

  register(COMMANDS.debugCurrentFile, () => debugCurrentFile());

  // Argument: { pid } skips the quick pick of measured processes.
  register(COMMANDS.attachToProcess, (args?: { pid?: number }) => attachToProcess(insight, args));

  register(COMMANDS.showDetails, async (args?: P.ShowDetailsArgs) => {
    if (!args?.key) throw new Error('click a Perf Lens lens above a function to see its details');
    const result = await insight.request<P.FunctionDetailsResult>(P.FunctionDetails, { sessionId: args.sessionId, key: args.key } satisfies P.FunctionDetailsParams);
    const uri = details.show(args.key, result);
    await vscode.commands.executeCommand('markdown.showPreview', uri);
    return { ...result, document: uri.toString() };
  });

  register(COMMANDS.showLastRun, async () => {
    const id = await insight.request<string | null>(P.ShowLastRun);
    if (!id) void vscode.window.showInformationMessage('Perf Lens: no saved runs in .perf-lens/runs yet. Debug a program (F5) to record one.');
    return id;
  });

  register(COMMANDS.openRun, async (id?: string) => {
    if (typeof id === 'string') return insight.request<P.ListSessionsResult>(P.OpenRun, { id } satisfies P.OpenRunParams);
    const { runs } = await insight.request<P.ListRunsResult>(P.ListRuns);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('Perf Lens: no saved runs in .perf-lens/runs yet.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(runs.map((r) => ({
      label: r.startedAt ? new Date(r.startedAt).toLocaleString() : r.id,
      description: r.command.join(' '),
      detail: `${r.functions} functions · ${path.basename(r.file)}`,
      run: r,
    })), { title: 'Perf Lens: Open Saved Run', placeHolder: 'Show the lenses of a saved run' });
    if (!pick) return undefined;
    return insight.request<P.ListSessionsResult>(P.OpenRun, { id: pick.run.id } satisfies P.OpenRunParams);
  });

  register(COMMANDS.clear, () => insight.request<P.ListSessionsResult>(P.Clear));

  // Arguments (keybindings, tasks, tests): { format: 'json' | 'csv' | 'md', path: absolute file } skips the dialogs.
  register(COMMANDS.exportRun, async (args?: { format?: P.ExportParams['format']; path?: string }) => {
    if (args?.format && args.path) return insight.request<P.ExportResult>(P.ExportRun, { format: args.format, path: args.path } satisfies P.ExportParams);
    const pick = await vscode.window.showQuickPick(EXPORT_FORMATS, { title: 'Perf Lens: Export', placeHolder: 'Format of the exported report (the session or run the lenses show)' });
    if (!pick) return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: 'Export Perf Lens report',
      defaultUri: folder ? vscode.Uri.joinPath(folder, `perf-lens-report.${pick.ext}`) : undefined,
      filters: { [pick.label]: [pick.ext] },
    });
    if (!target) return undefined;
    if (target.scheme !== 'file') throw new Error(`export to a file on disk, not ${target.toString()}`);
    const result = await insight.request<P.ExportResult>(P.ExportRun, { format: pick.format, path: target.fsPath } satisfies P.ExportParams);
    void vscode.window.showInformationMessage(`Perf Lens: report exported to ${target.fsPath}`);
    return result;
  });

  register(COMMANDS.deleteOldRuns, async () => {
    const result = await insight.request<P.PruneRunsResult>(P.PruneRuns, {} satisfies P.PruneRunsParams);
    void vscode.window.showInformationMessage(result.deleted.length
      ? `Perf Lens: deleted ${result.deleted.length} old run(s), kept the newest (setting perfLens.runs.maxHistory).`
      : 'Perf Lens: no old runs to delete.');
    return result;
  });

  register(COMMANDS.toggleLenses, async () => {
    insight.setLensesHidden(!insight.lensesAreHidden);
    await vscode.commands.executeCommand('setContext', LENSES_HIDDEN_CONTEXT, insight.lensesAreHidden);
    return !insight.lensesAreHidden;
  });

  // Argument: a session id, or null for the automatic choice (skips the quick pick).
  register(COMMANDS.selectSession, async (sessionId?: string | null) => {
    if (sessionId !== undefined) return insight.request<P.ListSessionsResult>(P.SelectSession, { sessionId } satisfies P.SelectSessionParams);
    const list = await insight.request<P.ListSessionsResult>(P.ListSessions);
    const automatic = { label: '$(sync) Automatic', description: 'the newest live session, else the last run', id: null as string | null };
    const items = [automatic, ...list.sessions.map((s) => ({
      label: `${s.state === 'live' ? '$(debug-start)' : '$(history)'} ${s.name}`,
      description: `${s.state} · ${s.functions} functions · ${new Date(s.startedAt).toLocaleTimeString()}`,
      detail: s.processes.map((p) => `pid ${p.pid} ${p.state}${p.exitCode !== null ? ` (exit ${p.exitCode})` : ''}: ${p.argv.join(' ')}`).join(' · ') || undefined,
      picked: !list.automatic && list.selected === s.id,
      id: s.id,
    }))];
    const pick = await vscode.window.showQuickPick(items, { title: 'Perf Lens: Select Session', placeHolder: 'Which session or run the lenses show' });
    if (!pick) return undefined;
    return insight.request<P.ListSessionsResult>(P.SelectSession, { sessionId: pick.id } satisfies P.SelectSessionParams);
  });
}

/**
 * "Debug with Perf Lens": debugs the active JS/TS file with js-debug, no launch.json needed. The
 * configuration goes through the same provider as F5, which injects the runtime.
 */
async function debugCurrentFile(): Promise<boolean> {
  const document = vscode.window.activeTextEditor?.document;
  if (!document || document.uri.scheme !== 'file' || !isRunnableFile(document.fileName, document.languageId)) {
    throw new Error('open a JavaScript or TypeScript file saved on disk first, then run this command');
  }
  if (document.isDirty && !(await document.save())) throw new Error(`could not save ${path.basename(document.fileName)}; not running it`);
  const folder = vscode.workspace.getWorkspaceFolder(document.uri);
  const ts = /\.[cm]?tsx?$/i.test(document.fileName);
  const config: vscode.DebugConfiguration = {
    type: 'node',
    request: 'launch',
    name: `Perf Lens: ${path.basename(document.fileName)}`,
    program: document.fileName,
    cwd: folder?.uri.fsPath ?? path.dirname(document.fileName),
    console: 'internalConsole',
    // TypeScript runs through tsx (resolved from the program's folder upwards, like `node --import tsx`).
    ...(ts ? { runtimeArgs: ['--import', 'tsx'] } : {}),
  };
  return vscode.debug.startDebugging(folder, config);
}

/** Read-only Markdown documents with a function's full details (the lens click). */
class DetailsDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  show(key: P.FunctionKey, result: P.FunctionDetailsResult): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: DETAILS_SCHEME, path: `/${key.name} (${path.basename(key.file)}:${key.line}).md`, query: `${key.file}:${key.line}:${key.column}` });
    const lines = [`# ${key.name}`, '', `\`${key.file}:${key.line}:${key.column}\``, '', result.markdown];
    const f = result.function;
    // Same units and separators as the lenses, hovers and CLI table (model/format).
    const ms = formatDuration;
    const n = formatCount;
    if (f) {
      lines.push('', '## Statistics', '', '| | |', '| --- | --- |',
        `| calls | ${n(f.calls)} |`, `| timed calls | ${n(f.timedCalls)}${f.sampled ? ' (sampled)' : ''} |`, `| errors | ${n(f.errors)} |`, `| mean | ${ms(f.meanMs)} |`, `| p50 | ${ms(f.p50Ms)} |`, `| p95 | ${ms(f.p95Ms)} |`,
        `| p99 | ${ms(f.p99Ms)} |`, `| min | ${ms(f.minMs)} |`, `| max | ${ms(f.maxMs)} |`, `| total | ${ms(f.inclusiveMs ?? f.totalMs)} |`, `| self | ${ms(f.selfMs)} |`);
      if (f.processes.length > 1) {
        lines.push('', '## Processes', '', '| pid | calls | total |', '| --- | --- | --- |', ...f.processes.map((p) => `| ${p.pid} | ${n(p.calls)} | ${ms(p.totalMs)} |`));
      }
    }
    if (result.bySession.length) {
      lines.push('', '## Other sessions and runs', '', '| session | calls | mean | total |', '| --- | --- | --- | --- |',
        ...result.bySession.map((s) => `| ${s.name} | ${n(s.calls)} | ${ms(s.meanMs)} | ${ms(s.totalMs)} |`));
    }
    this.contents.set(uri.toString(), lines.join('\n') + '\n');
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? 'Perf Lens: these details are gone (the window was reloaded). Click the lens again.';
  }

  dispose(): void {
    this.changed.dispose();
  }
}
