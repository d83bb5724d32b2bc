/**
 * Messages from an instrumented process (the runtime) to a collector (the `perf-lens run` CLI or
 * the insight language server). One JSON object per line (NDJSON) over a local socket.
 * The runtime sends `hello` first; the collector drops the connection if the token is wrong or
 * `protocol` is not one it speaks. Timings are integer nanoseconds; times of day are epoch ms.
 * Never one message per call: the runtime aggregates and ships deltas (default every 100 ms).
 * Version 2: a delta's functions travel as columns (`DeltaColumns`), not one object each.
 * Version 3: columns where a few functions differ travel as those exceptions (`SparseColumn`), and
 * the histogram of a single timed call is implied by its duration.
 * Version 4: the columns' histograms travel as text (`DeltaColumns.hist`, digits of HIST_DIGITS):
 * a third fewer bytes than JSON numbers, and the collector parses one string instead of thousands
 * of numbers.
 */
export const PROTOCOL_VERSION = 4;

/**
 * Digits of `DeltaColumns.hist`: each number (a non-negative integer) in base 32, least significant
 * digit first; its last digit is one of the first 32 characters (its value), every other digit one
 * of the last 32 (32 + its value). Base64url characters: nothing to escape in JSON.
 */
export const HIST_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Environment variables read by the runtime (set by the CLI or the extension). */
export const ENV = {
  /** Path of the collector's socket (Unix domain socket or Windows named pipe). */
  socket: 'PERF_LENS_SOCKET',
  /** Per-session random token, echoed in `hello`. */
  token: 'PERF_LENS_TOKEN',
  /** `adaptive` (default) | `full` | `sampled` | `count`. */
  mode: 'PERF_LENS_MODE',
  /** 1 in N calls timed in `sampled` mode (default 64). */
  sampleEvery: 'PERF_LENS_SAMPLE_EVERY',
  /** `1` to instrument code under node_modules. */
  includeNodeModules: 'PERF_LENS_INCLUDE_NODE_MODULES',
  /** JSON array of globs (absolute paths, or relative to PERF_LENS_ROOT). */
  include: 'PERF_LENS_INCLUDE',
  exclude: 'PERF_LENS_EXCLUDE',
  /** Directory that relative globs are resolved against (default: the cwd at start). */
  root: 'PERF_LENS_ROOT',
  /** Resource sampling interval in ms (default 100; 0 disables). */
  resourceIntervalMs: 'PERF_LENS_RESOURCE_INTERVAL_MS',
  /** Delta flush interval in ms (default 100). */
  flushIntervalMs: 'PERF_LENS_FLUSH_INTERVAL_MS',
  /**
   * When more functions changed than a delta carries (256, or a share of them), each one's news
   * may wait up to this many ms for its turn (default 1000: the editor refreshes lenses about once
   * a second; 0: every changed function in every delta).
   */
  spreadMs: 'PERF_LENS_SPREAD_MS',
  /** `1`: the runtime writes nothing to stderr (used by `perf-lens run --quiet`). */
  quiet: 'PERF_LENS_QUIET',
  /** Directory of the transform cache (default: the OS cache dir). `off` disables it. */
  cacheDir: 'PERF_LENS_CACHE_DIR',
  /** Session id chosen by the collector, echoed in `hello` (lets one server tell sessions apart). */
  session: 'PERF_LENS_SESSION',
} as const;

export type Mode = 'adaptive' | 'full' | 'sampled' | 'count';
export const MODES: readonly Mode[] = ['adaptive', 'full', 'sampled', 'count'];

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  token: string;
  session?: string;
  pid: number;
  ppid: number;
  /** 0 for the main thread; a worker thread reports on its own connection with its threadId. */
  threadId: number;
  argv: string[];
  execArgv: string[];
  cwd: string;
  node: string;
  mode: Mode;
  /** Epoch ms when the runtime started in this process/thread. */
  startedAt: number;
}

/** A newly instrumented function. Ids are unique per connection (process + thread). */
export interface FunctionDef {
  id: number;
  /** Readable name: `Class.method`, `get Class.prop`, `<anonymous>@line:col`, ... */
  name: string;
  /** Absolute path of the ORIGINAL source file (after source maps). */
  file: string;
  /** 1-based line and column of the function's start in the original source. */
  line: number;
  column: number;
  /** `async` = time to settle; `generator` = first resume to completion. */
  kind: 'sync' | 'async' | 'generator' | 'async-generator';
}

export interface FunctionsMessage {
  type: 'functions';
  defs: FunctionDef[];
}

/**
 * What changed for one function since the previous delta: the recorder's cut. On the wire a delta
 * carries its functions as `DeltaColumns`; collectors decode them back to these fields.
 */
export interface FunctionDelta {
  id: number;
  /** Every call is counted, whatever the mode. */
  calls: number;
  /** Calls that threw (sync) or rejected (async). */
  errors: number;
  /**
   * Calls timed in this interval (all in `full`, 1 in N when sampled, 0 in `count`). A call is
   * counted in the delta of the interval it started in and timed in the one it ended in, so a
   * delta may time more calls than it counts; over a whole connection timed ≤ calls.
   */
  timed: number;
  /** Sum of the timed durations, ns. */
  totalNs: number;
  /** Sum of the timed self durations (exclusive of instrumented callees), ns; absent if not measured. */
  selfNs?: number;
  /**
   * Optional, when sampling: estimated total duration of ALL `calls` in this delta, ns — each timed
   * duration weighted by its sampling period (1 for fully timed calls, N for a 1-in-N sample).
   * Without it the collector extrapolates `totalNs / timed * calls`, which over-weights the
   * (often cold, slower) fully timed first calls of adaptive mode.
   */
  estTotalNs?: number;
  /** Same estimate for `selfNs`. */
  estSelfNs?: number;
  /**
   * Optional, sync functions: recursion-aware total, ns — the sum of the timed durations of only
   * the calls that were not nested inside a timed call of the same function (so recursion is not
   * counted twice). Exact when every call is timed; when sampled, a nested call whose outer calls
   * were all sampled out counts as outermost (an over-estimate, never above `totalNs`).
   */
  inclusiveNs?: number;
  /**
   * Estimate of the recursion-aware total of ALL calls: exact for fully timed calls; a sampled
   * call is weighted by its sampling period times the share of outermost time measured while the
   * function was fully timed (the nesting of sampled calls is not seen).
   */
  estInclusiveNs?: number;
  minNs: number;
  maxNs: number;
  /** Sparse log-linear histogram of the timed durations: [bucketIndex, count, bucketIndex, count, ...]. */
  hist: number[];
}

/** A named block timed with the explicit API (`span`, `measure`). */
export interface SpanDelta extends Omit<FunctionDelta, 'id' | 'selfNs'> {
  name: string;
}

/** Hit/miss/eviction counts of a function wrapped with `memoize()`, since the previous delta. */
export interface MemoDelta {
  name: string;
  /** Where memoize() was called (absolute path, 1-based), if known. */
  file?: string;
  line?: number;
  hits: number;
  misses: number;
  evictions: number;
  size: number;
}

/**
 * One column of a delta: a number is that value for every function; an array has one value per
 * function; a `SparseColumn` is one value with exceptions. An absent column is 0 for every function.
 */
export type DeltaColumn = number | number[] | SparseColumn<number>;
/** A column of an optional field: absent = no function has the field; `null` = this one has not. */
export type OptionalDeltaColumn = number | (number | null)[] | SparseColumn<number | null>;

/**
 * `v` for every function except those at the indexes `at` (ascending, 0-based positions in the
 * delta), which have the values `x` (as long as `at`). Sent when most functions share one value
 * and a few do not (e.g. every function called once but the timer callback four times).
 */
export interface SparseColumn<T> {
  v: T;
  at: number[];
  x: T[];
}

/**
 * The functions of a delta, one column per field (parsing a few long arrays of small numbers is
 * much cheaper than thousands of objects). Values are integer ns; most are sent as the difference
 * to a related field, which is 0 in the common case (one call, fully timed, no instrumented callee,
 * no recursion), so whole columns collapse to `0` or vanish:
 *   id        = previous id + id (the first: -1 + id)            so ascending ids are all 1
 *   maxNs     = totalNs - maxNs                                   min = max = total for one call
 *   minNs     = maxNs - minNs
 *   selfNs    = totalNs - selfNs         (the time in instrumented callees)
 *   inclusiveNs = totalNs - inclusiveNs  (the time in recursive calls)
 *   estTotalNs     = totalNs + estTotalNs                         equal when fully timed
 *   estSelfNs      = (selfNs ?? 0) + estSelfNs
 *   estInclusiveNs = (inclusiveNs ?? 0) + estInclusiveNs
 * `hist` holds the functions' sparse histograms one after the other, `histLen[i]` numbers each
 * ([bucket, count, ...]; within one function every bucket after the first is sent as the step
 * from the previous bucket), written with HIST_DIGITS (e.g. [100, 1, 190, 1] is "kDB-FB"). A
 * function with `timed` 1 and `histLen` 0 has the histogram [bucketIndex(totalNs), 1]: one
 * call's histogram is its duration's bucket (the encoder sends it explicitly in the rare case
 * where rounding put the duration in another bucket).
 */
export interface DeltaColumns {
  id: DeltaColumn;
  calls?: DeltaColumn;
  errors?: DeltaColumn;
  timed?: DeltaColumn;
  totalNs?: DeltaColumn;
  maxNs?: DeltaColumn;
  minNs?: DeltaColumn;
  selfNs?: OptionalDeltaColumn;
  inclusiveNs?: OptionalDeltaColumn;
  estTotalNs?: OptionalDeltaColumn;
  estSelfNs?: OptionalDeltaColumn;
  estInclusiveNs?: OptionalDeltaColumn;
  histLen?: DeltaColumn;
  hist?: string;
}

export interface DeltaMessage {
  type: 'delta';
  /** Epoch ms when the delta was cut. */
  at: number;
  /** Number of functions in `cols`. */
  n: number;
  cols: DeltaColumns;
  spans?: SpanDelta[];
  memos?: MemoDelta[];
}

export interface ResourceSample {
  /** Epoch ms. */
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** CPU time consumed since the previous sample, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Length of the interval the CPU figures cover, ms. */
  intervalMs: number;
  /** Event-loop delay over the interval, ms. */
  eventLoopDelayP50Ms: number;
  eventLoopDelayP99Ms: number;
  /** Event-loop utilisation over the interval, 0..1. */
  eventLoopUtilization: number;
  activeHandles: number;
}

export interface ResourcesMessage {
  type: 'resources';
  samples: ResourceSample[];
}

/** One-time notices: a file left unmeasured after a transform error, a feature turned off, ... */
export interface WarningMessage {
  type: 'warning';
  message: string;
  file?: string;
}

export interface ByeMessage {
  type: 'bye';
  /** Why the process is ending: `exit`, `uncaughtException`, `unhandledRejection`, `SIGINT`, ... */
  reason: string;
  exitCode?: number;
}

export type RuntimeMessage =
  | HelloMessage
  | FunctionsMessage
  | DeltaMessage
  | ResourcesMessage
  | WarningMessage
  | ByeMessage;
