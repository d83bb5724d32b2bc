/**
 * The Perf Lens report (what `perf-lens run` writes) and the ReportBuilder that assembles it from
 * runtime messages. Pure: the collector feeds messages in, the CLI/server decides where it goes.
 */
import type { GaugeHistoryData } from './gauge';
import type {
  DeltaMessage,
  FunctionDef,
  FunctionDelta,
  HelloMessage,
  MemoDelta,
  Mode,
  ResourceSample,
  RuntimeMessage,
  SpanDelta,
} from '../protocol/runtime';
import { fillRow, readDelta } from './delta-columns';
import { Histogram, type HistogramJSON } from './histogram';
import { DEFAULT_HISTORY, RingBuffer, SampleHistory, type NumericKeys } from './ring-buffer';
import { nsToMs, nsToMsOrNull, ratio } from './stats';

export const REPORT_SCHEMA_VERSION = 1;

export interface RunInfo {
  /** The measured command and its arguments, as given. */
  command: string[];
  cwd: string;
  /** ISO 8601 time the run started. */
  startedAt: string;
  /** Wall-clock duration of the run, ms. */
  wallMs: number;
  /** Exit code of the command (128 + signal number when it died by a signal); null if unknown. */
  exitCode: number | null;
  /** Signal that ended the command (e.g. `SIGTERM`), or null. */
  signal: string | null;
  /** Node version of the measured root process (or of the tool when it never connected). */
  node: string;
  /** pid of the spawned command, null if it never started. */
  pid: number | null;
  mode: Mode;
}

/** Timing statistics shared by functions and spans. All durations in ms. */
export interface TimingStats {
  /** Every call (exact, whatever the mode). */
  calls: number;
  /** Calls that threw or rejected. */
  errors: number;
  /** Calls that were timed (≤ calls). */
  timedCalls: number;
  /** True when timedCalls < calls: the durations below come from a sample. */
  sampled: boolean;
  /**
   * Total time of all calls: the exact sum when every call was timed; when sampled, an estimate
   * (each delta scaled by calls/timed, or the runtime's weighted estimate when it sends one).
   */
  totalMs: number;
  /** Mean over timed calls; null when nothing was timed. */
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  minMs: number | null;
  maxMs: number | null;
  /** Log-linear histogram of the timed durations in ns. */
  histogram: HistogramJSON;
}

/** One process's share of a function or span. */
export interface ProcessShare {
  pid: number;
  calls: number;
  errors: number;
  timedCalls: number;
  totalMs: number;
  meanMs: number | null;
}

export interface FunctionReport extends TimingStats {
  name: string;
  /** Absolute path of the original source file. */
  file: string;
  /** 1-based line and column of the function start in the original source. */
  line: number;
  column: number;
  kind: FunctionDef['kind'];
  /** Self time (exclusive of instrumented callees), estimated like totalMs; null if not measured. */
  selfMs: number | null;
  /**
   * Recursion-aware total (sync functions, when the runtime measured it): only calls not nested in
   * another call of the same function add their duration, so recursion is not counted twice (this
   * is the time the function was on the stack; `totalMs` sums every call's own duration). Exact
   * when every call was timed; when sampled, a nested call whose outer calls were sampled out
   * counts as outermost, so it can over-estimate (never above totalMs). Absent for async functions
   * and generators: their overlapping calls are real concurrency, and totalMs stays their total.
   */
  inclusiveMs?: number;
  /** Per-process split, highest total first. */
  processes: ProcessShare[];
}

export interface SpanReport extends TimingStats {
  name: string;
  processes: ProcessShare[];
}

export interface MemoReport {
  name: string;
  file: string | null;
  line: number | null;
  hits: number;
  misses: number;
  evictions: number;
  /** Latest reported cache size, summed over processes. */
  size: number;
  /** hits / (hits + misses), null before any lookup. */
  hitRate: number | null;
}

/** The numeric fields of a resource sample, plus derived CPU%. */
export interface ResourceFields {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** CPU time (user + system) over the interval, as % of one core. */
  cpuPercent: number;
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  eventLoopUtilization: number;
  activeHandles: number;
}

export interface ResourceSampleReport extends ResourceSample {
  pid: number;
  threadId: number;
  cpuPercent: number;
}

export interface ProcessResources {
  pid: number;
  threadId: number;
  sampleCount: number;
  avg: ResourceFields;
  peak: ResourceFields;
}

export interface ResourcesReport {
  /** Samples received (all processes). */
  sampleCount: number;
  /** The most recent samples (bounded), oldest first. */
  samples: ResourceSampleReport[];
  /** Average/peak per sample over every sample of every process; null without samples. */
  avg: ResourceFields | null;
  peak: ResourceFields | null;
  processes: ProcessResources[];
  /** The editor's resource gauge of the run (src/model/gauge.ts); absent in CLI reports. */
  gauge?: GaugeHistoryData;
}

export interface ProcessReport {
  pid: number;
  ppid: number;
  argv: string[];
  execArgv: string[];
  cwd: string;
  node: string;
  mode: Mode;
  /** ISO time the runtime started in this process. */
  startedAt: string;
  /** Thread ids that reported (0 = main thread). */
  threads: number[];
  /** Why it ended (`exit`, `uncaughtException`, `SIGINT`, ... or `disconnected` without a bye); null while running. */
  exitReason: string | null;
  exitCode: number | null;
}

export interface WarningReport {
  pid: number | null;
  message: string;
  file: string | null;
}

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  run: RunInfo;
  /** Functions that were called, highest total first (inclusiveMs when present, else totalMs). */
  functions: FunctionReport[];
  spans: SpanReport[];
  memos: MemoReport[];
  resources: ResourcesReport;
  processes: ProcessReport[];
  warnings: WarningReport[];
}

/* ------------------------------------------------------------------------------------------ */

/**
 * Sums of deltas plus an estimate of the total time of ALL calls. When the runtime sends its
 * weighted estimate (each timed call weighted by the sampling period it stands for), those are
 * summed: unbiased whatever the sampling rate did over time. Otherwise each delta is extrapolated
 * on its own (one global ratio would over-weight the fully timed first calls of adaptive mode),
 * and calls of deltas in which nothing was timed are costed at the overall mean at the end.
 * A call is counted by the delta in which it started and timed by the one in which it ended, so
 * one delta may time more calls than it counts (an async call spanning a cut); over the whole run
 * timed ≤ calls.
 */
class Totals {
  calls = 0;
  errors = 0;
  timed = 0;
  totalNs = 0;
  selfNs = 0;
  hasSelf = false;
  /** Recursion-aware sums (see FunctionReport.inclusiveMs); a delta without them counts its totalNs. */
  inclNs = 0;
  hasIncl = false;
  private estNs = 0;
  private estSelfNs = 0;
  private estInclNs = 0;
  private untimedCalls = 0;

  add(d: DeltaLike): void {
    const calls = nonNegative(d.calls);
    const timed = nonNegative(d.timed);
    const totalNs = nonNegative(d.totalNs);
    const selfNs = typeof d.selfNs === 'number' ? nonNegative(d.selfNs) : undefined;
    this.calls += calls;
    this.errors += nonNegative(d.errors);
    this.timed += timed;
    this.totalNs += totalNs;
    if (selfNs !== undefined) {
      this.selfNs += selfNs;
      this.hasSelf = true;
    }
    const inclNs = typeof d.inclusiveNs === 'number' ? Math.min(nonNegative(d.inclusiveNs), totalNs) : totalNs;
    this.inclNs += inclNs;
    if (typeof d.inclusiveNs === 'number') this.hasIncl = true;
    if (typeof d.estTotalNs === 'number') {
      const estNs = nonNegative(d.estTotalNs);
      this.estNs += estNs;
      this.estSelfNs += typeof d.estSelfNs === 'number' ? nonNegative(d.estSelfNs) : (selfNs ?? 0);
      this.estInclNs += typeof d.estInclusiveNs === 'number' ? Math.min(nonNegative(d.estInclusiveNs), estNs) : estNs;
    } else if (timed === 0) {
      this.untimedCalls += calls;
    } else if (timed >= calls) {
      this.estNs += totalNs;
      this.estSelfNs += selfNs ?? 0;
      this.estInclNs += inclNs;
    } else {
      const scale = calls / timed;
      this.estNs += totalNs * scale;
      this.estSelfNs += (selfNs ?? 0) * scale;
      this.estInclNs += inclNs * scale;
    }
  }

  copy(): Totals {
    return Object.assign(new Totals(), this);
  }

  /** Estimated total over all calls (exact when every call was timed). */
  estimatedTotalNs(): number {
    const mean = ratio(this.totalNs, this.timed) ?? 0;
    return this.estNs + this.untimedCalls * mean;
  }

  estimatedSelfNs(): number {
    const mean = ratio(this.selfNs, this.timed) ?? 0;
    return this.estSelfNs + this.untimedCalls * mean;
  }

  /** Recursion-aware estimate, never above estimatedTotalNs(); undefined when never measured. */
  estimatedInclusiveNs(): number | undefined {
    if (!this.hasIncl) return undefined;
    const mean = ratio(this.inclNs, this.timed) ?? 0;
    return Math.min(this.estInclNs + this.untimedCalls * mean, this.estimatedTotalNs());
  }
}

type DeltaLike = Omit<SpanDelta, 'name'> & { selfNs?: number; estSelfNs?: number; inclusiveNs?: number; estInclusiveNs?: number };

class TimingAgg {
  readonly all = new Totals();
  readonly hist = new Histogram();
  /**
   * Per-process sums, created when a second process reports: until then every delta came from
   * `firstPid`, whose share is `all` itself (the same additions in the same order), so the common
   * single-process case does not add each delta twice.
   */
  private byPid: Map<number, Totals> | null = null;
  private firstPid: number | undefined;

  get calls(): number {
    return this.all.calls;
  }

  /** Adds one delta; throws on a malformed histogram before changing anything (the caller turns that into a warning). */
  add(pid: number, d: DeltaLike): void {
    const timed = nonNegative(d.timed);
    if (timed > 0 && Array.isArray(d.hist)) {
      this.hist.addSparseExact(d.hist, nonNegative(d.totalNs), finiteOr(d.minNs), finiteOr(d.maxNs));
    }
    if (this.byPid === null) {
      this.firstPid ??= pid;
      if (pid === this.firstPid) {
        this.all.add(d);
        return;
      }
      this.byPid = new Map([[this.firstPid, this.all.copy()]]);
    }
    this.all.add(d);
    let share = this.byPid.get(pid);
    if (!share) this.byPid.set(pid, (share = new Totals()));
    share.add(d);
  }

  stats(): TimingStats {
    const a = this.all;
    const h = this.hist;
    return {
      calls: a.calls,
      errors: a.errors,
      timedCalls: a.timed,
      sampled: a.timed < a.calls,
      totalMs: nsToMs(a.estimatedTotalNs()),
      meanMs: nsToMsOrNull(ratio(a.totalNs, a.timed)),
      p50Ms: nsToMsOrNull(h.quantile(0.5)),
      p95Ms: nsToMsOrNull(h.quantile(0.95)),
      p99Ms: nsToMsOrNull(h.quantile(0.99)),
      minMs: nsToMsOrNull(h.min),
      maxMs: nsToMsOrNull(h.max),
      histogram: h.toJSON(),
    };
  }

  selfMs(): number | null {
    return this.all.hasSelf ? nsToMs(this.all.estimatedSelfNs()) : null;
  }

  inclusiveMs(): number | undefined {
    const ns = this.all.estimatedInclusiveNs();
    return ns === undefined ? undefined : nsToMs(ns);
  }

  shares(): ProcessShare[] {
    const byPid = this.byPid ?? new Map(this.firstPid === undefined ? [] : [[this.firstPid, this.all]]);
    return [...byPid.entries()]
      .map(([pid, s]) => ({
        pid,
        calls: s.calls,
        errors: s.errors,
        timedCalls: s.timed,
        totalMs: nsToMs(s.estimatedTotalNs()),
        meanMs: nsToMsOrNull(ratio(s.totalNs, s.timed)),
      }))
      .sort((a, b) => b.totalMs - a.totalMs || b.calls - a.calls || a.pid - b.pid);
  }
}

function nonNegative(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

function finiteOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

const RESOURCE_FIELDS: readonly NumericKeys<ResourceSampleReport>[] = [
  'rss', 'heapUsed', 'heapTotal', 'external', 'cpuPercent',
  'eventLoopDelayP50Ms', 'eventLoopDelayP99Ms', 'eventLoopUtilization', 'activeHandles',
];

function pickFields(v: Record<string, number> | undefined): ResourceFields {
  const out = {} as Record<string, number>;
  for (const f of RESOURCE_FIELDS) out[f] = v?.[f] ?? 0;
  return out as unknown as ResourceFields;
}

function cpuPercent(s: ResourceSample): number {
  const us = nonNegative(s.cpuUserUs) + nonNegative(s.cpuSystemUs);
  return s.intervalMs > 0 ? (us / 1000 / s.intervalMs) * 100 : 0;
}

interface Connection {
  hello?: HelloMessage;
  defs: Map<number, FunctionDef>;
  /** Function id -> its merged entry, so a delta does not rebuild the string key per function. */
  entries: Map<number, FunctionEntry>;
  /** Latest memo sizes by memo key (size is a level, not a delta). */
  memoSizes: Map<string, number>;
  resources?: SampleHistory<ResourceSampleReport>;
  bye?: { reason: string; exitCode: number | null };
  closed: boolean;
}

interface FunctionEntry {
  def: FunctionDef;
  agg: TimingAgg;
}

/** Running sums of one memoized function (size and hit rate are derived when the report is built). */
type MemoAgg = Pick<MemoReport, 'name' | 'file' | 'line' | 'hits' | 'misses' | 'evictions'>;

export interface ReportBuilderOptions {
  /** Resource samples kept in the report (the most recent; default 1000). */
  maxResourceSamples?: number;
  /** Warnings kept (default 200); more are counted in one final warning. */
  maxWarnings?: number;
}

/** What the caller knows about the run when it builds the report. */
export interface RunInput {
  command: string[];
  cwd: string;
  startedAt: number | Date;
  wallMs: number;
  exitCode: number | null;
  signal?: string | null;
  /** Node version to report when the root process never connected. */
  node: string;
  pid: number | null;
  mode: Mode;
}

/**
 * Merges runtime messages from any number of connections (one per process or worker thread) into
 * one report. Functions with the same file:line:column:name from different processes merge into
 * one entry with a per-process split. Malformed input never throws: it becomes a warning.
 */
export class ReportBuilder {
  private readonly connections = new Map<string | number, Connection>();
  private readonly functions = new Map<string, FunctionEntry>();
  private readonly spans = new Map<string, TimingAgg>();
  private readonly memos = new Map<string, MemoAgg>();
  private readonly allSamples: SampleHistory<ResourceSampleReport>;
  private readonly recentSamples: RingBuffer<ResourceSampleReport>;
  private readonly warnings: WarningReport[] = [];
  private readonly warningKeys = new Set<string>();
  private droppedWarnings = 0;
  private readonly maxWarnings: number;
  /** Scratch row that each function of a delta is decoded into. */
  private readonly row = {} as FunctionDelta;

  constructor(options: ReportBuilderOptions = {}) {
    const keep = options.maxResourceSamples ?? DEFAULT_HISTORY;
    this.allSamples = new SampleHistory<ResourceSampleReport>(RESOURCE_FIELDS, 1);
    this.recentSamples = new RingBuffer<ResourceSampleReport>(keep);
    this.maxWarnings = options.maxWarnings ?? 200;
  }

  /** Feeds one message received on a connection (any stable id the collector picks). */
  accept(connectionId: string | number, msg: RuntimeMessage): void {
    let conn = this.connections.get(connectionId);
    if (!conn) {
      conn = { defs: new Map(), entries: new Map(), memoSizes: new Map(), closed: false };
      this.connections.set(connectionId, conn);
    }
    if (msg.type === 'hello') {
      conn.hello = msg;
      return;
    }
    const pid = conn.hello?.pid;
    if (pid === undefined) return; // the collector only forwards messages after a valid hello
    switch (msg.type) {
      case 'functions':
        for (const def of Array.isArray(msg.defs) ? msg.defs : []) {
          if (def && typeof def.id === 'number') {
            conn.defs.set(def.id, def);
            conn.entries.delete(def.id);
          }
        }
        break;
      case 'delta':
        this.acceptDelta(conn, pid, msg);
        break;
      case 'resources':
        for (const s of Array.isArray(msg.samples) ? msg.samples : []) this.acceptSample(conn, pid, s);
        break;
      case 'warning':
        // The runtime prints the same text to stderr with our prefix; the report does not need it.
        this.warn(pid, String(msg.message).replace(/^perf-lens: /, ''), typeof msg.file === 'string' ? msg.file : null);
        break;
      case 'bye':
        conn.bye = { reason: String(msg.reason), exitCode: typeof msg.exitCode === 'number' ? msg.exitCode : null };
        break;
      default:
        this.warn(pid, `unknown runtime message type ${JSON.stringify((msg as { type?: unknown }).type)}`, null);
    }
  }

  /** The connection ended (with or without a bye). */
  close(connectionId: string | number): void {
    const conn = this.connections.get(connectionId);
    if (conn) conn.closed = true;
  }

  /** Adds a warning of the tool itself (not from a runtime). */
  warn(pid: number | null, message: string, file: string | null): void {
    const key = `${pid}\0${message}\0${file}`;
    if (this.warningKeys.has(key)) return;
    this.warningKeys.add(key);
    if (this.warnings.length >= this.maxWarnings) {
      this.droppedWarnings++;
      return;
    }
    this.warnings.push({ pid, message, file });
  }

  /**
   * Reports of the called functions accepted by `filter` (all by default), highest total first.
   * Live views (the language server) ask for one file's functions without building the whole report.
   */
  functionReports(filter?: (def: Readonly<FunctionDef>) => boolean): FunctionReport[] {
    const functions: FunctionReport[] = [];
    for (const { def, agg } of this.functions.values()) {
      if (agg.calls === 0 || (filter && !filter(def))) continue;
      const report: FunctionReport = {
        name: def.name,
        file: def.file,
        line: def.line,
        column: def.column,
        kind: def.kind,
        ...agg.stats(),
        selfMs: agg.selfMs(),
        processes: agg.shares(),
      };
      const inclusiveMs = agg.inclusiveMs();
      if (inclusiveMs !== undefined) report.inclusiveMs = inclusiveMs;
      functions.push(report);
    }
    return functions.sort(byTotalThenCalls);
  }

  /** Builds the report as of now (can be called repeatedly, e.g. for live views). */
  build(run: RunInput): Report {
    const processes = this.processReports();
    const root = processes.find((p) => p.pid === run.pid) ?? processes[0];
    const functions = this.functionReports();
    const spans: SpanReport[] = [...this.spans.entries()]
      .map(([name, agg]) => ({ name, ...agg.stats(), processes: agg.shares() }))
      .sort(byTotalThenCalls);
    const warnings = [...this.warnings];
    if (this.droppedWarnings > 0) warnings.push({ pid: null, message: `${this.droppedWarnings} more warnings not shown`, file: null });
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      run: {
        command: [...run.command],
        cwd: run.cwd,
        startedAt: new Date(run.startedAt).toISOString(),
        wallMs: run.wallMs,
        exitCode: run.exitCode,
        signal: run.signal ?? null,
        node: root?.node ?? run.node,
        pid: run.pid,
        mode: run.mode,
      },
      functions,
      spans,
      memos: this.memoReports(),
      resources: this.resourcesReport(),
      processes,
      warnings,
    };
  }

  private acceptDelta(conn: Connection, pid: number, msg: DeltaMessage): void {
    const v = readDelta(msg);
    if (typeof v === 'string') {
      this.warn(pid, `malformed delta (${v}; protocol error in the runtime)`, null);
    } else {
      // One reused row: TimingAgg.add reads it and keeps nothing.
      const row = this.row;
      const entries = conn.entries;
      for (let i = 0; i < v.n; i++) {
        const id = v.ids[i];
        let entry = entries.get(id);
        if (!entry) {
          const def = conn.defs.get(id);
          if (!def) {
            this.warn(pid, `delta for unknown function id ${JSON.stringify(id)} (protocol error in the runtime)`, null);
            continue;
          }
          const key = `${def.file}\0${def.line}\0${def.column}\0${def.name}`;
          entry = this.functions.get(key);
          if (!entry) this.functions.set(key, (entry = { def, agg: new TimingAgg() }));
          entries.set(id, entry);
        }
        this.safeAdd(entry.agg, pid, fillRow(v, i, row), 'function', entry.def.name);
      }
    }
    for (const s of Array.isArray(msg.spans) ? msg.spans : []) {
      if (!s || typeof s.name !== 'string') continue;
      let agg = this.spans.get(s.name);
      if (!agg) this.spans.set(s.name, (agg = new TimingAgg()));
      this.safeAdd(agg, pid, s, 'span', s.name);
    }
    for (const m of Array.isArray(msg.memos) ? msg.memos : []) {
      if (m && typeof m.name === 'string') this.acceptMemo(conn, m);
    }
  }

  private safeAdd(agg: TimingAgg, pid: number, d: Omit<SpanDelta, 'name'>, kind: 'function' | 'span', name: string): void {
    try {
      agg.add(pid, d);
    } catch (err) {
      this.warn(pid, `malformed delta for ${kind} ${name}: ${(err as Error).message}`, null);
    }
  }

  private acceptMemo(conn: Connection, m: MemoDelta): void {
    const file = typeof m.file === 'string' ? m.file : null;
    const line = typeof m.line === 'number' ? m.line : null;
    const key = `${m.name}\0${file}\0${line}`;
    let agg = this.memos.get(key);
    if (!agg) this.memos.set(key, (agg = { name: m.name, file, line, hits: 0, misses: 0, evictions: 0 }));
    agg.hits += nonNegative(m.hits);
    agg.misses += nonNegative(m.misses);
    agg.evictions += nonNegative(m.evictions);
    conn.memoSizes.set(key, nonNegative(m.size));
  }

  /** The newest resource sample a connection sent (CPU% derived), if any: the gauge's runtime figures. */
  latestResources(connectionId: string | number): ResourceSampleReport | undefined {
    return this.connections.get(connectionId)?.resources?.last();
  }

  private acceptSample(conn: Connection, pid: number, s: ResourceSample): void {
    if (!s || typeof s !== 'object') return;
    const sample: ResourceSampleReport = { ...s, pid, threadId: conn.hello?.threadId ?? 0, cpuPercent: cpuPercent(s) };
    if (!conn.resources) conn.resources = new SampleHistory<ResourceSampleReport>(RESOURCE_FIELDS, 1);
    conn.resources.push(sample);
    this.allSamples.push(sample);
    this.recentSamples.push(sample);
  }

  private memoReports(): MemoReport[] {
    return [...this.memos.entries()]
      .map(([key, m]) => {
        let size = 0;
        for (const c of this.connections.values()) size += c.memoSizes.get(key) ?? 0;
        const lookups = m.hits + m.misses;
        return { ...m, size, hitRate: lookups > 0 ? m.hits / lookups : null };
      })
      .sort((a, b) => b.hits + b.misses - (a.hits + a.misses) || a.name.localeCompare(b.name));
  }

  private resourcesReport(): ResourcesReport {
    const processes: ProcessResources[] = [];
    for (const c of this.connections.values()) {
      if (!c.hello || !c.resources || c.resources.count === 0) continue;
      processes.push({
        pid: c.hello.pid,
        threadId: c.hello.threadId,
        sampleCount: c.resources.count,
        avg: pickFields(c.resources.avg()),
        peak: pickFields(c.resources.peak()),
      });
    }
    const any = this.allSamples.count > 0;
    return {
      sampleCount: this.allSamples.count,
      samples: this.recentSamples.toArray(),
      avg: any ? pickFields(this.allSamples.avg()) : null,
      peak: any ? pickFields(this.allSamples.peak()) : null,
      processes,
    };
  }

  private processReports(): ProcessReport[] {
    const byPid = new Map<number, ProcessReport>();
    // Main threads first so their argv/ppid describe the process; workers only add a thread id.
    const conns = [...this.connections.values()].filter((c) => c.hello);
    conns.sort((a, b) => a.hello!.threadId - b.hello!.threadId);
    for (const c of conns) {
      const h = c.hello!;
      const exitReason = c.bye?.reason ?? (c.closed ? 'disconnected' : null);
      const existing = byPid.get(h.pid);
      if (existing) {
        if (!existing.threads.includes(h.threadId)) existing.threads.push(h.threadId);
        continue;
      }
      byPid.set(h.pid, {
        pid: h.pid,
        ppid: h.ppid,
        argv: Array.isArray(h.argv) ? h.argv.map(String) : [],
        execArgv: Array.isArray(h.execArgv) ? h.execArgv.map(String) : [],
        cwd: String(h.cwd ?? ''),
        node: String(h.node ?? ''),
        mode: h.mode,
        startedAt: new Date(typeof h.startedAt === 'number' ? h.startedAt : 0).toISOString(),
        threads: [h.threadId],
        exitReason,
        exitCode: c.bye?.exitCode ?? null,
      });
    }
    return [...byPid.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.pid - b.pid);
  }
}

type Ranked = TimingStats & { name: string; inclusiveMs?: number };

/** Highest run total first: the recursion-aware total when there is one. */
function byTotalThenCalls(a: Ranked, b: Ranked): number {
  return (b.inclusiveMs ?? b.totalMs) - (a.inclusiveMs ?? a.totalMs) || b.calls - a.calls || a.name.localeCompare(b.name);
}
