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

/** Mutable histogram with count, sum, min and max. */
export class Histogram {
  /**
   * Dense counts of buckets lo, lo+1, ... up to the highest seen. Starting at the lowest bucket
   * seen keeps a function's counts small (durations of a µs start at bucket ~160): the server
   * holds one per function and updates thousands of them per delta.
   */
  private counts: number[] = [];
  private lo = 0;
  private total = 0;
  private sumNs = 0;
  private minNs = Infinity;
  private maxNs = -Infinity;

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
    for (let k = 0; k < other.counts.length; k++) {
      if (other.counts[k] !== 0) this.addToBucket(other.lo + k, other.counts[k]);
    }
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
    if (this.total === 0) return undefined;
    if (!(q > 0)) return this.minNs;
    if (q >= 1) return this.maxNs;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let k = 0; k < this.counts.length; k++) {
      seen += this.counts[k];
      if (seen >= rank) return Math.min(this.maxNs, Math.max(this.minNs, bucketValue(this.lo + k)));
    }
    return this.maxNs;
  }

  /** Count in bucket i. */
  bucketCount(i: number): number {
    return this.counts[i - this.lo] ?? 0;
  }

  /** Sparse [index, count, ...] form, indexes ascending. */
  toSparse(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.counts.length; k++) {
      if (this.counts[k] !== 0) out.push(this.lo + k, this.counts[k]);
    }
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
    let counts = this.counts;
    if (counts.length === 0) {
      this.lo = i;
    } else if (i < this.lo) {
      // A duration below all earlier ones: rare after the first calls, so the copy is fine.
      counts = this.counts = new Array<number>(this.lo - i).fill(0).concat(counts);
      this.lo = i;
    }
    const k = i - this.lo;
    while (counts.length <= k) counts.push(0);
    counts[k] += c;
  }
}

/** Throws a RangeError naming the problem when sparse[start..end) is not [bucketIndex, count, ...] pairs. */
function checkSparse(sparse: ArrayLike<number>, start = 0, end = sparse.length): void {
  if ((end - start) % 2 !== 0) throw new RangeError('sparse histogram must have an even length');
  for (let k = start; k < end; k += 2) {
    const i = sparse[k];
    if (!(i >= 0 && i < BUCKET_COUNT && Number.isInteger(i))) checkIndex(i);
    const c = sparse[k + 1];
    if (!(c >= 0 && Number.isInteger(c))) throw new RangeError(`bad histogram count ${c} at bucket ${i}`);
  }
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
