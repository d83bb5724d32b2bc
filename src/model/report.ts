/**
 * The Perf Lens report (what `perf-lens run` writes) and the ReportBuilder that assembles it from
 * runtime messages. Pure: the collector feeds messages in, the CLI/server decides where it goes.
 */
import type { GaugeHistoryData } from './gauge';
import type {
  DeltaMessage,
  FunctionDef,
  HelloMessage,
  MemoDelta,
  Mode,
  ResourceSample,
  RuntimeMessage,
} from '../protocol/runtime';
import { readDelta } from './delta-columns';
import { SUB_BUCKETS, type HistogramJSON } from './histogram';
import { DEFAULT_HISTORY, RingBuffer, SampleHistory, type NumericKeys } from './ring-buffer';
import { nsToMs, nsToMsOrNull } from './stats';
import { RecordStore } from './record-store';
import { TimingAgg, addRowsToRecords, nonNegative } from './timing-agg';

export const REPORT_SCHEMA_VERSION = 1;

/** Function ids index an array per connection; a larger id (a broken runtime) is looked up by key each time. */
const MAX_FUNCTION_ID = 1 << 24;

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
  /** Mean time per call, totalMs / calls (so an estimate when sampled); null when nothing was timed. */
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
  /**
   * Identity of the function's source text as it was measured (a hash of its start through the end
   * of its body; src/server/anchors.ts). The insight server writes it into the runs it saves, so a
   * run opened after the file changed still marks the function as changed since measured.
   */
  sourceHash?: string;
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

/** The report's timing statistics of an aggregate. */
function timingStats(agg: TimingAgg): TimingStats {
  const a = agg.all;
  const h = agg.hist;
  const buckets = h.toSparse();
  const [p50, p95, p99] = h.quantiles([0.5, 0.95, 0.99], buckets);
  return {
    calls: a.calls,
    errors: a.errors,
    timedCalls: a.timed,
    sampled: a.timed < a.calls,
    totalMs: nsToMs(a.estimatedTotalNs()),
    meanMs: nsToMsOrNull(a.meanNs()),
    p50Ms: nsToMsOrNull(p50),
    p95Ms: nsToMsOrNull(p95),
    p99Ms: nsToMsOrNull(p99),
    minMs: nsToMsOrNull(h.min),
    maxMs: nsToMsOrNull(h.max),
    histogram: { subBuckets: SUB_BUCKETS, buckets },
  };
}

/** The report of one function, or null when it was never called. */
function reportOf({ def, agg }: FunctionEntry): FunctionReport | null {
  if (agg.calls === 0) return null;
  const report: FunctionReport = {
    name: def.name,
    file: def.file,
    line: def.line,
    column: def.column,
    kind: def.kind,
    ...timingStats(agg),
    selfMs: agg.all.hasSelf ? nsToMs(agg.all.estimatedSelfNs()) : null,
    processes: shares(agg),
  };
  const inclusiveNs = agg.all.estimatedInclusiveNs();
  if (inclusiveNs !== undefined) report.inclusiveMs = nsToMs(inclusiveNs);
  return report;
}

/** Per-process split, highest total first. */
function shares(agg: TimingAgg): ProcessShare[] {
  // A loop, and a sort only for several processes: this runs for every function of a refreshed
  // file about once a second, and the closures of map/sort made it slow to compile in the server.
  const out: ProcessShare[] = [];
  for (const [pid, s] of agg.processes()) {
    out.push({ pid, calls: s.calls, errors: s.errors, timedCalls: s.timed, totalMs: nsToMs(s.estimatedTotalNs()), meanMs: nsToMsOrNull(s.meanNs()) });
  }
  return out.length > 1 ? out.sort(bySharedTotal) : out;
}

function bySharedTotal(a: ProcessShare, b: ProcessShare): number {
  return b.totalMs - a.totalMs || b.calls - a.calls || a.pid - b.pid;
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

/** A runtime's resource sample as reports hold it (CPU% derived); undefined when it is not an object. */
export function resourceSampleReport(s: ResourceSample, pid: number, threadId: number): ResourceSampleReport | undefined {
  if (!s || typeof s !== 'object') return undefined;
  return { ...s, pid, threadId, cpuPercent: cpuPercent(s) };
}

function cpuPercent(s: ResourceSample): number {
  const us = nonNegative(s.cpuUserUs) + nonNegative(s.cpuSystemUs);
  return s.intervalMs > 0 ? (us / 1000 / s.intervalMs) * 100 : 0;
}

interface Connection {
  hello?: HelloMessage;
  defs: Map<number, FunctionDef>;
  /** Function id -> its merged entry (ids are small and dense), so a delta does not rebuild the string key per function. */
  entries: (FunctionEntry | undefined)[];
  /** Function id -> where its rows go straight into the store (`TimingAgg.recordFor`), -1: through `entries`. */
  recordOf: Int32Array;
  /** Latest memo sizes by memo key (size is a level, not a delta). */
  memoSizes: Map<string, number>;
  resources?: SampleHistory<ResourceSampleReport>;
  bye?: { reason: string; exitCode: number | null };
  /** Set when the connection closed: how the process ended if no bye said it ('disconnected' unless the caller knows better). */
  closeReason?: string;
}

interface FunctionEntry {
  def: FunctionDef;
  agg: TimingAgg;
  /** The last report functionReportsIn made (null: none yet, or the function was never called). */
  report: FunctionReport | null;
  /** The aggregate's version `report` was made at (-1: none made yet). */
  reportVersion: number;
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
  private readonly functionsByFile = new Map<string, FunctionEntry[]>();
  /** Scratch: rows of the delta being merged that go through their entries. */
  private readonly rowsLeft: number[] = [];
  /**
   * Function rows of the deltas merged so far, and how many of them took the per-row path (a
   * function not seen yet, a count outside its histogram's window, a second process) instead of
   * addRowsToRecords: the share that costs several times as much (debug stats, benchmarks).
   */
  readonly rowStats = { rows: 0, perRow: 0 };
  /** The functions' sums and histogram scalars, side by side (see record-store.ts). */
  private readonly store = new RecordStore(16_384);
  private readonly spans = new Map<string, TimingAgg>();
  private readonly memos = new Map<string, MemoAgg>();
  private readonly allSamples: SampleHistory<ResourceSampleReport>;
  private readonly recentSamples: RingBuffer<ResourceSampleReport>;
  private readonly warnings: WarningReport[] = [];
  private readonly warningKeys = new Set<string>();
  private droppedWarnings = 0;
  private readonly maxWarnings: number;

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
      conn = { defs: new Map(), entries: [], recordOf: new Int32Array(0), memoSizes: new Map() };
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
            if (def.id < conn.entries.length) conn.entries[def.id] = undefined;
            if (def.id < conn.recordOf.length) conn.recordOf[def.id] = -1;
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

  /**
   * The connection ended (with or without a bye). `reason`: how the process ended if it sent no
   * bye (default 'disconnected', read as a crash); may be called again to correct it.
   */
  close(connectionId: string | number, reason = 'disconnected'): void {
    const conn = this.connections.get(connectionId);
    if (conn) conn.closeReason = reason;
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

  /** Reports of the called functions, highest total first. */
  functionReports(): FunctionReport[] {
    const functions: FunctionReport[] = [];
    for (const e of this.functions.values()) {
      const report = reportOf(e);
      if (report) functions.push(report);
    }
    return functions.sort(byTotalThenCalls);
  }

  /**
   * `functionReports` of one file's functions: live views (the lenses, about once a second) read
   * one file, not the whole report. A function no delta touched since the last call keeps its
   * report object (callers must not change them): a refresh usually follows a few of a file's
   * functions, not all.
   */
  functionReportsIn(file: string): FunctionReport[] {
    const functions: FunctionReport[] = [];
    for (const e of this.functionsByFile.get(file) ?? []) {
      const version = e.agg.version;
      if (e.reportVersion !== version) {
        e.report = reportOf(e);
        e.reportVersion = version;
      }
      if (e.report) functions.push(e.report);
    }
    return functions.sort(byTotalThenCalls);
  }

  /** Builds the report as of now (can be called repeatedly, e.g. for live views). */
  build(run: RunInput): Report {
    const processes = this.processReports();
    const root = processes.find((p) => p.pid === run.pid) ?? processes[0];
    const functions = this.functionReports();
    const spans: SpanReport[] = [...this.spans.entries()]
      .map(([name, agg]) => ({ name, ...timingStats(agg), processes: shares(agg) }))
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
      const entries = conn.entries;
      const ids = v.ids;
      // Most rows go straight into the store; the rest through the functions' entries.
      const rest = this.rowsLeft;
      rest.length = 0;
      addRowsToRecords(this.store.a, conn.recordOf, v, rest);
      this.rowStats.rows += v.n;
      this.rowStats.perRow += rest.length;
      for (const i of rest) {
        const id = ids[i];
        let entry = entries[id];
        if (!entry) {
          const def = conn.defs.get(id);
          if (!def) {
            this.warn(pid, `delta for unknown function id ${JSON.stringify(id)} (protocol error in the runtime)`, null);
            continue;
          }
          const key = `${def.file}\0${def.line}\0${def.column}\0${def.name}`;
          entry = this.functions.get(key);
          if (!entry) {
            this.functions.set(key, (entry = { def, agg: new TimingAgg(this.store), report: null, reportVersion: -1 }));
            let inFile = this.functionsByFile.get(def.file);
            if (!inFile) this.functionsByFile.set(def.file, (inFile = []));
            inFile.push(entry);
          }
          if (Number.isInteger(id) && id < MAX_FUNCTION_ID) entries[id] = entry;
        }
        try {
          entry.agg.addFromView(pid, v, i);
        } catch (err) {
          this.warnMalformed(pid, 'function', entry.def.name, err);
        }
        if (entries[id] === entry) this.setRecordOf(conn, id, entry.agg.recordFor(pid));
      }
    }
    for (const s of Array.isArray(msg.spans) ? msg.spans : []) {
      if (!s || typeof s.name !== 'string') continue;
      let agg = this.spans.get(s.name);
      if (!agg) this.spans.set(s.name, (agg = new TimingAgg()));
      try {
        agg.add(pid, s);
      } catch (err) {
        this.warnMalformed(pid, 'span', s.name, err);
      }
    }
    for (const m of Array.isArray(msg.memos) ? msg.memos : []) {
      if (m && typeof m.name === 'string') this.acceptMemo(conn, m);
    }
  }

  /** Sets conn.recordOf[id], growing it (with -1) as needed. */
  private setRecordOf(conn: Connection, id: number, offset: number): void {
    if (id >= conn.recordOf.length) {
      if (offset < 0) return;
      const grown = new Int32Array(Math.max(id + 1, 2 * conn.recordOf.length, 64)).fill(-1);
      grown.set(conn.recordOf);
      conn.recordOf = grown;
    }
    conn.recordOf[id] = offset;
  }

  /** An aggregate refused a delta (TimingAgg.add / addFromView throw before changing anything). */
  private warnMalformed(pid: number, kind: 'function' | 'span', name: string, err: unknown): void {
    this.warn(pid, `malformed delta for ${kind} ${name}: ${(err as Error).message}`, null);
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

  private acceptSample(conn: Connection, pid: number, s: ResourceSample): void {
    const sample = resourceSampleReport(s, pid, conn.hello?.threadId ?? 0);
    if (!sample) return;
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
      const exitReason = c.bye?.reason ?? c.closeReason ?? null;
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
