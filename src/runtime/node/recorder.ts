/**
 * The recorder: what transformed code calls (abi.ts FileRecorder) and the explicit API uses.
 * Aggregates in-process into per-file typed arrays indexed by the local function index; `cut()`
 * returns what changed since the previous cut and zeroes the interval counters. No I/O here.
 *
 * Hot path: no allocation per call, clock reads only for timed calls. An untimed call runs inline in
 * the transformed code (abi.ts) and calls nothing here: it decrements its countdown `c[i]` and adds
 * its mean self time `m[i]` to the accumulator `a[0]`. Calls are not counted separately but derived
 * from the countdown (calls = completed gaps + how far the current gap has run down); in count mode
 * the countdown just keeps going down (Float64Array: no wrap-around).
 * t()/s() never return a heap number (a boxed double per call would feed the GC): a timed call gets
 * its frame index on a small stack (start time and acc live in the frame), an untimed call -1.
 * Recursion: `owner[i]` is the frame of function i's outermost timed call in progress; only that
 * call adds to the recursion-aware total (inclusiveNs), so nested calls are not counted twice.
 * Exact while a function is fully timed. Sampled calls have untimed callers we do not see: their
 * weighted estimate uses the share of outermost time measured while the function was fully timed
 * (the first ADAPT_FIRST calls in adaptive mode) — approximate when the recursion pattern changes.
 * Self time of sync functions: `acc` is the time accumulated so far by finished calls. A timed
 * call remembers acc at its start; at return its child time is acc - that, and it sets acc = that +
 * its duration (its whole subtree replaced by its measured duration). An untimed (sampled-out)
 * call only adds its function's running mean SELF time to acc: its timed descendants add their
 * own durations and its untimed ones their mean self times, so a timed caller's child time is an
 * unbiased estimate, and an untimed call costs no stack work. Async functions and generators stay
 * off this accounting (other calls interleave with their awaits).
 *
 * Adaptive mode (the default), per function:
 *   - every call is counted; calls are timed until the function has ADAPT_FIRST (256) timed calls;
 *   - then, with m its mean SELF duration (total for async/generators: what timing a call adds is
 *     judged against the time the program itself spends there) and COST_NS the cost of timing one
 *     call, it is timed 1 in
 *     N = ceil(COST_NS / (TARGET_OVERHEAD · m)) calls (N ≤ MAX_SAMPLE_EVERY), i.e. timing adds at
 *     most ~TARGET_OVERHEAD (1.5%) of its own time; N = 1 (full timing) when m ≥ COST_NS / 1.5% ≈ 33 µs.
 *     1.5% is half the 3% overhead target: the other half pays for every call's inline countdown and
 *     self-time bookkeeping and the fully timed first calls (bench/overhead.js measured 4.9% on
 *     2 µs functions with a 3% timing budget);
 *   - N is re-evaluated after every further ADAPT_AFTER (1000) timed calls from those alone (so a
 *     warm-up or a GC pause in one window does not stick, and a function that becomes slow returns
 *     to full timing). This happens in the hot path, not at cuts: a long synchronous computation
 *     gets no cuts. Sampled gaps are randomised (uniform 1..2N-1, mean N) against aliasing.
 */
import { bucketIndex, Histogram } from '../../model/histogram';
import type { FunctionDef, FunctionDelta, MemoDelta, Mode, SpanDelta } from '../../protocol/runtime';
import type { FileRecorder, FnTuple, MemoCounters } from './abi';

/** Timed calls before the first adaptive decision, and between later ones. */
export const ADAPT_FIRST = 256;
export const ADAPT_AFTER = 1000;
/**
 * What timing one call really costs in a real program: two clock reads (~2 x 45 ns) plus the
 * histogram and frame work and the cache misses and garbage they cause. bench/overhead.js measures
 * ~75 ns in a tight loop but ~400-500 ns per timed call inside acorn and in ~2 µs functions.
 */
export const COST_NS = 500;
export const TARGET_OVERHEAD = 0.015;
/**
 * Outliers in sampled calls. A sampled call stands for `every` calls, but a duration far above
 * the function's mean is mostly a one-off event that landed in it (a GC pause, the OS descheduling
 * the process, a compile): counted `every` times, one such call moved a sampled function's
 * estimated total several-fold from run to run (isPrime in examples/primes: 55 to 245 ms over 8
 * runs, once 114% of the run). So the part of a sampled call's duration above OUTLIER_FACTOR x
 * the function's mean so far is counted once, as it was seen (one-sided winsorisation, the usual
 * survey-sampling cure for outliers). Trade-off: a genuinely bimodal function whose rare slow calls
 * exceed that bound is estimated low in sampled mode (exact when fully timed).
 */
export const OUTLIER_FACTOR = 32;
/** Timed calls before a function's mean is trusted as the outlier bound's base. */
const OUTLIER_MIN_TIMED = 32;
/** Tiny hot functions: 1 in 4096 still gives thousands of timed calls in a storm of millions. */
export const MAX_SAMPLE_EVERY = 4096;
/** Histogram slots allocated at a function's first timed call (covers up to ~1 ms); grown on demand. */
const INITIAL_HIST = 512;

const KIND_NAMES: FunctionDef['kind'][] = ['sync', 'async', 'generator', 'async-generator'];

export type Clock = () => number;

/** ms clock (performance.now) by default; injectable for tests. */
export interface RecorderOptions {
  mode: Mode;
  sampleEvery: number;
  now?: Clock;
}

export interface Cut {
  defs: FunctionDef[];
  fns: FunctionDelta[];
  spans: SpanDelta[];
  memos: MemoDelta[];
}

/** Interval statistics of one named span (spans are rare: the model's Histogram is fine here). */
class SpanStats {
  errors = 0;
  readonly hist = new Histogram();
  constructor(readonly name: string) {}
}

class MemoStats implements MemoCounters {
  hits = 0;
  misses = 0;
  evictions = 0;
  current = 0;
  changed = false;
  constructor(readonly name: string, readonly file?: string, readonly line?: number) {}
  hit(): void { this.hits++; this.changed = true; }
  miss(): void { this.misses++; this.changed = true; }
  evict(n = 1): void { this.evictions += n; this.changed = true; }
  size(n: number): void { if (n !== this.current) { this.current = n; this.changed = true; } }
}

/** Per-file state: fixed-size typed arrays indexed by the file's local function index, so the
 * per-call closures capture them directly (no growth, no global id arithmetic). */
class FileData {
  readonly n: number;
  // Interval counters (zeroed at each cut).
  /** Calls in gaps completed since the last cut (see `callsOf`). */
  readonly callsDone: Float64Array;
  readonly errors: Uint32Array;
  readonly timed: Uint32Array;
  readonly total: Float64Array;
  readonly self: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  /** Timed durations weighted by the sampling period they stand for: estimated totals of ALL calls (outliers counted once, see OUTLIER_FACTOR). */
  readonly estTotal: Float64Array;
  readonly estSelf: Float64Array;
  readonly hists: (Uint32Array | undefined)[];
  // Cumulative, for sampling decisions and self-time estimates.
  readonly cumTimed: Float64Array;
  readonly cumTotal: Float64Array;
  readonly cumSelf: Float64Array;
  /** Running mean self time (sync): what a sampled-out call adds to its caller's child time. */
  readonly meanSelf: Float64Array;
  readonly meanTotal: Float64Array;
  /** Adaptive window: timed calls and their self (sync) or total (async) ns since the last decision. */
  readonly winTimed: Uint32Array;
  readonly winCost: Float64Array;
  /** Sampling period: 1 = every call, N = 1 in N, 0 = never (count mode). */
  readonly every: Int32Array;
  /** Calls left until the next timed one, and the length of the gap it counts down from. */
  readonly countdown: Float64Array;
  readonly gapLen: Float64Array;
  readonly kind: Uint8Array;
  /**
   * Recursion: the frame of this function's outermost timed call in progress (0: none). Only that
   * call adds to `incl`, so nested (recursive) timed calls are not counted twice in the total.
   */
  readonly owner: Int32Array;
  readonly incl: Float64Array;
  readonly estIncl: Float64Array;
  /**
   * Over calls timed while the function was fully timed (all of its calls, so nesting is seen
   * exactly): the sum of all their durations and of the outermost ones'. Their ratio is the share
   * of a sampled call's duration that is not nested in another call of the same function.
   */
  readonly fullTotal: Float64Array;
  readonly fullIncl: Float64Array;

  constructor(readonly base: number, n: number) {
    this.n = n;
    this.callsDone = new Float64Array(n);
    this.errors = new Uint32Array(n);
    this.timed = new Uint32Array(n);
    this.total = new Float64Array(n);
    this.self = new Float64Array(n);
    this.min = new Float64Array(n).fill(Infinity);
    this.max = new Float64Array(n);
    this.estTotal = new Float64Array(n);
    this.estSelf = new Float64Array(n);
    this.hists = new Array<Uint32Array | undefined>(n).fill(undefined);
    this.cumTimed = new Float64Array(n);
    this.cumTotal = new Float64Array(n);
    this.cumSelf = new Float64Array(n);
    this.meanSelf = new Float64Array(n);
    this.meanTotal = new Float64Array(n);
    this.winTimed = new Uint32Array(n);
    this.winCost = new Float64Array(n);
    this.every = new Int32Array(n);
    this.countdown = new Float64Array(n);
    this.gapLen = new Float64Array(n);
    this.kind = new Uint8Array(n);
    this.owner = new Int32Array(n);
    this.incl = new Float64Array(n);
    this.estIncl = new Float64Array(n);
    this.fullTotal = new Float64Array(n);
    this.fullIncl = new Float64Array(n);
  }

  /** Calls since the last cut. */
  callsOf(i: number): number {
    return this.callsDone[i] + this.gapLen[i] - this.countdown[i];
  }
}

/**
 * Whether function i has news: a call is counted when it starts and timed when it ends, so a cut
 * can time a call that an earlier one counted (an async function spanning a cut): `timed` alone
 * is a change too.
 */
function changed(fd: FileData, i: number): boolean {
  return fd.callsOf(i) !== 0 || fd.errors[i] !== 0 || fd.timed[i] !== 0;
}

/** How a cut spreads its functions over several cuts when many changed (Recorder.cut). */
export interface RowBudget {
  /** Functions a cut may always carry. */
  readonly minRows: number;
  /** Cuts over which more changed functions than that are spread. */
  readonly spreadCuts: number;
}

export class Recorder {
  readonly mode: Mode;
  private readonly sampleEvery: number;
  private readonly now: Clock;
  private n = 0;
  private files: FileData[] = [];
  private defs: FunctionDef[] = [];
  private newDefsFrom = 0;
  private rng = 0x2545f491;
  /** Self-time accumulator (see the header); a typed array so that stores never box. */
  private readonly acc = new Float64Array(1);
  /** Where the inline tail of a timed call adds its m[i] (see d()): written, never read. */
  private readonly scratch = new Float64Array(1);
  /** Frames of timed sync calls: acc and start time (performance.now ms) at their start. */
  private stack = new Float64Array(1024);
  private startedAt = new Float64Array(1024);
  /** Global id of each frame's function (for the recursion check, see FileData.owner). */
  private frameFn = new Int32Array(1024);
  /** Sampling period of each frame's function when the call started (1: fully timed). */
  private frameEvery = new Float64Array(1024);
  private depth = 0;
  /** now() at the last debugger pause: timed calls that started before it are not timed. */
  private pausedAt = -Infinity;
  private spans = new Map<string, SpanStats>();
  private memos: MemoStats[] = [];
  /**
   * Where the next cut starts looking for changed functions (a global function id). Last, so the
   * fields the timed-call path reads keep their places in the object (acorn storm, 12-07: with it
   * among them the overhead median was 1.69x over 8 runs; after them 1.29-1.61x over 3).
   */
  private cutFrom = 0;

  constructor(opts: RecorderOptions) {
    this.mode = opts.mode;
    this.sampleEvery = Math.max(1, Math.floor(opts.sampleEvery));
    if (opts.now) {
      this.now = opts.now;
    } else {
      const perf = performance;
      this.now = () => perf.now();
    }
  }

  get functionCount(): number {
    return this.n;
  }

  /** Registers one transformed file's functions (abi.ts `file`). */
  file(files: string[], fns: FnTuple[]): FileRecorder {
    const fd = new FileData(this.n, fns.length);
    fns.forEach(([name, fileIndex, line, column, kind], i) => {
      const k = (kind as number) >= 0 && (kind as number) <= 3 ? (kind as number) : 0;
      fd.kind[i] = k;
      this.defs.push({ id: fd.base + i, name, file: files[fileIndex] ?? files[0] ?? '<unknown>', line, column, kind: KIND_NAMES[k] });
      this.initSampling(fd, i);
    });
    this.n += fns.length;
    this.files.push(fd);
    return this.fileRecorder(fd);
  }

  private fileRecorder(fd: FileData): FileRecorder {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rec = this;
    const { countdown, errors, meanSelf, kind } = fd;
    const acc = this.acc;
    // c/m/a: the untimed fast path that transformed code runs inline (abi.ts) reads these directly.
    const views = { c: countdown, m: meanSelf, a: acc };
    const scratch = this.scratch;
    if (this.mode === 'count') {
      // Nothing is ever timed: s() only counts (by the countdown), r() only counts errors.
      return {
        ...views,
        s: (i: number) => { countdown[i]--; return -1; },
        r: (i: number, _t: number, ok: number) => { if (ok === 0) errors[i]++; },
        d: (i: number, _t: number, ok: number) => { if (ok === 0) errors[i]++; return scratch; },
        sa: (i: number) => { countdown[i]--; return 0; },
        ra: (i: number, _t: number, ok: number) => { if (ok === 0 && kind[i] === 1) errors[i]++; },
        e: (i: number) => { errors[i]++; },
        t: () => -1,
        ta: () => 0,
      };
    }
    // Transformed code decrements the countdown itself and calls s()/sa() only when it runs out;
    // s()/sa() here still take a whole call (countdown included) for other callers and tests.
    return {
      ...views,
      s: (i: number) => (--countdown[i] === 0 ? rec.start(fd, i) : -1),
      r: (i: number, frame: number, ok: number) => {
        if (ok === 0) errors[i]++;
        if (frame > 0) acc[0] = rec.end(fd, i, frame);
        else acc[0] += meanSelf[i];
      },
      // The inline tail adds m[i] to element 0 of what this returns: the accumulator for an
      // untimed call that threw, a scratch array when end() has set the accumulator itself.
      d: (i: number, frame: number, ok: number) => {
        if (ok === 0) errors[i]++;
        if (frame <= 0) return acc;
        acc[0] = rec.end(fd, i, frame);
        return scratch;
      },
      sa: (i: number) => (--countdown[i] === 0 ? rec.startAsync(fd, i) : 0),
      ra: (i: number, t: number, ok: number) => {
        // Generators report their throws through e(); ok=0 there may be an early .return().
        if (ok === 0 && kind[i] === 1) errors[i]++;
        if (t !== 0) rec.endAsync(fd, i, t);
      },
      e: (i: number) => { errors[i]++; },
      t: (i: number) => rec.start(fd, i),
      ta: (i: number) => rec.startAsync(fd, i),
    };
  }

  private initSampling(fd: FileData, i: number): void {
    if (this.mode === 'count') {
      fd.every[i] = 0;
      fd.countdown[i] = fd.gapLen[i] = 0; // runs negative, never reaches 0 again
    } else if (this.mode === 'sampled') {
      fd.every[i] = this.sampleEvery;
      fd.countdown[i] = fd.gapLen[i] = this.gap(this.sampleEvery);
    } else {
      fd.every[i] = 1;
      fd.countdown[i] = fd.gapLen[i] = 1;
    }
  }

  /** Calls until the next timed one: 1 for full timing, else uniform in 1..2N-1 (mean N). */
  private gap(every: number): number {
    if (every <= 1) return 1;
    this.rng = (Math.imul(this.rng, 1103515245) + 12345) | 0;
    return 1 + ((this.rng >>> 8) % (2 * every - 1));
  }

  /** The current gap ran out (this call is timed): count it, start the next. */
  private nextGap(fd: FileData, i: number): void {
    fd.callsDone[i] += fd.gapLen[i];
    fd.countdown[i] = fd.gapLen[i] = this.gap(fd.every[i]);
  }

  /** Start of a timed sync call (its countdown ran out): returns its frame index (>= 1). */
  private start(fd: FileData, i: number): number {
    this.nextGap(fd, i);
    const t = this.now(); // before the push: if it throws (stack overflow) no frame is left behind
    const d = ++this.depth;
    if (d === this.stack.length) this.growStack();
    this.stack[d] = this.acc[0];
    this.startedAt[d] = t;
    const id = fd.base + i;
    this.frameFn[d] = id;
    this.frameEvery[d] = fd.every[i];
    // Outermost timed call of this function unless its owner frame is still on the stack (an
    // owner frame index at or above d, or one now holding another function, is a stale leftover).
    const o = fd.owner[i];
    if (o === 0 || o >= d || this.frameFn[o] !== id) fd.owner[i] = d;
    return d;
  }

  /**
   * End of a timed sync call: records it and returns the value the self-time accumulator must take
   * (its start value plus this call's duration: its subtree is replaced by its measured time).
   */
  private end(fd: FileData, i: number, frame: number): number {
    const started = this.startedAt[frame];
    const ns = (this.now() - started) * 1e6;
    const start = this.stack[frame];
    this.depth = frame - 1; // from the frame itself, so a missed return cannot skew later ones
    const outermost = fd.owner[i] === frame;
    if (outermost) fd.owner[i] = 0;
    // stopped in the debugger meanwhile: counted, not timed; callers get its usual cost
    if (started <= this.pausedAt) return start + fd.meanTotal[i];
    const children = this.acc[0] - start;
    if (outermost) fd.incl[i] += ns;
    const every = this.frameEvery[frame];
    if (every <= 1) {
      // Fully timed: every call of this function is timed, so `outermost` is exact.
      fd.fullTotal[i] += ns;
      if (outermost) {
        fd.fullIncl[i] += ns;
        fd.estIncl[i] += ns;
      }
    } else {
      // Sampled: its untimed callers are unknown, so the share not nested in another call of the
      // same function is taken from the fully timed calls (none yet: whether this one is outermost).
      const ft = fd.fullTotal[i];
      fd.estIncl[i] += weighted(ns, every, fd.meanTotal[i], fd.cumTimed[i]) * (ft > 0 ? fd.fullIncl[i] / ft : outermost ? 1 : 0);
    }
    // Not clamped per call: with sampled-out children estimated by their mean, one call's self
    // time can come out negative; clamping each would bias the sum upwards. Sums are clamped at cut.
    this.record(fd, i, ns, ns - children);
    return start + ns;
  }

  private startAsync(fd: FileData, i: number): number {
    this.nextGap(fd, i);
    return this.now();
  }

  private endAsync(fd: FileData, i: number, t: number): void {
    if (t > this.pausedAt) this.record(fd, i, (this.now() - t) * 1e6, 0);
  }

  /**
   * The debugger stopped the program (the editor evaluates `__perfLensPause()` on a `stopped`
   * event): calls in progress now include the pause, so they are counted but not timed.
   */
  pause(): void {
    this.pausedAt = this.now();
  }

  private record(fd: FileData, i: number, ns: number, self: number): void {
    fd.timed[i]++;
    fd.total[i] += ns;
    fd.self[i] += self;
    const weight = fd.every[i] > 1 ? fd.every[i] : 1; // this call stands for `every` calls on average
    const timedBefore = fd.cumTimed[i];
    fd.estTotal[i] += weighted(ns, weight, fd.meanTotal[i], timedBefore);
    fd.estSelf[i] += weighted(self, weight, fd.meanSelf[i], timedBefore);
    if (ns < fd.min[i]) fd.min[i] = ns;
    if (ns > fd.max[i]) fd.max[i] = ns;
    const b = bucketIndex(ns);
    let h = fd.hists[i];
    if (h === undefined || b >= h.length) h = growHist(fd, i, b);
    h[b]++;
    const n = ++fd.cumTimed[i];
    fd.meanTotal[i] = (fd.cumTotal[i] += ns) / n;
    fd.meanSelf[i] = (fd.cumSelf[i] += self) / n;
    const cost = (fd.winCost[i] += fd.kind[i] === 0 ? self : ns);
    const w = ++fd.winTimed[i];
    if ((w === ADAPT_AFTER || n === ADAPT_FIRST) && this.mode === 'adaptive') {
      fd.every[i] = adaptiveEvery(cost / w);
      fd.winTimed[i] = 0;
      fd.winCost[i] = 0;
    }
  }

  private growStack(): void {
    const s = new Float64Array(this.stack.length * 2);
    s.set(this.stack);
    this.stack = s;
    const t = new Float64Array(s.length);
    t.set(this.startedAt);
    this.startedAt = t;
    const f = new Int32Array(s.length);
    f.set(this.frameFn);
    this.frameFn = f;
    const e = new Float64Array(s.length);
    e.set(this.frameEvery);
    this.frameEvery = e;
  }

  /** Explicit API: a named span; `end()` records it once. */
  span(name: string): { end(): void } {
    const t = this.now();
    let done = false;
    return {
      end: () => {
        if (done) return;
        done = true;
        this.spanStats(name).hist.record((this.now() - t) * 1e6);
      },
    };
  }

  /** Explicit API: a span that threw or rejected. */
  spanError(name: string): void {
    this.spanStats(name).errors++;
  }

  private spanStats(name: string): SpanStats {
    let s = this.spans.get(name);
    if (!s) this.spans.set(name, (s = new SpanStats(name)));
    return s;
  }

  memo(name: string, file?: string, line?: number): MemoCounters {
    const m = new MemoStats(name, file, line);
    this.memos.push(m);
    return m;
  }

  /**
   * max(minRows, changed / spreadCuts). A program with at most minRows * spreadCuts functions gets
   * minRows whatever changed, so only larger ones pay the extra pass that counts the changes.
   */
  private rowLimit(budget: RowBudget): number {
    if (this.n <= budget.minRows * budget.spreadCuts) return budget.minRows;
    return Math.max(budget.minRows, Math.ceil(this.changedCount() / budget.spreadCuts));
  }

  /** Functions with news for the next cut. */
  private changedCount(): number {
    let count = 0;
    for (const fd of this.files) for (let i = 0; i < fd.n; i++) if (changed(fd, i)) count++;
    return count;
  }

  /** Function i's row since its last cut; zeroes its interval counters. */
  private takeRow(fd: FileData, i: number): FunctionDelta {
    const timed = fd.timed[i];
    const d: FunctionDelta = {
      id: fd.base + i, calls: fd.callsOf(i), errors: fd.errors[i], timed,
      totalNs: Math.round(fd.total[i]),
      minNs: timed > 0 ? Math.round(fd.min[i]) : 0,
      maxNs: timed > 0 ? Math.round(fd.max[i]) : 0,
      hist: timed > 0 ? drainHist(fd.hists[i]) : [],
    };
    if (fd.kind[i] === 0 && timed > 0) {
      d.selfNs = Math.max(0, Math.round(fd.self[i]));
      d.inclusiveNs = Math.round(fd.incl[i]);
    }
    if (this.mode !== 'count') {
      d.estTotalNs = Math.round(fd.estTotal[i]);
      if (fd.kind[i] === 0) {
        d.estSelfNs = Math.max(0, Math.round(fd.estSelf[i]));
        d.estInclusiveNs = Math.round(fd.estIncl[i]);
      }
    }
    fd.callsDone[i] = 0;
    fd.gapLen[i] = fd.countdown[i]; // the rest of the current gap counts from here
    fd.errors[i] = 0;
    fd.timed[i] = 0;
    fd.total[i] = 0;
    fd.self[i] = 0;
    fd.estTotal[i] = 0;
    fd.estSelf[i] = 0;
    fd.incl[i] = 0;
    fd.estIncl[i] = 0;
    fd.min[i] = Infinity;
    fd.max[i] = 0;
    return d;
  }

  /**
   * What changed since the previous cut; zeroes the interval counters of what it returns. With a
   * `budget`, a cut carries at most max(minRows, changed / spreadCuts) functions, taken round-robin
   * from where the previous cut stopped: the others keep adding up and go in a later cut, so each
   * function's news waits at most about `spreadCuts` cuts. Rows come in ascending id order.
   */
  cut(budget?: RowBudget): Cut {
    const defs = this.defs.slice(this.newDefsFrom);
    this.newDefsFrom = this.defs.length;
    const limit = budget ? this.rowLimit(budget) : Infinity;
    // From the cursor to the last function (`tail`), then from the first one up to the cursor (`head`).
    const start = this.cutFrom < this.n ? this.cutFrom : 0;
    const tail: FunctionDelta[] = [];
    const head: FunctionDelta[] = [];
    let next = start;
    scan: for (const [from, to, out] of [[start, this.n, tail], [0, start, head]] as const) {
      for (const fd of this.files) {
        if (fd.base + fd.n <= from || fd.base >= to) continue;
        const last = Math.min(fd.n, to - fd.base);
        for (let i = Math.max(0, from - fd.base); i < last; i++) {
          if (!changed(fd, i)) continue;
          if (tail.length + head.length === limit) {
            next = fd.base + i;
            break scan;
          }
          out.push(this.takeRow(fd, i));
        }
      }
    }
    this.cutFrom = next;
    const fns = head.length === 0 ? tail : head.concat(tail);
    const spans: SpanDelta[] = [];
    for (const s of this.spans.values()) {
      const h = s.hist;
      if (h.count === 0 && s.errors === 0) continue;
      spans.push({
        name: s.name, calls: h.count, errors: s.errors, timed: h.count, totalNs: Math.round(h.sum),
        minNs: Math.round(h.min ?? 0), maxNs: Math.round(h.max ?? 0), hist: h.toSparse(),
      });
      this.spans.delete(s.name);
    }
    const memos: MemoDelta[] = [];
    for (const m of this.memos) {
      if (!m.changed) continue;
      const d: MemoDelta = { name: m.name, hits: m.hits, misses: m.misses, evictions: m.evictions, size: m.current };
      if (m.file !== undefined) d.file = m.file;
      if (m.line !== undefined) d.line = m.line;
      memos.push(d);
      m.hits = m.misses = m.evictions = 0;
      m.changed = false;
    }
    return { defs, fns, spans, memos };
  }
}

function growHist(fd: FileData, i: number, b: number): Uint32Array {
  const old = fd.hists[i];
  let size = old ? old.length * 2 : INITIAL_HIST;
  while (size <= b) size *= 2;
  const h = new Uint32Array(size);
  if (old) h.set(old);
  fd.hists[i] = h;
  return h;
}

/**
 * What one timed call adds to an estimated sum when it stands for `weight` calls: `ns * weight`,
 * except that the part above OUTLIER_FACTOR x `meanNs` (the function's mean over its
 * `timedBefore` earlier timed calls) is added once (see OUTLIER_FACTOR).
 */
export function weighted(ns: number, weight: number, meanNs: number, timedBefore: number): number {
  const bound = OUTLIER_FACTOR * meanNs;
  if (weight <= 1 || ns <= bound || !(bound > 0) || timedBefore < OUTLIER_MIN_TIMED) return ns * weight;
  return bound * weight + (ns - bound);
}

/** Adaptive sampling period for a function whose calls take `meanNs` (see the header). */
export function adaptiveEvery(meanNs: number): number {
  if (!(meanNs > 0)) return MAX_SAMPLE_EVERY;
  const n = Math.ceil(COST_NS / (TARGET_OVERHEAD * meanNs));
  return n <= 1 ? 1 : n >= MAX_SAMPLE_EVERY ? MAX_SAMPLE_EVERY : n;
}

/** Sparse [bucket, count, ...] of a dense histogram, zeroing it. */
function drainHist(h: Uint32Array | undefined): number[] {
  const out: number[] = [];
  if (!h) return out;
  for (let b = 0; b < h.length; b++) {
    const c = h[b];
    if (c !== 0) {
      out.push(b, c);
      h[b] = 0;
    }
  }
  return out;
}
