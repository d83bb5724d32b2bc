/**
 * Where lens numbers come from: a live session (a private collector socket + a ReportBuilder fed by
 * the runtimes) or a finished run (a report in memory, from a session that ended or a saved file).
 */
import * as crypto from 'crypto';
import { Collector, type CollectorConnection } from '../collector/collector';
import { readDeltaIds } from '../model/delta-columns';
import { ReportBuilder, resourceSampleReport, type FunctionReport, type Report, type ResourceSampleReport } from '../model/report';
import type { Mode, ResourceSample, RuntimeMessage } from '../protocol/runtime';
import type { ProcessInfo, SessionChangedParams, SessionInfo, SessionState } from '../protocol/lsp';

export interface Source {
  readonly id: string;
  readonly name: string;
  readonly state: SessionState;
  /** Epoch ms. */
  readonly startedAt: number;
  /** Functions of one file (original absolute path), highest total first. */
  functionsIn(file: string): FunctionReport[];
  /** Wall time covered so far, ms. */
  wallMs(): number;
  info(): SessionInfo;
  /** Has any function data. */
  hasData(): boolean;
}

/** A finished run: an immutable report indexed by file. */
export class RunSource implements Source {
  readonly state: SessionState;
  readonly startedAt: number;
  private readonly byFile = new Map<string, FunctionReport[]>();

  constructor(
    readonly id: string,
    readonly name: string,
    readonly report: Report,
    readonly runFile: string | null,
    state: SessionState = 'run',
  ) {
    this.state = state;
    this.startedAt = Date.parse(report.run.startedAt) || 0;
    for (const f of report.functions) {
      let list = this.byFile.get(f.file);
      if (!list) this.byFile.set(f.file, (list = []));
      list.push(f);
    }
  }

  functionsIn(file: string): FunctionReport[] {
    return this.byFile.get(file) ?? [];
  }

  wallMs(): number {
    return this.report.run.wallMs;
  }

  hasData(): boolean {
    return this.report.functions.length > 0;
  }

  info(): SessionInfo {
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      startedAt: this.report.run.startedAt,
      processes: this.report.processes.map((p) => ({
        pid: p.pid,
        threadId: 0,
        argv: p.argv,
        state: isCrash(p.exitReason) ? 'crashed' : 'exited',
        reason: p.exitReason,
        exitCode: p.exitCode,
      })),
      functions: this.report.functions.length,
      runFile: this.runFile,
    };
  }
}

/** Ways a process can end that mean it did not finish on its own terms. */
export function isCrash(reason: string | null): boolean {
  return reason === 'disconnected' || reason === 'uncaughtException' || reason === 'unhandledRejection';
}

export interface LiveSessionEvents {
  /** New deltas for these files arrived (at = Date.now() of arrival). */
  onData(session: LiveSession, files: ReadonlySet<string>, at: number): void;
  onChange(change: SessionChangedParams): void;
  /** An attach session's last process disconnected (its run can be cut). */
  onIdle?(session: LiveSession): void;
  log(message: string): void;
}

interface ProcessState extends ProcessInfo {
  connId: number;
  /** Date.now() when its connection closed. */
  closedAt?: number;
}

export interface LiveSessionOptions {
  name: string;
  mode: Mode;
  /** Attach sessions stay open across runs: each time the last process leaves, a run is cut. */
  attach?: boolean;
}

/**
 * Time spent merging held messages into builders, the deltas among them, their function rows and
 * the rows among those that took the per-row path (ReportBuilder.rowStats), in this process (debug stats).
 */
const merged = { ms: 0, deltas: 0, rows: 0, perRowRows: 0 };
export function mergeTotals(): typeof merged {
  return { ...merged };
}

/** Messages held before they are merged (see LiveSession.pending): at most this many, or this long. */
const MAX_PENDING = 64;
const MAX_PENDING_MS = 2000;

/** A live session: a private collector socket (0700 dir + token) feeding a ReportBuilder. */
export class LiveSession implements Source {
  readonly state: SessionState = 'live';
  startedAt = Date.now();
  deltasReceived = 0;
  private builder = new ReportBuilder();
  /**
   * Runtime messages not merged into the builder yet, in arrival order. Anything that reads the
   * builder merges them first (`flush`): lens requests come about once a second, so ~10 deltas
   * are merged back to back, while each function's record is still in the CPU's caches (one at a
   * time, 100 ms apart, the program and the rest of the machine had evicted them: twice the cost
   * at 5,000 functions per delta in bench/merge.js).
   */
  private pending: { connId: number; msg: RuntimeMessage }[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly processes = new Map<number, ProcessState>();
  /**
   * The newest runtime sample of each connection, taken on arrival: the gauge reads it every
   * second, and reading it from the builder would merge the held deltas each time (a second
   * merge a second besides the lenses', each starting with cold caches).
   */
  private readonly latestSamples = new Map<number, ResourceSample>();
  /**
   * Which files a delta touched, cheaply (a delta may list thousands of functions): files get small
   * slot numbers, each connection maps function id -> slot, and `touchedAt[slot]` holds the number
   * of the last delta that touched it (0: none since the session or its run started).
   */
  private readonly slotOfFile = new Map<string, number>();
  private readonly fileOfSlot: string[] = [];
  private readonly touchedAt: number[] = [];
  private readonly slotsByConn = new Map<number, number[]>();
  private deltaSeq = 0;
  /** Functions the runtimes announced (a function loaded by two processes counts twice). */
  private functionCount = 0;
  private hasDeltas = false;
  /** cwd of the first process that connected (the report's run.cwd). */
  private rootCwd: string | undefined;

  private constructor(
    readonly id: string,
    readonly options: LiveSessionOptions,
    private readonly events: LiveSessionEvents,
    private collector: Collector | undefined,
  ) {}

  get name(): string {
    return this.options.name;
  }

  get attach(): boolean {
    return this.options.attach === true;
  }

  get socketPath(): string {
    return this.collector!.socketPath;
  }

  get token(): string {
    return this.collector!.token;
  }

  static async start(options: LiveSessionOptions, events: LiveSessionEvents): Promise<LiveSession> {
    const id = `${options.attach ? 'attach' : 's'}-${crypto.randomBytes(6).toString('hex')}`;
    const session = new LiveSession(id, options, events, undefined);
    session.collector = await Collector.start({
      session: id,
      onMessage: (conn, msg) => session.accept(conn, msg),
      onClose: (conn) => session.closed(conn),
      log: (message) => session.rejected(message),
    });
    return session;
  }

  env(): Record<string, string> {
    return this.collector!.env();
  }

  /** Connected processes (main thread first) with the latest runtime sample of each thread, for the gauge. */
  runningProcesses(): { pid: number; samples: ResourceSampleReport[] }[] {
    const byPid = new Map<number, ProcessState[]>();
    for (const p of this.processes.values()) {
      if (p.state !== 'running') continue;
      let list = byPid.get(p.pid);
      if (!list) byPid.set(p.pid, (list = []));
      list.push(p);
    }
    return [...byPid].map(([pid, threads]) => ({
      pid,
      samples: threads
        .sort((a, b) => a.threadId - b.threadId)
        .flatMap((t) => {
          const newest = this.latestSamples.get(t.connId);
          return (newest && resourceSampleReport(newest, t.pid, t.threadId)) ?? [];
        }),
    }));
  }

  /** Processes that are still connected. */
  get running(): number {
    let n = 0;
    for (const p of this.processes.values()) if (p.state === 'running') n++;
    return n;
  }

  hasData(): boolean {
    return this.hasDeltas;
  }

  functionsIn(file: string): FunctionReport[] {
    this.flush();
    const slot = this.slotOfFile.get(file);
    // The builder keeps each function's report until a delta touches it: no cache of our own.
    return slot !== undefined && this.touchedAt[slot] ? this.builder.functionReportsIn(file) : [];
  }

  wallMs(): number {
    return Date.now() - this.startedAt;
  }

  info(): SessionInfo {
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      startedAt: new Date(this.startedAt).toISOString(),
      processes: [...this.processes.values()].map(({ connId: _c, ...p }) => p),
      functions: this.functionCount,
      runFile: null,
    };
  }

  /**
   * Waits up to graceMs for processes to disconnect, then returns the report (the session keeps
   * running for attach). `stoppedAt`: when the user stopped the debug session, if they did.
   */
  async finish(graceMs: number, exit: { exitCode?: number | null; signal?: string | null }, stoppedAt?: number): Promise<Report> {
    if (this.collector && this.collector.openConnections > 0) await this.collector.waitForIdle(graceMs);
    if (typeof stoppedAt === 'number' && Number.isFinite(stoppedAt)) this.stoppedByUser(stoppedAt);
    return this.report(exit);
  }

  /**
   * The user stopped the session at `at`: processes whose connection dropped since then without a
   * bye were ended by the debugger, not crashed. When the connections dropped, the server could not
   * tell and said 'ended abruptly'; the client knows, and the run records it.
   */
  private stoppedByUser(at: number): void {
    for (const p of this.processes.values()) {
      if (p.reason !== 'disconnected' || p.closedAt === undefined || p.closedAt < at) continue;
      p.reason = 'stopped';
      p.state = 'exited';
      this.builder.close(p.connId, 'stopped');
    }
  }

  report(exit: { exitCode?: number | null; signal?: string | null } = {}): Report {
    this.flush();
    const root = [...this.processes.values()].sort((a, b) => a.connId - b.connId)[0];
    return this.builder.build({
      command: root ? root.argv : [this.name],
      cwd: this.rootCwd ?? process.cwd(),
      startedAt: this.startedAt,
      wallMs: this.wallMs(),
      exitCode: exit.exitCode ?? root?.exitCode ?? null,
      signal: exit.signal ?? null,
      node: process.version,
      pid: root?.pid ?? null,
      mode: this.options.mode,
    });
  }

  /** Attach sessions: start over after a run was cut. */
  reset(): void {
    this.dropPending();
    this.builder = new ReportBuilder();
    this.processes.clear();
    this.latestSamples.clear();
    // File slots stay; no file is touched in the new run yet.
    this.slotsByConn.clear();
    this.touchedAt.fill(0);
    this.functionCount = 0;
    this.hasDeltas = false;
    this.deltasReceived = 0;
    this.rootCwd = undefined;
    this.startedAt = Date.now();
  }

  async close(): Promise<void> {
    await this.collector?.close();
    this.flush();
  }

  /** Merges the pending messages into the builder, back to back. */
  private flush(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.dropPending();
    const start = performance.now();
    const { rows, perRow } = this.builder.rowStats;
    for (const { connId, msg } of pending) {
      if (msg.type === 'delta') merged.deltas++;
      this.builder.accept(connId, msg);
    }
    merged.ms += performance.now() - start;
    merged.rows += this.builder.rowStats.rows - rows;
    merged.perRowRows += this.builder.rowStats.perRow - perRow;
  }

  private dropPending(): void {
    this.pending = [];
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  private accept(conn: CollectorConnection, msg: RuntimeMessage): void {
    this.pending.push({ connId: conn.id, msg });
    if (this.pending.length >= MAX_PENDING) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), MAX_PENDING_MS).unref();
    switch (msg.type) {
      case 'hello': {
        if (this.processes.size === 0) {
          if (this.attach) this.startedAt = Date.now();
          this.rootCwd = typeof msg.cwd === 'string' ? msg.cwd : undefined;
        }
        this.processes.set(conn.id, {
          connId: conn.id,
          pid: msg.pid,
          threadId: msg.threadId,
          argv: Array.isArray(msg.argv) ? msg.argv.map(String) : [],
          state: 'running',
          reason: null,
          exitCode: null,
        });
        const what = msg.threadId === 0 ? `process ${msg.pid}` : `worker ${msg.threadId} of process ${msg.pid}`;
        this.events.onChange({ sessionId: this.id, kind: 'processConnected', pid: msg.pid, message: `Perf Lens: measuring ${what} (${this.name})` });
        break;
      }
      case 'functions': {
        let slots = this.slotsByConn.get(conn.id);
        if (!slots) this.slotsByConn.set(conn.id, (slots = []));
        for (const d of Array.isArray(msg.defs) ? msg.defs : []) {
          if (!d || typeof d.file !== 'string' || !Number.isInteger(d.id) || d.id < 0) continue;
          let slot = this.slotOfFile.get(d.file);
          if (slot === undefined) {
            slot = this.fileOfSlot.push(d.file) - 1;
            this.slotOfFile.set(d.file, slot);
            this.touchedAt.push(0);
          }
          if (slots[d.id] === undefined) this.functionCount++;
          slots[d.id] = slot;
        }
        break;
      }
      case 'delta': {
        this.deltasReceived++;
        const at = Date.now();
        const slots = this.slotsByConn.get(conn.id);
        const ids = readDeltaIds(msg);
        if (!slots || typeof ids === 'string') break;
        const seq = ++this.deltaSeq;
        const touchedAt = this.touchedAt;
        let any = false;
        for (let i = 0; i < ids.length; i++) {
          const slot = slots[ids[i]];
          if (slot !== undefined) {
            touchedAt[slot] = seq;
            any = true;
          }
        }
        if (any) {
          this.hasDeltas = true;
          const touched = new Set<string>();
          for (let i = 0; i < touchedAt.length; i++) if (touchedAt[i] === seq) touched.add(this.fileOfSlot[i]);
          this.events.onData(this, touched, at);
        }
        break;
      }
      case 'resources': {
        const samples = Array.isArray(msg.samples) ? msg.samples : [];
        const newest: unknown = samples[samples.length - 1];
        if (newest && typeof newest === 'object') this.latestSamples.set(conn.id, newest as ResourceSample);
        break;
      }
      case 'bye': {
        const p = this.processes.get(conn.id);
        if (p) {
          p.reason = String(msg.reason);
          p.exitCode = typeof msg.exitCode === 'number' ? msg.exitCode : null;
        }
        break;
      }
      default:
        break;
    }
  }

  private closed(conn: CollectorConnection): void {
    // The report says how each process ended from the builder's view of its connection: merge
    // what it sent first (its hello and bye may still be held), then mark the connection closed.
    this.flush();
    this.builder.close(conn.id);
    const p = this.processes.get(conn.id);
    if (!p) return;
    p.closedAt = Date.now();
    p.reason ??= 'disconnected';
    const crashed = isCrash(p.reason);
    p.state = crashed ? 'crashed' : 'exited';
    const what = p.threadId === 0 ? `Process ${p.pid}` : `Worker ${p.threadId} of process ${p.pid}`;
    const message = crashed
      ? `Perf Lens: ${what} ended abruptly (${p.reason === 'disconnected' ? 'killed or crashed' : p.reason}); the data received so far is kept (${this.name})`
      : `Perf Lens: ${what} exited${p.reason && p.reason !== 'exit' ? ` (${p.reason})` : ''}${p.exitCode !== null ? ` with code ${p.exitCode}` : ''} (${this.name})`;
    this.events.onChange({ sessionId: this.id, kind: crashed ? 'processCrashed' : 'processExited', pid: p.pid, message });
    if (this.attach && this.running === 0) this.events.onIdle?.(this);
  }

  private rejected(message: string): void {
    this.events.log(`${message} (session ${this.name})`);
    if (message.includes('dropped runtime connection')) {
      this.events.onChange({ sessionId: this.id, kind: 'connectionRejected', message: `${message} (session ${this.name})` });
    }
  }
}
