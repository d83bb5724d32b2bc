/**
 * The insight server: LSP wiring. Sessions and runs are data sources; open documents carry anchors;
 * lenses and hovers are computed on request from the selected source, for one file at a time.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  TextDocumentSyncKind,
  type CodeLens,
  type Connection,
  type Hover,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { formatReport } from '../model/format';
import { historyFromRuntimeSamples } from '../model/gauge';
import type { FunctionReport, Report } from '../model/report';
import * as P from '../protocol/lsp';
import { buildNodeOptions, runtimeEnv } from '../runtime/inject';
import { functionKey } from './anchors';
import { defaultSettings, parseSettings } from './config';
import { Documents, fileOfUri } from './documents';
import { hoverMarkdown, lensText } from './lens-text';
import { RefreshThrottle } from './refresh';
import { ResourceMonitor, gaugeTimersRunning } from './resource-monitor';
import { RunHistory } from './run-history';
import { LiveSession, RunSource, mergeTotals, type LiveSessionEvents, type Source } from './sources';

const REFRESH_INTERVAL_MS = 800;
const MAX_FINISHED_IN_MEMORY = 10;

/** dist/server.js -> dist/runtime/preload.js */
export function preloadPath(): string {
  return path.join(__dirname, 'runtime', 'preload.js');
}

function workspaceRootOf(params: InitializeParams): string | null {
  const uri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? null;
  return uri ? fileOfUri(uri) : (params.rootPath ?? null);
}

export class InsightServer {
  private settings: P.ServerSettings = defaultSettings();
  private readonly docs = new Documents();
  private readonly sources = new Map<string, Source>();
  /** Resource gauges of live sessions, by session id. */
  private readonly monitors = new Map<string, ResourceMonitor>();
  private explicit: string | null = null;
  /** file -> id of the last source that had functions in it. */
  private readonly lastSourceByFile = new Map<string, string>();
  private shownSource: string | null = null;
  private history: RunHistory | null = null;
  /** The (first) workspace folder: runs are saved under it, paths shown relative to it. */
  private root: string | null = null;
  private storageDir: string | null = null;
  private attachSession: LiveSession | null = null;
  private refreshSupported = false;
  private deltasReceived = 0;
  private readonly refresh: RefreshThrottle;
  private readonly events: LiveSessionEvents;

  constructor(private readonly connection: Connection) {
    // 800 ms between refreshes: new data shows within ~1 s even when timers run late on a busy machine.
    this.refresh = new RefreshThrottle(() => {
      if (this.refreshSupported) void this.connection.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    }, REFRESH_INTERVAL_MS);
    this.events = {
      onData: (session, files, at) => this.onData(session, files, at),
      onChange: (change) => {
        if (change.kind === 'processConnected' && change.sessionId) this.monitors.get(change.sessionId)?.ensureRunning();
        void this.connection.sendNotification(P.SessionChanged, change);
      },
      onIdle: (session) => this.onAttachIdle(session),
      log: (message) => this.connection.console.log(message),
    };
    this.register();
  }

  private register(): void {
    const c = this.connection;
    c.onInitialize((params) => this.initialize(params));
    c.onInitialized(() => void this.startAttach());
    c.onDidChangeConfiguration((p) => {
      this.applySettings(p.settings);
      this.requestRefresh();
    });
    c.onDidOpenTextDocument((p) => {
      this.docs.open(p.textDocument.uri, p.textDocument.languageId, p.textDocument.version, p.textDocument.text);
    });
    c.onDidChangeTextDocument((p) => this.docs.change(p.textDocument.uri, p.textDocument.version, p.contentChanges));
    c.onDidCloseTextDocument((p) => this.docs.close(p.textDocument.uri));
    c.onCodeLens((p) => this.codeLenses(p.textDocument.uri));
    c.onHover((p) => this.hover(p.textDocument.uri, p.position.line));
    c.onShutdown(() => this.shutdown());

    c.onRequest(P.StartSession, (p: P.StartSessionParams) => this.startSession(p ?? {}));
    c.onRequest(P.EndSession, (p: P.EndSessionParams) => this.endSession(p));
    c.onRequest(P.ListSessions, () => this.listSessions());
    c.onRequest(P.SelectSession, (p: P.SelectSessionParams) => this.select(p?.sessionId ?? null));
    c.onRequest(P.FunctionDetails, (p: P.FunctionDetailsParams) => this.functionDetails(p));
    c.onRequest(P.ListRuns, (): P.ListRunsResult => ({ runs: this.requireHistory().list() }));
    c.onRequest(P.OpenRun, (p: P.OpenRunParams) => this.openRun(p.id));
    c.onRequest(P.ShowLastRun, () => this.showLastRun());
    c.onRequest(P.Clear, () => this.clear());
    c.onRequest(P.ExportRun, (p: P.ExportParams) => this.exportRun(p));
    c.onRequest(P.PruneRuns, (p: P.PruneRunsParams): P.PruneRunsResult => ({
      deleted: this.requireHistory().prune(p?.keep ?? this.settings.runs.maxHistory),
    }));
    c.onRequest(P.ResourceHistory, (p: P.ResourceHistoryParams) => this.resourceHistory(p ?? {}));
    c.onRequest(P.DebugStats, () => this.debugStats());
  }

  private initialize(params: InitializeParams): InitializeResult {
    const root = workspaceRootOf(params);
    this.root = root;
    this.history = root ? new RunHistory(root) : null;
    this.refreshSupported = params.capabilities.workspace?.codeLens?.refreshSupport === true;
    const opts = (params.initializationOptions ?? {}) as P.InitializationOptions;
    this.storageDir = typeof opts.storageDir === 'string' && opts.storageDir !== '' ? opts.storageDir : null;
    this.applySettings(opts.settings);
    this.loadLastRun();
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        codeLensProvider: { resolveProvider: false },
        hoverProvider: true,
        experimental: { perfLens: { protocol: P.LSP_PROTOCOL_VERSION } },
      },
      serverInfo: { name: 'perf-lens-insight-server', version: String(P.LSP_PROTOCOL_VERSION) },
    };
  }

  private applySettings(raw: unknown): void {
    const { settings, problems } = parseSettings(raw);
    this.settings = settings;
    for (const m of this.monitors.values()) m.thresholds = settings.gauge.thresholds;
    for (const p of problems) void this.connection.window.showWarningMessage(`Perf Lens: ${p}`);
  }

  /* ------------------------------ sources ------------------------------ */

  /** The explicit choice, else the most recent live session with data, else the newest finished run. */
  selected(): Source | null {
    if (this.explicit) {
      const s = this.sources.get(this.explicit);
      if (s) return s;
      this.explicit = null;
    }
    let live: Source | null = null;
    let done: Source | null = null;
    for (const s of this.sources.values()) {
      if (s.state === 'live') {
        if (s.hasData() && (!live || s.startedAt >= live.startedAt)) live = s;
      } else {
        done = s; // insertion order: the newest finished run is inserted last
      }
    }
    return live ?? done;
  }

  /** Call after anything that may change the selection: anchors belong to the measured text of one source. */
  private selectionMaybeChanged(): void {
    const now = this.selected()?.id ?? null;
    if (now !== this.shownSource) {
      this.shownSource = now;
      this.docs.resetAnchors();
      void this.connection.sendNotification(P.SessionChanged, {
        sessionId: now,
        kind: 'selected',
        message: now ? `Perf Lens: showing ${this.sources.get(now)!.name}` : 'Perf Lens: no measurements to show',
      } satisfies P.SessionChangedParams);
    }
    this.requestRefresh();
  }

  private requestRefresh(at?: number): void {
    this.refresh.request(at);
  }

  private onData(session: LiveSession, files: ReadonlySet<string>, at: number): void {
    this.deltasReceived++;
    const selected = this.selected();
    if ((selected?.id ?? null) !== this.shownSource) {
      this.selectionMaybeChanged(); // e.g. the first data of a new session: it takes over
      return;
    }
    if (selected !== session) return;
    for (const f of files) {
      if (this.docs.hasFile(f)) {
        this.requestRefresh(at);
        return;
      }
    }
  }

  private addSource(s: Source): void {
    this.sources.delete(s.id);
    this.sources.set(s.id, s);
    // Finished runs stay on disk; memory holds a few (the oldest go, never the selected one).
    const finished = [...this.sources.values()].filter((x) => x.state !== 'live' && x.id !== this.explicit);
    for (const old of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_IN_MEMORY))) this.sources.delete(old.id);
  }

  private loadLastRun(): void {
    if (!this.history) return;
    const id = this.history.latest();
    if (!id) return;
    try {
      this.addSource(this.runSource(id));
      this.shownSource = this.selected()?.id ?? null;
    } catch (err) {
      this.connection.console.warn(`Perf Lens: ${(err as Error).message}`);
    }
  }

  private runSource(id: string): RunSource {
    const history = this.requireHistory();
    const report = history.load(id);
    return new RunSource(`run:${id}`, `run ${id}`, report, history.fileOf(id));
  }

  private requireHistory(): RunHistory {
    if (!this.history) throw new Error('Perf Lens: no workspace folder is open, so there is no .perf-lens/runs directory');
    return this.history;
  }

  private async startSession(p: P.StartSessionParams): Promise<P.StartSessionResult> {
    const preload = preloadPath();
    if (!fs.existsSync(preload)) throw new Error(`Perf Lens: the runtime bundle ${preload} is missing (run \`node esbuild.js\`)`);
    const name = p.name ?? `session ${new Date().toLocaleTimeString()}`;
    const session = await LiveSession.start({ name, mode: p.mode ?? 'adaptive' }, this.events);
    this.addSource(session);
    this.startMonitor(session);
    const env = {
      ...runtimeEnv({
        ...{ socket: session.socketPath, token: session.token, session: session.id },
        mode: p.mode,
        sampleEvery: p.sampleEvery,
        include: p.include,
        exclude: p.exclude,
        includeNodeModules: p.includeNodeModules,
        root: p.root ?? this.root ?? undefined,
      }),
      NODE_OPTIONS: buildNodeOptions(p.nodeOptions, preload),
    };
    void this.connection.sendNotification(P.SessionChanged, {
      sessionId: session.id,
      kind: 'started',
      message: `Perf Lens: session ${name} is listening`,
    } satisfies P.SessionChangedParams);
    return { sessionId: session.id, socketPath: session.socketPath, token: session.token, env };
  }

  private async endSession(p: P.EndSessionParams): Promise<P.EndSessionResult> {
    const s = this.sources.get(p?.sessionId);
    if (!(s instanceof LiveSession)) throw new Error(`Perf Lens: no live session ${JSON.stringify(p?.sessionId)}`);
    if (s.attach) throw new Error('Perf Lens: the attach session stays open; its runs are saved when its processes exit');
    const report = await s.finish(p.graceMs ?? 2000, { exitCode: p.exitCode, signal: p.signal }, p.stoppedAt);
    await s.close();
    this.endMonitor(s, report);
    const runFile = report.functions.length > 0 ? this.saveRun(report) : null;
    // The session's data stays under the same id, now frozen.
    this.addSource(new RunSource(s.id, s.name, report, runFile, 'ended'));
    void this.connection.sendNotification(P.SessionChanged, {
      sessionId: s.id,
      kind: 'ended',
      runFile: runFile ?? undefined,
      message: runFile ? `Perf Lens: ${s.name} ended; run saved to ${runFile}` : `Perf Lens: ${s.name} ended; nothing was measured`,
    } satisfies P.SessionChangedParams);
    this.selectionMaybeChanged();
    return { runFile, functions: report.functions.length };
  }

  private saveRun(report: Report): string | null {
    if (!this.history) return null;
    try {
      const { file } = this.history.save(this.docs.withSourceHashes(report));
      this.history.prune(this.settings.runs.maxHistory);
      return file;
    } catch (err) {
      void this.connection.window.showErrorMessage(`Perf Lens: cannot save the run: ${(err as Error).message}`);
      return null;
    }
  }

  private listSessions(): P.ListSessionsResult {
    return {
      sessions: [...this.sources.values()].map((s) => s.info()),
      selected: this.selected()?.id ?? null,
      automatic: this.explicit === null,
    };
  }

  private select(id: string | null): P.ListSessionsResult {
    if (id !== null && !this.sources.has(id)) throw new Error(`Perf Lens: no session or loaded run ${JSON.stringify(id)}`);
    this.explicit = id;
    this.selectionMaybeChanged();
    return this.listSessions();
  }

  private openRun(id: string): P.ListSessionsResult {
    const source = this.runSource(id);
    this.addSource(source);
    return this.select(source.id);
  }

  private showLastRun(): string | null {
    const id = this.history?.latest();
    if (!id) return null;
    const existing = [...this.sources.values()].find((s) => s.info().runFile === this.history!.fileOf(id));
    if (existing) return this.select(existing.id).selected;
    return this.openRun(id).selected;
  }

  private clear(): P.ListSessionsResult {
    for (const [id, s] of this.sources) if (s.state !== 'live') this.sources.delete(id);
    this.explicit = null;
    this.selectionMaybeChanged();
    return this.listSessions();
  }

  private sourceOrSelected(id: string | undefined): Source {
    const s = id ? this.sources.get(id) : this.selected();
    if (!s) throw new Error(id ? `Perf Lens: no session or loaded run ${JSON.stringify(id)}` : 'Perf Lens: no session or run to show');
    return s;
  }

  private reportOf(s: Source): Report {
    return s instanceof RunSource ? s.report : (s as LiveSession).report();
  }

  private exportRun(p: P.ExportParams): P.ExportResult {
    if (!['json', 'csv', 'md'].includes(p?.format)) throw new Error(`Perf Lens: export format must be json, csv or md, not ${JSON.stringify(p?.format)}`);
    const report = this.reportOf(this.sourceOrSelected(p.sessionId));
    const content = formatReport(report, p.format, { top: Infinity });
    if (p.path) {
      if (!path.isAbsolute(p.path)) throw new Error(`Perf Lens: export path must be absolute: ${p.path}`);
      fs.mkdirSync(path.dirname(p.path), { recursive: true });
      fs.writeFileSync(p.path, content);
    }
    return { content, path: p.path ?? null };
  }

  private findFunction(s: Source, key: P.FunctionKey): FunctionReport | null {
    const k = functionKey(key);
    return s.functionsIn(key.file).find((f) => functionKey(f) === k) ?? null;
  }

  private otherSessions(except: Source, key: P.FunctionKey): P.FunctionDetailsResult['bySession'] {
    const out: P.FunctionDetailsResult['bySession'] = [];
    for (const s of this.sources.values()) {
      if (s === except) continue;
      const f = this.findFunction(s, key);
      if (f) out.push({ sessionId: s.id, name: s.name, calls: f.calls, meanMs: f.meanMs, totalMs: f.totalMs });
    }
    return out;
  }

  private functionDetails(p: P.FunctionDetailsParams): P.FunctionDetailsResult {
    const s = this.sourceOrSelected(p.sessionId);
    const f = this.findFunction(s, p.key);
    const anchor = this.docs.byPath(p.key.file)?.anchors.get(functionKey(p.key));
    const bySession = this.otherSessions(s, p.key);
    const markdown = f
      ? hoverMarkdown(f, { wallMs: s.wallMs(), stale: anchor?.stale === true, sessionName: s.name, otherSessions: bySession, cwd: this.workspaceRoot() })
      : `No measurements of ${p.key.name} in ${s.name}.`;
    return { sessionId: s.id, function: f, bySession, markdown };
  }

  private workspaceRoot(): string | undefined {
    return this.root ?? undefined;
  }

  /* ------------------------------ lenses ------------------------------ */

  /**
   * The source whose numbers a file shows: the selected one; while a live session has nothing for
   * the file yet, the finished run that last had (lenses do not blink away while new data loads;
   * another live session's numbers are never mixed in).
   */
  private sourceForFile(file: string): { source: Source; functions: FunctionReport[] } | null {
    const s = this.selected();
    if (!s) return null;
    if (this.shownSource !== s.id) this.selectionMaybeChanged();
    const functions = s.functionsIn(file);
    if (functions.length > 0 || s.state !== 'live') {
      if (functions.length > 0) this.lastSourceByFile.set(file, s.id);
      return { source: s, functions };
    }
    const previous = this.sources.get(this.lastSourceByFile.get(file) ?? '');
    return previous && previous.state !== 'live' ? { source: previous, functions: previous.functionsIn(file) } : { source: s, functions };
  }

  private codeLenses(uri: string): CodeLens[] {
    const d = this.docs.get(uri);
    const picked = d?.file ? this.sourceForFile(d.file) : null;
    if (!d || !picked) return [];
    const s = picked.source;
    const lenses: CodeLens[] = [];
    const wallMs = s.wallMs();
    for (const f of picked.functions) {
      if (f.calls < this.settings.lens.minCalls) continue;
      const a = this.docs.anchorFor(d, f);
      if (!a || a.lost) continue;
      const pos = { line: a.line, character: a.character };
      const args: P.ShowDetailsArgs = { sessionId: s.id, key: { file: f.file, line: f.line, column: f.column, name: f.name } };
      lenses.push({
        range: { start: pos, end: pos },
        command: { title: lensText(f, this.settings.lens.format, { wallMs, stale: a.stale }), command: P.SHOW_DETAILS_COMMAND, arguments: [args] },
      });
    }
    return lenses.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  }

  private hover(uri: string, line: number): Hover | null {
    const d = this.docs.get(uri);
    const picked = d?.file ? this.sourceForFile(d.file) : null;
    if (!d || !picked) return null;
    const s = picked.source;
    // The innermost measured function starting on this line.
    let best: { f: FunctionReport; character: number; stale: boolean } | null = null;
    for (const f of picked.functions) {
      const a = this.docs.anchorFor(d, f);
      if (!a || a.lost || a.line !== line) continue;
      if (!best || a.character > best.character) best = { f, character: a.character, stale: a.stale };
    }
    if (!best) return null;
    const key = { file: best.f.file, line: best.f.line, column: best.f.column, name: best.f.name };
    const markdown = hoverMarkdown(best.f, {
      wallMs: s.wallMs(),
      stale: best.stale,
      sessionName: s.name,
      otherSessions: this.otherSessions(s, key),
      cwd: this.workspaceRoot(),
    });
    return { contents: { kind: 'markdown', value: markdown }, range: { start: { line, character: best.character }, end: { line, character: best.character } } };
  }

  /* ------------------------------ attach ------------------------------ */

  private async startAttach(): Promise<void> {
    if (!this.storageDir) return;
    try {
      fs.mkdirSync(this.storageDir, { recursive: true, mode: 0o700 });
      fs.chmodSync(this.storageDir, 0o700);
      const session = await LiveSession.start({ name: 'attached processes', mode: 'adaptive', attach: true }, this.events);
      this.attachSession = session;
      this.addSource(session);
      this.startMonitor(session);
      const file = path.join(this.storageDir, P.ATTACH_FILE_NAME);
      const content: P.AttachFile = { version: P.LSP_PROTOCOL_VERSION, socket: session.socketPath, token: session.token, session: session.id, pid: process.pid };
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${JSON.stringify(content)}\n`, { mode: 0o600 });
      fs.renameSync(tmp, file);
      // Also when the client goes away without a shutdown (the library exits when its parent dies).
      process.once('exit', () => this.removeAttachFile());
      this.connection.console.log(`Perf Lens: attach socket ready; details in ${file}`);
    } catch (err) {
      this.connection.console.warn(`Perf Lens: no attach socket: ${(err as Error).message}`);
    }
  }

  /** Removes the attach file if it is still ours (another window may share the directory). */
  private removeAttachFile(): void {
    if (!this.storageDir || !this.attachSession) return;
    const file = path.join(this.storageDir, P.ATTACH_FILE_NAME);
    try {
      const content = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<P.AttachFile>;
      if (content.pid === process.pid) fs.rmSync(file, { force: true });
    } catch {
      // Already gone or unreadable: nothing of ours to remove.
    }
  }

  /** The last attached process left: cut its run (saved like a session's) and start over. */
  private onAttachIdle(session: LiveSession): void {
    setTimeout(() => {
      if (session.running > 0 || !session.hasData()) return;
      const report = session.report();
      this.endMonitor(session, report);
      session.reset();
      this.startMonitor(session);
      const runFile = this.saveRun(report);
      const id = runFile ? `run:${path.basename(runFile, '.json')}` : `attach-run-${Date.now()}`;
      this.addSource(new RunSource(id, `attached run ${new Date(Date.parse(report.run.startedAt)).toLocaleTimeString()}`, report, runFile, 'ended'));
      if (runFile) void this.connection.sendNotification(P.SessionChanged, { sessionId: id, kind: 'runSaved', runFile, message: `Perf Lens: attached run saved to ${runFile}` } satisfies P.SessionChangedParams);
      this.selectionMaybeChanged();
    }, 300);
  }

  /* ------------------------------ resources ------------------------------ */

  private startMonitor(session: LiveSession): void {
    const g = this.settings.gauge;
    if (!g.enable) return;
    const monitor = new ResourceMonitor(session, {
      intervalMs: g.intervalMs,
      history: g.history,
      thresholds: g.thresholds,
      onTick: (state) => void this.connection.sendNotification(P.ResourcesChanged, state satisfies P.ResourcesChangedParams),
    });
    this.monitors.set(session.id, monitor);
    if (session.running > 0) monitor.ensureRunning();
  }

  /** Stops a session's gauge, puts its history into the run's report and tells the client it ended. */
  private endMonitor(session: LiveSession, report: Report): void {
    const monitor = this.monitors.get(session.id);
    if (!monitor) return;
    monitor.stop();
    this.monitors.delete(session.id);
    withGauge(report, monitor);
    void this.connection.sendNotification(P.ResourcesChanged, monitor.state('ended') satisfies P.ResourcesChangedParams);
  }

  private resourceHistory(p: P.ResourceHistoryParams): P.ResourceHistoryResult {
    let source = p.sessionId ? this.sources.get(p.sessionId) : this.selected();
    if (!source && p.sessionId) {
      // A saved run id from perfLens/listRuns that is not loaded yet: load it without selecting it.
      const id = p.sessionId.replace(/^run:/, '');
      source = this.sources.get(`run:${id}`) ?? this.runSource(id);
      this.addSource(source);
    }
    if (!source) throw new Error('Perf Lens: no session or run to show resources of');
    const base = { sessionId: source.id, name: source.name, state: source.state };
    const monitor = this.monitors.get(source.id);
    if (monitor) return { ...base, ...monitor.history.data(), origin: 'gauge' };
    const report = this.reportOf(source);
    if (report.resources.gauge) return { ...base, ...report.resources.gauge, origin: 'gauge' };
    return { ...base, ...historyFromRuntimeSamples(report.resources.samples, this.settings.gauge.intervalMs, this.settings.gauge.thresholds), origin: 'runtime' };
  }

  /* ------------------------------ misc ------------------------------ */

  private debugStats(): P.DebugStatsResult {
    const cpu = process.cpuUsage();
    return {
      pid: process.pid,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rss: process.memoryUsage().rss,
      deltasReceived: this.deltasReceived,
      refreshesSent: this.refresh.sent,
      refreshLatenciesMs: [...this.refresh.latenciesMs],
      gaugeTimers: gaugeTimersRunning(),
      merge: mergeTotals(),
      activeResources: process.getActiveResourcesInfo(),
    };
  }

  async shutdown(): Promise<void> {
    this.refresh.dispose();
    for (const m of this.monitors.values()) m.stop();
    this.removeAttachFile();
    for (const s of [...this.sources.values()]) {
      if (!(s instanceof LiveSession)) continue;
      // Data of sessions still running when the editor closes is saved, not lost.
      if (s.hasData()) this.saveRun(withGauge(s.report(), this.monitors.get(s.id)));
      await s.close();
    }
  }
}

/** The report with the session's gauge history in it (when the gauge sampled anything). */
function withGauge(report: Report, monitor: ResourceMonitor | undefined): Report {
  if (monitor && monitor.history.count > 0) report.resources.gauge = monitor.history.data();
  return report;
}
