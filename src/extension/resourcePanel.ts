import * as crypto from 'crypto';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { gaugeCsv } from '../model/gauge';
import * as P from '../protocol/lsp';
import type { FromWebview, ResourceSourceItem, ResourceViewState, ToWebview } from '../protocol/webview';
import type { InsightClient } from './insightClient';
import { SHOW_RESOURCES_COMMAND } from './resourceGauge';

export const RESOURCES_VIEW_TYPE = 'perfLens.resources';
/** Writes a session's or run's gauge samples: `(sessionId, 'csv' | 'json', path?)`; no path asks where. */
export const EXPORT_RESOURCES_COMMAND = 'perfLens.exportResources';

/**
 * The resource view: one webview panel with live charts of the followed session (or a saved run).
 * The data stays in the insight server; the panel asks for a history when the webview (re)loads
 * and forwards each live tick of the session it shows.
 */
export class ResourcePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private shown: string | null = null;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext, private readonly insight: InsightClient) {
    this.disposables.push(
      vscode.commands.registerCommand(SHOW_RESOURCES_COMMAND, (sessionId?: unknown) => this.open(typeof sessionId === 'string' ? sessionId : undefined)),
      vscode.commands.registerCommand(EXPORT_RESOURCES_COMMAND, (sessionId: string, format: 'csv' | 'json', file?: string) => this.export(sessionId, format, file)),
      // After a window reload the panel comes back with the session or run it showed.
      vscode.window.registerWebviewPanelSerializer(RESOURCES_VIEW_TYPE, {
        deserializeWebviewPanel: (panel, state: ResourceViewState | undefined) => {
          if (vscode.workspace.isTrusted) this.adopt(panel, state?.sessionId ?? null);
          else panel.dispose();
          return Promise.resolve();
        },
      }),
      insight.onResources((s) => {
        if (!this.panel || s.sessionId !== this.shown) return;
        if (s.state === 'ended') this.post({ type: 'ended', sessionId: s.sessionId, state: s });
        else if (s.current) this.post({ type: 'sample', sessionId: s.sessionId, sample: s.current, state: s });
      }),
    );
  }

  /** Shows the view for a session or run (default: the selected one, else a saved run to pick). */
  async open(sessionId?: string): Promise<boolean> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('Perf Lens: the resource view is off in an untrusted workspace (Perf Lens runs nothing there).');
      return false;
    }
    let id: string | null | undefined = sessionId ?? (await this.insight.request<P.ListSessionsResult>(P.ListSessions)).selected;
    id ??= await this.pickSavedRun();
    if (!id) return false;
    if (this.panel) {
      this.shown = id;
      this.panel.reveal();
      await this.sendHistory(id);
    } else {
      this.adopt(vscode.window.createWebviewPanel(RESOURCES_VIEW_TYPE, 'Perf Lens Resources', vscode.ViewColumn.Active, this.options()), id);
    }
    return true;
  }

  private async pickSavedRun(): Promise<string | undefined> {
    const { runs } = await this.insight.request<P.ListRunsResult>(P.ListRuns);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('Perf Lens: nothing to show yet: run or debug a program with Perf Lens first.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.id, description: r.command.join(' '), id: r.id })), { title: 'Perf Lens: resources of which saved run?' });
    return picked?.id;
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    // No retainContextWhenHidden: the webview keeps its state with setState and asks again on load.
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview')] };
  }

  private adopt(panel: vscode.WebviewPanel, sessionId: string | null): void {
    this.panel = panel;
    this.shown = sessionId;
    panel.webview.options = this.options();
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((m: FromWebview) => void this.onMessage(m));
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private async onMessage(m: FromWebview): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          // The extension's choice wins when it opened the view; after a reload the webview's.
          await this.sendHistory(this.shown ?? m.sessionId ?? undefined);
          break;
        case 'select':
          await this.sendHistory(m.sessionId);
          break;
        case 'export':
          await this.export(m.sessionId, m.format);
          break;
      }
    } catch (err) {
      this.post({ type: 'error', message: `Perf Lens: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  private async sendHistory(sessionId: string | undefined): Promise<void> {
    // Both at once: a live tick posted between the two answers would arrive before the history.
    const [history, sources] = await Promise.all([
      this.insight.request<P.ResourceHistoryResult>(P.ResourceHistory, { sessionId } satisfies P.ResourceHistoryParams),
      this.sources(),
    ]);
    this.shown = history.sessionId;
    this.post({ type: 'history', history, sources });
  }

  /** Sessions and loaded runs, then saved runs not loaded yet. */
  private async sources(): Promise<ResourceSourceItem[]> {
    const [{ sessions }, { runs }] = await Promise.all([
      this.insight.request<P.ListSessionsResult>(P.ListSessions),
      this.insight.request<P.ListRunsResult>(P.ListRuns).catch((): P.ListRunsResult => ({ runs: [] })),
    ]);
    const items: ResourceSourceItem[] = sessions.map((s) => ({ id: s.id, label: s.name, state: s.state }));
    const loaded = new Set(sessions.map((s) => s.runFile));
    for (const r of runs) if (!loaded.has(r.file)) items.push({ id: r.id, label: `run ${r.id}`, state: 'run' });
    return items;
  }

  private async export(sessionId: string, format: 'csv' | 'json', file?: string): Promise<string | undefined> {
    const history = await this.insight.request<P.ResourceHistoryResult>(P.ResourceHistory, { sessionId } satisfies P.ResourceHistoryParams);
    if (!file) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const name = `perf-lens-resources-${stamp}.${format}`;
      const target = await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
        filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
        title: `Perf Lens: export the resource samples of ${history.name}`,
      });
      if (!target) return undefined;
      file = target.fsPath;
    }
    fs.writeFileSync(file, format === 'csv' ? gaugeCsv(history.samples) : `${JSON.stringify(history, null, 2)}\n`);
    void vscode.window.setStatusBarMessage(`$(pulse) Perf Lens: ${history.samples.length} resource samples written to ${file}`, 5000);
    return file;
  }

  private post(msg: ToWebview): void {
    void this.panel?.webview.postMessage(msg);
  }

  private html(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(16).toString('base64');
    const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview', name)).toString();
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('resource-view.css')}">
<title>Perf Lens Resources</title>
</head>
<body>
<header>
  <h1 id="title">Perf Lens Resources</h1>
  <span id="state" class="badge"></span>
  <span id="origin"></span>
  <span id="paused" hidden>paused: live samples are not shown</span>
  <div class="toolbar">
    <label for="source">Show</label>
    <select id="source" aria-label="Session or saved run to show"></select>
    <button id="pause" type="button">Pause</button>
    <button id="export-csv" type="button" title="Save the samples as CSV">Export CSV</button>
    <button id="export-json" type="button" title="Save the samples as JSON">Export JSON</button>
  </div>
</header>
<p id="error" role="alert" hidden></p>
<div class="summary-row">
  <table aria-label="Current, average and peak resource use">
    <thead><tr><th></th><th>current</th><th>avg</th><th>peak</th></tr></thead>
    <tbody id="summary-body"></tbody>
  </table>
  <ul id="notes" aria-label="Thresholds crossed and notes"></ul>
</div>
<div id="charts"></div>
<script nonce="${nonce}" src="${asset('resource-view.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
