/**
 * The recorder: what transformed code calls (abi.ts FileRecorder) and the explicit API uses.
 * Aggregates in-process into typed arrays indexed by function id; `cut()` returns what changed
 * since the previous cut and zeroes the interval counters. Nothing here does I/O.
 *
 * Hot path: no allocation per call, a clock read only for timed calls. An untimed call costs one
 * decrement: calls are not counted separately but derived from the sampling countdown (calls =
 * completed gaps + how far the current gap has run down); in count mode the countdown just keeps
 * going down (Float64Array: no wrap-around).
 * s() never returns a heap number (the transformed code may not inline it, and a boxed double per
 * call would feed the GC): it returns the call's frame index on a small stack, negated when the
 * call is not timed; the start time lives in the frame.
 * Self time of sync functions: `acc` is the child time accumulated so far. Each sync call pushes
 * acc; at return an untimed (sampled-out) call sets acc = its frame's acc + its function's running
 * mean, so whatever its subtree added is replaced by its estimated total, and a timed call takes
 * acc - frame's acc as its child time and sets acc = frame's acc + its duration. Async functions
 * and generators stay off this accounting (other calls interleave with their awaits).
 *
 * Adaptive mode (the default), per function:
 *   - every call is counted; calls are timed until the function has ADAPT_AFTER timed calls;
 *   - then, with m its mean SELF duration (total for async/generators: what timing a call adds is
 *     judged against the time the program itself spends there) and COST_NS the cost of timing one
 *     call, it is timed 1 in
 *     N = ceil(COST_NS / (TARGET_OVERHEAD · m)) calls (N ≤ MAX_SAMPLE_EVERY), i.e. timing adds at
 *     most ~TARGET_OVERHEAD (3%) of its own time; N = 1 (full timing) when m ≥ COST_NS / 3% ≈ 3.3 µs;
 *   - N is re-evaluated after every further ADAPT_AFTER timed calls from those calls alone (so a
 *     warm-up or a GC pause in one window does not stick, and a function that becomes slow returns
 *     to full timing). This happens in the hot path, not at cuts: a long synchronous computation
 *     gets no cuts. Sampled gaps are randomised (uniform 1..2N-1, mean N) against aliasing.
 */
import { bucketIndex } from '../../model/histogram';
import type { FunctionDef, FunctionDelta, MemoDelta, Mode, SpanDelta } from '../../protocol/runtime';
import type { FileRecorder, FnTuple, MemoCounters } from './abi';

export const ADAPT_AFTER = 1000;
export const COST_NS = 100;
export const TARGET_OVERHEAD = 0.03;
export const MAX_SAMPLE_EVERY = 1024;
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

/** Interval statistics of one named span. */
class SpanStats {
  calls = 0;
  errors = 0;
  totalNs = 0;
  minNs = Infinity;
  maxNs = 0;
  hist = new Map<number, number>();
  constructor(readonly name: string) {}
  add(ns: number): void {
    this.calls++;
    this.totalNs += ns;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
    const b = bucketIndex(ns);
    this.hist.set(b, (this.hist.get(b) ?? 0) + 1);
  }
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

export class Recorder {
  readonly mode: Mode;
  private readonly sampleEvery: number;
  private readonly now: Clock;
  private n = 0;
  private cap = 0;
  // Interval counters (zeroed at each cut).
  /** Calls in gaps completed since the last cut (see `callsOf`). */
  private callsDone = new Float64Array(0);
  private errors = new Uint32Array(0);
  private timed = new Uint32Array(0);
  private total = new Float64Array(0);
  private self = new Float64Array(0);
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private hists: (Uint32Array | undefined)[] = [];
  // Cumulative, for sampling decisions and self-time estimates.
  private cumTimed = new Float64Array(0);
  private cumTotal = new Float64Array(0);
  /** Adaptive window: timed calls and their self (sync) or total (async) ns since the last decision. */
  private winTimed = new Uint32Array(0);
  private winCost = new Float64Array(0);
  /** Running mean duration, used as the estimated total of a sampled-out call. */
  private mean = new Float64Array(0);
  /** Sampling period: 1 = every call, N = 1 in N, 0 = never (count mode). */
  private every = new Int32Array(0);
  /** Calls left until the next timed one, and the length of the gap it counts down from. */
  private countdown = new Float64Array(0);
  private gapLen = new Float64Array(0);
  private kind = new Uint8Array(0);
  private defs: FunctionDef[] = [];
  private newDefsFrom = 0;
  private rng = 0x2545f491;
  // Self time: child time accumulated so far, and its value at the start of each timed sync call.
  /** acc lives in a typed array: a class field holding doubles may box each store. */
  private readonly accBox = new Float64Array(1);
  private stack = new Float64Array(1024);
  /** Start time (performance.now ms) of the timed call in each frame. */
  private startedAt = new Float64Array(1024);
  private depth = 0;
  private spans = new Map<string, SpanStats>();
  private memos: MemoStats[] = [];

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
    const base = this.n;
    this.ensure(base + fns.length);
    for (const [name, fileIndex, line, column, kind] of fns) {
      const id = this.n++;
      const k = (kind as number) >= 0 && (kind as number) <= 3 ? (kind as number) : 0;
      this.kind[id] = k;
      this.defs.push({ id, name, file: files[fileIndex] ?? files[0] ?? '<unknown>', line, column, kind: KIND_NAMES[k] });
      this.initSampling(id);
    }
    return this.fileRecorder(base);
  }

  private fileRecorder(base: number): FileRecorder {
    // Closures over `rec` keep the per-call path to one indirection.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rec = this;
    if (this.mode === 'count') {
      // Nothing is ever timed: s() only counts (by the countdown), r() only counts errors.
      return {
        s: (i: number) => { rec.countdown[base + i]--; return -1; },
        r: (i: number, _t: number, ok: number) => { if (ok === 0) rec.errors[base + i]++; },
        sa: (i: number) => { rec.countdown[base + i]--; return 0; },
        ra: (i: number, _t: number, ok: number) => { if (ok === 0 && rec.kind[base + i] === 1) rec.errors[base + i]++; },
        e: (i: number) => { rec.errors[base + i]++; },
      };
    }
    // The untimed paths are written out here, small enough to be inlined into the caller; the
    // timed paths are methods.
    return {
      s: (i: number) => {
        const id = base + i;
        if (--rec.countdown[id] === 0) return rec.start(id);
        const d = ++rec.depth;
        if (d === rec.stack.length) rec.growStack();
        rec.stack[d] = rec.accBox[0];
        return -d;
      },
      r: (i: number, frame: number, ok: number) => {
        const id = base + i;
        if (ok === 0) rec.errors[id]++;
        if (frame > 0) {
          rec.end(id, frame);
        } else if (frame < 0) {
          // untimed: its subtree counts as its mean duration in the caller's child time
          rec.accBox[0] = rec.stack[-frame] + rec.mean[id];
          rec.depth = -frame - 1; // from the frame itself, so a missed return cannot skew later ones
        }
      },
      sa: (i: number) => rec.startAsync(base + i),
      ra: (i: number, t: number, ok: number) => rec.endAsync(base + i, t, ok),
      e: (i: number) => { rec.errors[base + i]++; },
    };
  }

  private initSampling(id: number): void {
    if (this.mode === 'count') {
      this.every[id] = 0;
      this.countdown[id] = this.gapLen[id] = 0; // runs negative, never reaches 0 again
    } else if (this.mode === 'sampled') {
      this.every[id] = this.sampleEvery;
      this.countdown[id] = this.gapLen[id] = this.gap(this.sampleEvery);
    } else {
      this.every[id] = 1;
      this.countdown[id] = this.gapLen[id] = 1;
    }
  }

  /** Calls until the next timed one: 1 for full timing, else uniform in 1..2N-1 (mean N). */
  private gap(every: number): number {
    if (every <= 1) return 1;
    this.rng = (Math.imul(this.rng, 1103515245) + 12345) | 0;
    return 1 + ((this.rng >>> 8) % (2 * every - 1));
  }

  /** The current gap ran out (this call is timed): count it, start the next. */
  private nextGap(id: number): void {
    this.callsDone[id] += this.gapLen[id];
    this.countdown[id] = this.gapLen[id] = this.gap(this.every[id]);
  }

  /** Calls since the last cut. */
  private callsOf(id: number): number {
    return this.callsDone[id] + this.gapLen[id] - this.countdown[id];
  }

  /** Start of a timed sync call (its countdown ran out): returns its frame index. */
  private start(id: number): number {
    this.nextGap(id);
    const t = this.now(); // before the push: if it throws (stack overflow) no frame is left behind
    const d = ++this.depth;
    if (d === this.stack.length) this.growStack();
    this.stack[d] = this.accBox[0];
    this.startedAt[d] = t;
    return d;
  }

  /** End of a timed sync call. */
  private end(id: number, frame: number): void {
    const ns = (this.now() - this.startedAt[frame]) * 1e6;
    const start = this.stack[frame];
    this.depth = frame - 1;
    const children = this.accBox[0] - start;
    this.accBox[0] = start + ns;
    // Not clamped per call: with sampled-out children estimated by their mean, one call's self
    // time can come out negative; clamping each would bias the sum upwards. Sums are clamped at cut.
    this.record(id, ns, ns - children);
  }

  startAsync(id: number): number {
    if (--this.countdown[id] === 0) {
      this.nextGap(id);
      return this.now();
    }
    return 0;
  }

  endAsync(id: number, t: number, ok: number): void {
    // Generators report their throws through e(); ok=0 there may be an early .return().
    if (ok === 0 && this.kind[id] === 1) this.errors[id]++;
    if (t !== 0) this.record(id, (this.now() - t) * 1e6, 0);
  }

  private record(id: number, ns: number, self: number): void {
    this.timed[id]++;
    this.total[id] += ns;
    this.self[id] += self;
    if (ns < this.min[id]) this.min[id] = ns;
    if (ns > this.max[id]) this.max[id] = ns;
    const b = bucketIndex(ns);
    let h = this.hists[id];
    if (h === undefined || b >= h.length) h = this.growHist(id, b);
    h[b]++;
    const n = ++this.cumTimed[id];
    this.mean[id] = (this.cumTotal[id] += ns) / n;
    const cost = (this.winCost[id] += this.kind[id] === 0 ? self : ns);
    if (++this.winTimed[id] === ADAPT_AFTER && this.mode === 'adaptive') {
      this.every[id] = adaptiveEvery(cost / ADAPT_AFTER);
      this.winTimed[id] = 0;
      this.winCost[id] = 0;
    }
  }

  private growHist(id: number, b: number): Uint32Array {
    const old = this.hists[id];
    let size = old ? old.length * 2 : INITIAL_HIST;
    while (size <= b) size *= 2;
    const h = new Uint32Array(size);
    if (old) h.set(old);
    this.hists[id] = h;
    return h;
  }

  private growStack(): void {
    const s = new Float64Array(this.stack.length * 2);
    s.set(this.stack);
    this.stack = s;
    const t = new Float64Array(s.length);
    t.set(this.startedAt);
    this.startedAt = t;
  }

  private ensure(size: number): void {
    if (size <= this.cap) return;
    let cap = Math.max(256, this.cap);
    while (cap < size) cap *= 2;
    const grow = <T extends Uint32Array | Float64Array | Int32Array | Uint8Array>(a: T, fill?: number): T => {
      const b = new (a.constructor as new (n: number) => T)(cap);
      b.set(a);
      if (fill !== undefined) b.fill(fill, a.length);
      return b;
    };
    this.callsDone = grow(this.callsDone);
    this.gapLen = grow(this.gapLen);
    this.errors = grow(this.errors);
    this.timed = grow(this.timed);
    this.total = grow(this.total);
    this.self = grow(this.self);
    this.min = grow(this.min, Infinity);
    this.max = grow(this.max);
    this.cumTimed = grow(this.cumTimed);
    this.cumTotal = grow(this.cumTotal);
    this.winTimed = grow(this.winTimed);
    this.winCost = grow(this.winCost);
    this.mean = grow(this.mean);
    this.every = grow(this.every);
    this.countdown = grow(this.countdown);
    this.kind = grow(this.kind);
    this.cap = cap;
  }

  /** Explicit API: a named span; `end()` records it once. */
  span(name: string): { end(): void } {
    const t = this.now();
    let done = false;
    return {
      end: () => {
        if (done) return;
        done = true;
        const ns = (this.now() - t) * 1e6;
        let s = this.spans.get(name);
        if (!s) this.spans.set(name, (s = new SpanStats(name)));
        s.add(ns);
      },
    };
  }

  /** Explicit API: a span that threw or rejected. */
  spanError(name: string): void {
    let s = this.spans.get(name);
    if (!s) this.spans.set(name, (s = new SpanStats(name)));
    s.errors++;
  }

  memo(name: string, file?: string, line?: number): MemoCounters {
    const m = new MemoStats(name, file, line);
    this.memos.push(m);
    return m;
  }

  /** What changed since the previous cut; zeroes the interval counters. */
  cut(): Cut {
    const defs = this.defs.slice(this.newDefsFrom);
    this.newDefsFrom = this.defs.length;
    const fns: FunctionDelta[] = [];
    for (let id = 0; id < this.n; id++) {
      const calls = this.callsOf(id);
      const errors = this.errors[id];
      if (calls === 0 && errors === 0) continue;
      const timed = this.timed[id];
      const d: FunctionDelta = {
        id, calls, errors, timed,
        totalNs: Math.round(this.total[id]),
        minNs: timed > 0 ? Math.round(this.min[id]) : 0,
        maxNs: timed > 0 ? Math.round(this.max[id]) : 0,
        hist: timed > 0 ? drainHist(this.hists[id]) : [],
      };
      if (this.kind[id] === 0 && timed > 0) d.selfNs = Math.max(0, Math.round(this.self[id]));
      fns.push(d);
      this.callsDone[id] = 0;
      this.gapLen[id] = this.countdown[id]; // the rest of the current gap counts from here
      this.errors[id] = 0;
      this.timed[id] = 0;
      this.total[id] = 0;
      this.self[id] = 0;
      this.min[id] = Infinity;
      this.max[id] = 0;
    }
    const spans: SpanDelta[] = [];
    for (const s of this.spans.values()) {
      if (s.calls === 0 && s.errors === 0) continue;
      const hist: number[] = [];
      for (const b of [...s.hist.keys()].sort((a, c) => a - c)) hist.push(b, s.hist.get(b)!);
      spans.push({
        name: s.name, calls: s.calls, errors: s.errors, timed: s.calls, totalNs: Math.round(s.totalNs),
        minNs: s.calls > 0 ? Math.round(s.minNs) : 0, maxNs: Math.round(s.maxNs), hist,
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
