/**
 * Log-linear histogram of integer nanosecond durations.
 *
 * Values 0..31 get one exact bucket each. Above that, every power of two [2^e, 2^(e+1)) is split
 * into SUB_BUCKETS equal-width buckets, so a bucket's width is at most 1/32 of its lower bound and
 * its midpoint is within 1/64 (≈1.56%) of any value in it. Buckets are fixed for everyone, so
 * histograms from different processes, runs and machines merge exactly by adding counts.
 *
 * Pure and allocation-free on the hot path: the runtime calls `bucketIndex` per timed call.
 */
import type { DeltaView } from './delta-columns';
import { RecordStore } from './record-store';

/**
 * A histogram's record (see Histogram). A const enum, not constants: the bundler writes the numbers
 * into the code, where a module constant is a memory load at every use (the merge loop uses them
 * a dozen times a row).
 */
const enum Rec {
  COUNT = 0,
  SUM = 1,
  MIN = 2,
  MAX = 3,
  /** The first bucket of the window. */
  WINDOW_LO = 4,
  /** The window's total count. */
  WINDOW_TOTAL = 5,
  /** How much the latest additions missed the window (MOVE_AT_MISS_SCORE). */
  MISS_SCORE = 6,
  /** The window's counts. */
  WINDOW_COUNTS = 7,
  /**
   * Buckets held in the record: four powers of two (32 sub-buckets each), placed two octaves below
   * the first duration. A function's first calls are often its slowest (the JIT has not compiled it
   * yet) and its later ones 2–4 times faster: with two octaves from half an octave below, 5.8% of
   * the additions of a captured 5,000-function session fell outside; with these, 2.2%.
   */
  WINDOW = 128,
  RECORD = WINDOW_COUNTS + WINDOW,
}
/** Rec.WINDOW as a plain number, for comparisons and arithmetic outside the enum. */
const WINDOW: number = Rec.WINDOW;

/**
 * When the window follows the durations. A function's durations drift as the JIT optimises it and
 * its callers: in a captured session of 5,000 functions called once per 100 ms they fell by two to
 * three octaves over 30 s, below a window placed at the first calls. Moving only once most counts
 * were outside (the other rule, in addToBucket) took minutes for a function with hundreds of
 * counts in its old window, and meanwhile 6–14% of all rows missed it and took the slow path
 * (addSparseExact and the spill). So each bucket addition outside the window adds 1 to the miss
 * score, each row or bucket inside takes MISS_SCORE_DECAY off it (not below 0), and the window
 * moves to the addition that brings the score to MOVE_AT_MISS_SCORE: it moves once more than
 * about one addition in five misses it for a while, never for occasional outliers (GC pauses).
 */
const MOVE_AT_MISS_SCORE = 8;
const MISS_SCORE_DECAY = 0.25;

/** log2 of the sub-buckets per power of two. */
export const SUB_BUCKET_BITS = 5;
/** Sub-buckets per power of two (32 → ≤1.5625% relative error of `bucketValue`). */
export const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** Largest exponent covered: 2^53 ns ≈ 104 days (beyond that doubles lose integer precision). */
const MAX_EXPONENT = 52;
/** Number of buckets: indexes 0 .. BUCKET_COUNT-1. */
export const BUCKET_COUNT = (MAX_EXPONENT - SUB_BUCKET_BITS + 2) * SUB_BUCKETS;
/** Worst-case relative error of `bucketValue(bucketIndex(v))` against v, for v ≥ 1. */
export const MAX_RELATIVE_ERROR = 1 / (2 * SUB_BUCKETS);

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 2 ** (MAX_EXPONENT + 1);

/**
 * Bucket of a duration in ns. Fractions are truncated; negative or NaN values count as 0;
 * values beyond the covered range land in the last bucket.
 */
export function bucketIndex(ns: number): number {
  if (!(ns >= SUB_BUCKETS)) return ns >= 1 ? Math.floor(ns) : 0;
  let exponent: number;
  let sub: number;
  if (ns < TWO_POW_32) {
    const v = ns >>> 0;
    exponent = 31 - Math.clz32(v);
    sub = (v >>> (exponent - SUB_BUCKET_BITS)) - SUB_BUCKETS;
  } else {
    if (ns >= TWO_POW_53) return BUCKET_COUNT - 1;
    exponent = 63 - Math.clz32(Math.floor(ns / TWO_POW_32));
    sub = Math.floor(ns / 2 ** (exponent - SUB_BUCKET_BITS)) - SUB_BUCKETS;
  }
  return ((exponent - SUB_BUCKET_BITS + 1) << SUB_BUCKET_BITS) + sub;
}

function checkIndex(i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= BUCKET_COUNT) {
    throw new RangeError(`histogram bucket index out of range: ${i} (0..${BUCKET_COUNT - 1})`);
  }
}

/** Width in ns of bucket i (1 for the exact buckets). */
export function bucketWidth(i: number): number {
  checkIndex(i);
  return i < SUB_BUCKETS ? 1 : 2 ** ((i >> SUB_BUCKET_BITS) - 1);
}

/** Smallest integer ns value that falls in bucket i. */
export function bucketLowerBound(i: number): number {
  checkIndex(i);
  if (i < SUB_BUCKETS) return i;
  const exponent = (i >> SUB_BUCKET_BITS) + SUB_BUCKET_BITS - 1;
  const sub = i & (SUB_BUCKETS - 1);
  return (SUB_BUCKETS + sub) * 2 ** (exponent - SUB_BUCKET_BITS);
}

/** Largest integer ns value that falls in bucket i. */
export function bucketUpperBound(i: number): number {
  return bucketLowerBound(i) + bucketWidth(i) - 1;
}

/** Representative value of bucket i: the midpoint of its integer range (exact below 32 ns). */
export function bucketValue(i: number): number {
  return bucketLowerBound(i) + (bucketWidth(i) - 1) / 2;
}

/** Compact JSON form of a histogram, as stored in reports. */
export interface HistogramJSON {
  /** Sub-buckets per power of two; readers must reject a scheme they do not know. */
  subBuckets: number;
  /** Sparse counts: [bucketIndex, count, bucketIndex, count, ...], indexes ascending. */
  buckets: number[];
}

/** A finite value ≥ 0, else NaN (what a delta's min and max must be to be used). */
const measured = (v: number): number => (v >= 0 && v < Infinity ? v : NaN);

/** The miss score after an addition inside the window. */
const lessMissed = (score: number): number => (score > MISS_SCORE_DECAY ? score - MISS_SCORE_DECAY : 0);

/** The columns of a decoded delta that a histogram reads. */
type HistogramColumns = Pick<DeltaView, 'timed' | 'totalNs' | 'minNs' | 'maxNs' | 'hist' | 'histStart' | 'histLen'>;

/**
 * The common case of adding rows [from, to) of a decoded delta (what `TimingAgg.addFromView`'s
 * `addSparseExact` does per row) on the records directly: the server's hot path, where most rows
 * go without touching the Histogram objects (record-store.ts). `at[r - from]` is row r's record
 * offset in `a` minus `recordBase` (-1: skip the row). A row with timed calls whose pairs are all
 * valid, with every non-zero count inside its record's window, is added; any other timed row is
 * left unchanged and its `at` set to -1, for the caller's slow path (`addSparseExact` places or
 * moves the window, spills, or reports the bad pair).
 * One loop over a block of rows with the columns read once, no call per row: through a function
 * per row (too large for V8 to inline), rows cost ~1.3 times as much (src/server/README.md).
 */
export function addRowsInWindow(a: Float64Array, at: Int32Array, recordBase: number, v: HistogramColumns, from: number, to: number): void {
  const { timed, totalNs, minNs, maxNs, hist: pairs, histStart, histLen } = v;
  for (let r = from; r < to; r++) {
    if (at[r - from] < 0) continue;
    const t = timed[r];
    if (!(t > 0 && t < Infinity)) continue; // nothing timed: no histogram to add
    const o = at[r - from] + recordBase;
    const start = histStart[r];
    const len = histLen[r];
    const end = start + len;
    const lo = a[o + Rec.WINDOW_LO]; // NaN until the first addition places the window: nothing fits
    let fits = isEven(len);
    for (let k = start; fits && k < end; k += 2) {
      const i = pairs[k];
      const c = pairs[k + 1];
      fits = i >= 0 && i < BUCKET_COUNT && Math.floor(i) === i && c >= 0 && c < TWO_POW_53 && Math.floor(c) === c && (c === 0 || (i - lo >= 0 && i - lo < WINDOW));
    }
    if (!fits) {
      at[r - from] = -1;
      continue;
    }
    let added = 0;
    let lowest = BUCKET_COUNT;
    let highest = -1;
    for (let k = start; k < end; k += 2) {
      const c = pairs[k + 1];
      if (c === 0) continue;
      const i = pairs[k];
      a[o + Rec.WINDOW_COUNTS + i - lo] += c;
      added += c;
      if (i < lowest) lowest = i;
      if (i > highest) highest = i;
    }
    if (added === 0) continue;
    a[o + Rec.WINDOW_TOTAL] += added;
    a[o + Rec.MISS_SCORE] = lessMissed(a[o + Rec.MISS_SCORE]);
    a[o + Rec.COUNT] += added;
    const sum = totalNs[r];
    a[o + Rec.SUM] += sum > 0 && sum < Infinity ? sum : 0;
    const min = measured(minNs[r]);
    const max = measured(maxNs[r]);
    const least = min === min ? min : bucketLowerBound(lowest);
    const most = max === max ? max : bucketUpperBound(highest);
    if (least < a[o + Rec.MIN]) a[o + Rec.MIN] = least;
    if (most > a[o + Rec.MAX]) a[o + Rec.MAX] = most;
  }
}

/** Mutable histogram with count, sum, min and max. */
export class Histogram {
  /**
   * The record in `store` (see record-store.ts): count, sum, min, max, the first bucket of the
   * window, then WINDOW counts of buckets window..window+WINDOW-1. A function's durations mostly
   * stay within a few percent of each other, so nearly every addition lands in the window, next
   * to the function's sums: the server adds thousands of histograms per delta, and a separate
   * counts array was one more cache miss each (half of the merge's time with cold caches).
   * Buckets outside the window go to `spill` (a function's outliers, e.g. calls slowed by a GC
   * pause: ~2% of the server's additions, ~10–20 distinct buckets per function): [bucket, count,
   * ...] ascending, found by binary search. Not dense counts: a dense range from the lowest to the
   * highest outlier was ~200 buckets a function (8.5 MB for 5,000 functions, five times their
   * records). Not a Map: each lookup was a chain of cache misses, ~1 µs with the server's cold
   * caches, and a Map also had to be sorted for every report.
   */
  private readonly store: RecordStore;
  /** Where the record starts in the store. */
  readonly offset: number;
  private spill: number[] | null = null;

  /** `store`: where the record lives (default: a store of its own). */
  constructor(store?: RecordStore) {
    this.store = store ?? new RecordStore(Rec.RECORD);
    this.offset = this.store.allocate(Rec.RECORD);
    const a = this.store.a;
    a[this.offset + Rec.MIN] = Infinity;
    a[this.offset + Rec.MAX] = -Infinity;
    a[this.offset + Rec.WINDOW_LO] = NaN;
  }

  private get total(): number {
    return this.store.a[this.offset + Rec.COUNT];
  }

  private set total(v: number) {
    this.store.a[this.offset + Rec.COUNT] = v;
  }

  private get sumNs(): number {
    return this.store.a[this.offset + Rec.SUM];
  }

  private set sumNs(v: number) {
    this.store.a[this.offset + Rec.SUM] = v;
  }

  private get minNs(): number {
    return this.store.a[this.offset + Rec.MIN];
  }

  private set minNs(v: number) {
    this.store.a[this.offset + Rec.MIN] = v;
  }

  private get maxNs(): number {
    return this.store.a[this.offset + Rec.MAX];
  }

  private set maxNs(v: number) {
    this.store.a[this.offset + Rec.MAX] = v;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.total;
  }

  /** Sum of the recorded values (exact values, not bucket values) in ns. */
  get sum(): number {
    return this.sumNs;
  }

  /** Smallest recorded value, or undefined when empty. */
  get min(): number | undefined {
    return this.total > 0 ? this.minNs : undefined;
  }

  /** Largest recorded value, or undefined when empty. */
  get max(): number | undefined {
    return this.total > 0 ? this.maxNs : undefined;
  }

  /** Records one value (ns), `times` times. */
  record(ns: number, times = 1): void {
    if (!(times > 0)) return;
    const value = ns > 0 ? ns : 0;
    this.addToBucket(bucketIndex(value), times);
    this.total += times;
    this.sumNs += value * times;
    if (value < this.minNs) this.minNs = value;
    if (value > this.maxNs) this.maxNs = value;
  }

  /**
   * Adds a sparse [index, count, ...] histogram. Its exact sum/min/max are passed separately
   * (deltas carry them); without them, the bounds of the touched buckets are used.
   */
  addSparse(sparse: readonly number[], exact?: { sum?: number; min?: number; max?: number }): void {
    this.addSparseExact(sparse, exact?.sum, exact?.min, exact?.max);
  }

  /**
   * `addSparse` with the exact values as arguments: the server merges one per function per delta
   * (5,000 per 100 ms at worst), so no options object, and bucket values are only summed when no
   * exact sum is given.
   */
  addSparseExact(
    sparse: ArrayLike<number>, sum: number | undefined, min: number | undefined, max: number | undefined,
    /** The pairs are sparse[start..end) (a decoded delta holds every function's histogram in one array). */
    start = 0, end = sparse.length,
  ): void {
    // Validate everything first so a bad pair never leaves the histogram half-updated.
    checkSparse(sparse, start, end);
    let added = 0;
    let lowest = BUCKET_COUNT;
    let highest = -1;
    for (let k = start; k < end; k += 2) {
      const c = sparse[k + 1];
      if (c === 0) continue;
      const i = sparse[k];
      this.addToBucket(i, c);
      added += c;
      if (i < lowest) lowest = i;
      if (i > highest) highest = i;
    }
    if (added === 0) return;
    this.total += added;
    this.sumNs += sum ?? estimatedSum(sparse, start, end);
    const lo = min ?? bucketLowerBound(lowest);
    const hi = max ?? bucketUpperBound(highest);
    if (lo < this.minNs) this.minNs = lo;
    if (hi > this.maxNs) this.maxNs = hi;
  }

  /** Adds another histogram (exact: counts add, sums add, min/max combine). */
  merge(other: Histogram): void {
    if (other.total === 0) return;
    const sparse = other.toSparse();
    for (let k = 0; k < sparse.length; k += 2) this.addToBucket(sparse[k], sparse[k + 1]);
    this.total += other.total;
    this.sumNs += other.sumNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
  }

  /**
   * Nearest-rank quantile (q in 0..1): the bucket value of the ⌈q·n⌉-th smallest value, clamped to
   * [min, max]. Within MAX_RELATIVE_ERROR of the exact nearest-rank quantile. Undefined when empty.
   */
  quantile(q: number): number | undefined {
    return this.quantiles([q])[0];
  }

  /**
   * `quantile` of each q, reading the buckets once (a report asks for p50, p95 and p99 together).
   * `sparse`: this histogram's `toSparse()` when the caller has it already.
   */
  quantiles(qs: readonly number[], sparse?: readonly number[]): (number | undefined)[] {
    if (this.total === 0) return qs.map(() => undefined);
    sparse ??= this.toSparse();
    return qs.map((q) => {
      if (!(q > 0)) return this.minNs;
      if (q >= 1) return this.maxNs;
      const rank = Math.max(1, Math.ceil(q * this.total));
      let seen = 0;
      for (let k = 0; k < sparse.length; k += 2) {
        seen += sparse[k + 1];
        if (seen >= rank) return Math.min(this.maxNs, Math.max(this.minNs, bucketValue(sparse[k])));
      }
      return this.maxNs;
    });
  }

  /** Count in bucket i. */
  bucketCount(i: number): number {
    const a = this.store.a;
    const k = i - a[this.offset + Rec.WINDOW_LO];
    // A bucket is counted in the window or in the spill, never both (moveWindow moves them over).
    return k >= 0 && k < WINDOW ? a[this.offset + Rec.WINDOW_COUNTS + k] : this.spilled(i);
  }

  /** Count of bucket i in the spill. */
  private spilled(i: number): number {
    const spill = this.spill;
    if (spill === null) return 0;
    const k = pairAtOrAfter(spill, i);
    return spill[k] === i ? spill[k + 1] : 0;
  }

  /** Sparse [index, count, ...] form, indexes ascending. */
  toSparse(): number[] {
    // Window and spill are both ascending; the window may sit anywhere among the spilled buckets,
    // and the spill never holds a bucket of the window (moveWindow takes them out).
    const a = this.store.a;
    const lo = a[this.offset + Rec.WINDOW_LO];
    const spill = this.spill ?? [];
    const below = lo === lo ? pairAtOrAfter(spill, lo) : spill.length;
    const out = spill.slice(0, below);
    if (lo === lo) {
      for (let w = 0; w < WINDOW; w++) {
        const c = a[this.offset + Rec.WINDOW_COUNTS + w];
        if (c !== 0) out.push(lo + w, c);
      }
    }
    for (let k = below; k < spill.length; k++) out.push(spill[k]);
    return out;
  }

  toJSON(): HistogramJSON {
    return { subBuckets: SUB_BUCKETS, buckets: this.toSparse() };
  }

  /** Rebuilds a histogram from its JSON form (min/max/sum from the buckets unless given). */
  static fromJSON(json: HistogramJSON, exact?: { sum?: number; min?: number; max?: number }): Histogram {
    if (json.subBuckets !== SUB_BUCKETS) {
      throw new RangeError(`unsupported histogram scheme: ${json.subBuckets} sub-buckets (expected ${SUB_BUCKETS})`);
    }
    const h = new Histogram();
    h.addSparse(json.buckets, exact);
    return h;
  }

  private addToBucket(i: number, c: number): void {
    const a = this.store.a;
    const o = this.offset;
    let lo = a[o + Rec.WINDOW_LO];
    if (lo !== lo) a[o + Rec.WINDOW_LO] = lo = Math.max(0, i - WINDOW / 2); // room below the first duration
    let w = i - lo;
    if (w < 0 || w >= WINDOW) {
      // Most counts outside the window (e.g. it was placed at a slow first call), or the durations
      // have drifted away from it (MOVE_AT_MISS_SCORE): move it here.
      const score = ++a[o + Rec.MISS_SCORE];
      if (a[o + Rec.WINDOW_TOTAL] * 4 >= this.total && score < MOVE_AT_MISS_SCORE) {
        this.addToSpill(i, c);
        return;
      }
      this.moveWindow(Math.max(0, i - WINDOW / 2));
      w = i - a[o + Rec.WINDOW_LO];
    }
    a[o + Rec.WINDOW_COUNTS + w] += c;
    a[o + Rec.WINDOW_TOTAL] += c;
    a[o + Rec.MISS_SCORE] = lessMissed(a[o + Rec.MISS_SCORE]);
  }

  /** Puts the window's counts into the spill, starts the window at `lo` and takes its buckets from the spill. */
  private moveWindow(lo: number): void {
    const a = this.store.a;
    const o = this.offset;
    const old = a[o + Rec.WINDOW_LO];
    for (let k = 0; k < WINDOW; k++) {
      const c = a[o + Rec.WINDOW_COUNTS + k];
      if (c !== 0) this.addToSpill(old + k, c);
      a[o + Rec.WINDOW_COUNTS + k] = 0;
    }
    a[o + Rec.WINDOW_LO] = lo;
    a[o + Rec.MISS_SCORE] = 0;
    let total = 0;
    const spill = this.spill ?? [];
    const from = pairAtOrAfter(spill, lo);
    let to = from;
    for (; to < spill.length && spill[to] < lo + WINDOW; to += 2) {
      a[o + Rec.WINDOW_COUNTS + spill[to] - lo] = spill[to + 1];
      total += spill[to + 1];
    }
    spill.splice(from, to - from);
    a[o + Rec.WINDOW_TOTAL] = total;
  }

  private addToSpill(i: number, c: number): void {
    const spill = (this.spill ??= []);
    const k = pairAtOrAfter(spill, i);
    if (spill[k] === i) spill[k + 1] += c;
    else spill.splice(k, 0, i, c);
  }
}

/** Index of the first pair of ascending [bucket, count, ...] pairs whose bucket is ≥ i (pairs.length if none). */
function pairAtOrAfter(pairs: readonly number[], i: number): number {
  let lo = 0;
  let hi = pairs.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pairs[2 * mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return 2 * lo;
}

/** Throws a RangeError naming the problem when sparse[start..end) is not [bucketIndex, count, ...] pairs. */
function checkSparse(sparse: ArrayLike<number>, start = 0, end = sparse.length): void {
  if (!isEven(end - start)) throw new RangeError('sparse histogram must have an even length');
  for (let k = start; k < end; k += 2) {
    const i = sparse[k];
    if (!(i >= 0 && i < BUCKET_COUNT && Number.isInteger(i))) checkIndex(i);
    const c = sparse[k + 1];
    if (!(c >= 0 && Number.isInteger(c))) throw new RangeError(`bad histogram count ${c} at bucket ${i}`);
  }
}

/**
 * n is an even integer (what `n % 2 === 0` says, Infinity and NaN included). Not `%`: on a double
 * (lengths read from a Float64Array) it is a call into C's fmod, once per function per delta.
 */
export function isEven(n: number): boolean {
  return n - 2 * Math.floor(n / 2) === 0;
}

/** Sum of a (validated) sparse histogram's values taken at their bucket values. */
function estimatedSum(sparse: ArrayLike<number>, start: number, end: number): number {
  let sum = 0;
  for (let k = start; k < end; k += 2) {
    if (sparse[k + 1] !== 0) sum += bucketValue(sparse[k]) * sparse[k + 1];
  }
  return sum;
}

/** Adds a sparse [index, count, ...] histogram into a dense count array (grown as needed). */
export function addSparseInto(dense: number[], sparse: readonly number[]): void {
  for (let k = 0; k + 1 < sparse.length; k += 2) {
    const i = sparse[k];
    while (dense.length <= i) dense.push(0);
    dense[i] += sparse[k + 1];
  }
}

/** Sparse [index, count, ...] form of a dense count array (any array-like, e.g. a Float64Array). */
export function denseToSparse(dense: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < dense.length; i++) {
    if (dense[i] !== 0) out.push(i, dense[i]);
  }
  return out;
}

/** Merges sparse histograms into one sparse histogram (exact). */
export function mergeSparse(...parts: readonly (readonly number[])[]): number[] {
  const dense: number[] = [];
  for (const p of parts) addSparseInto(dense, p);
  return denseToSparse(dense);
}
