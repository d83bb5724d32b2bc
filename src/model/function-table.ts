/**
 * The running sums of one connection's functions (one process or worker thread), one typed array
 * per figure, indexed by a slot the report builder gives each function (struct of arrays). A
 * 5,000-function delta then updates a few long arrays in id order instead of three or four small
 * heap objects per function (aggregate, histogram, counts array), which made the merge
 * memory-bound. Histogram counts live in one shared array of pages (one page = the 32 buckets of
 * one power of two, allocated when a function first has a duration there, never moved); a
 * delta's few (bucket, count) pairs first
 * go to a small per-function cache laid out next to the other functions' (PENDING distinct buckets
 * with their counts; when full, the one with the smallest count moves to the counts), and the
 * cache is emptied into the counts when read, so the counts (megabytes for 5,000 functions, one
 * cache miss per touch) are touched only for a function's rarer durations. Nothing is folded into a merged view per delta: the
 * report builder reads a function's rows (one per connection that ran it) when somebody asks.
 *
 * `add` does per delta exactly what `Totals.add` and `Histogram.addSparseExact` in report.ts /
 * histogram.ts do, in the same order, so a function measured by one connection gets the same
 * floating-point sums as before.
 */
import { BUCKET_COUNT, SUB_BUCKETS, SUB_BUCKET_BITS, bucketLowerBound, bucketUpperBound, checkSparse } from './histogram';

/** The fields of one function delta the table reads (a decoded row; absent optionals undefined). */
export interface RowLike {
  calls: number;
  errors: number;
  timed: number;
  totalNs: number;
  selfNs?: number;
  inclusiveNs?: number;
  estTotalNs?: number;
  estSelfNs?: number;
  estInclusiveNs?: number;
  minNs: number;
  maxNs: number;
  hist: readonly number[];
}

/** Pages per function: one per power of two of the bucket scheme. */
const GROUPS = Math.ceil(BUCKET_COUNT / SUB_BUCKETS);
/** Distinct histogram buckets buffered per function. */
const PENDING = 8;
/** A pending count must fit a Uint32Array entry (larger ones, never seen in 100 ms, go straight to the counts). */
const MAX_PENDING_COUNT = 0xffffffff;
const HAS_SELF = 1;
const HAS_INCL = 2;
/** A delta was added (a slot whose every delta was rejected is not a process share). */
const ADDED = 4;

/** One row's sums, as `Totals` in report.ts holds them. */
export interface RowTotals {
  calls: number;
  errors: number;
  timed: number;
  totalNs: number;
  selfNs: number;
  hasSelf: boolean;
  inclNs: number;
  hasIncl: boolean;
  estNs: number;
  estSelfNs: number;
  estInclNs: number;
  untimedCalls: number;
}

function nonNegative(v: number | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

function finiteOr(v: number | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

export class FunctionTable {
  /** @param pid the process whose deltas the table sums (per-process split). */
  constructor(readonly pid: number) {}

  /** Slots in use. */
  size = 0;
  private cap = 0;
  private calls = new Float64Array(0);
  private errors = new Float64Array(0);
  private timed = new Float64Array(0);
  private totalNs = new Float64Array(0);
  private selfNs = new Float64Array(0);
  private inclNs = new Float64Array(0);
  private estNs = new Float64Array(0);
  private estSelfNs = new Float64Array(0);
  private estInclNs = new Float64Array(0);
  private untimed = new Float64Array(0);
  private flags = new Uint8Array(0);
  // Histogram per slot: count, exact sum, min, max, and its bucket range [lo, lo + len) at `off` in `counts`.
  private hCount = new Float64Array(0);
  private hSum = new Float64Array(0);
  private hMin = new Float64Array(0);
  private hMax = new Float64Array(0);
  /** GROUPS entries per slot: 1 + the page holding that power of two's counts, 0 for none yet. */
  private pageOf = new Int32Array(0);
  /** PENDING (bucket, count) pairs per slot not yet in `counts`; pendN[s] of them used. */
  private pendBucket = new Uint16Array(0);
  private pendCount = new Uint32Array(0);
  private pendN = new Uint8Array(0);
  private counts = new Float64Array(64 * SUB_BUCKETS);
  private pages = 0;

  /** A new slot (all sums 0). */
  newSlot(): number {
    if (this.size === this.cap) this.grow(Math.max(64, this.cap * 2));
    const s = this.size++;
    this.hMin[s] = Infinity;
    this.hMax[s] = -Infinity;
    return s;
  }

  /**
   * Adds one delta to a slot. Throws on a malformed histogram before changing anything (the
   * caller turns that into a warning), like `TimingAgg.add`.
   */
  add(s: number, d: RowLike): void {
    const timed = nonNegative(d.timed);
    const totalNs = nonNegative(d.totalNs);
    if (timed > 0 && Array.isArray(d.hist)) this.addHist(s, d.hist, totalNs, finiteOr(d.minNs), finiteOr(d.maxNs));
    const calls = nonNegative(d.calls);
    const selfNs = typeof d.selfNs === 'number' ? nonNegative(d.selfNs) : undefined;
    this.calls[s] += calls;
    this.errors[s] += nonNegative(d.errors);
    this.timed[s] += timed;
    this.totalNs[s] += totalNs;
    if (selfNs !== undefined) {
      this.selfNs[s] += selfNs;
      this.flags[s] |= HAS_SELF;
    }
    const inclNs = typeof d.inclusiveNs === 'number' ? Math.min(nonNegative(d.inclusiveNs), totalNs) : totalNs;
    this.inclNs[s] += inclNs;
    if (typeof d.inclusiveNs === 'number') this.flags[s] |= HAS_INCL;
    if (typeof d.estTotalNs === 'number') {
      const estNs = nonNegative(d.estTotalNs);
      this.estNs[s] += estNs;
      this.estSelfNs[s] += typeof d.estSelfNs === 'number' ? nonNegative(d.estSelfNs) : (selfNs ?? 0);
      this.estInclNs[s] += typeof d.estInclusiveNs === 'number' ? Math.min(nonNegative(d.estInclusiveNs), estNs) : estNs;
    } else if (timed === 0) {
      this.untimed[s] += calls;
    } else if (timed >= calls) {
      this.estNs[s] += totalNs;
      this.estSelfNs[s] += selfNs ?? 0;
      this.estInclNs[s] += inclNs;
    } else {
      const scale = calls / timed;
      this.estNs[s] += totalNs * scale;
      this.estSelfNs[s] += (selfNs ?? 0) * scale;
      this.estInclNs[s] += inclNs * scale;
    }
    this.flags[s] |= ADDED;
  }

  /** Whether any delta was added to slot s. */
  added(s: number): boolean {
    return (this.flags[s] & ADDED) !== 0;
  }

  callsOf(s: number): number {
    return this.calls[s];
  }

  /** Adds slot s's sums into `t` (field by field, as `Totals` adds deltas). */
  addTotalsTo(s: number, t: RowTotals): void {
    t.calls += this.calls[s];
    t.errors += this.errors[s];
    t.timed += this.timed[s];
    t.totalNs += this.totalNs[s];
    t.selfNs += this.selfNs[s];
    t.inclNs += this.inclNs[s];
    t.estNs += this.estNs[s];
    t.estSelfNs += this.estSelfNs[s];
    t.estInclNs += this.estInclNs[s];
    t.untimedCalls += this.untimed[s];
    if (this.flags[s] & HAS_SELF) t.hasSelf = true;
    if (this.flags[s] & HAS_INCL) t.hasIncl = true;
  }

  /** Slot s's histogram: sparse [bucket, count, ...] counts (ascending) with its exact sum, min and max; null when empty. */
  histogramOf(s: number): { sparse: number[]; count: number; sum: number; min: number; max: number } | null {
    if (this.hCount[s] === 0) return null;
    if (this.pendN[s] > 0) this.flushPending(s);
    const sparse: number[] = [];
    const counts = this.counts;
    for (let g = 0; g < GROUPS; g++) {
      const page = this.pageOf[s * GROUPS + g];
      if (page === 0) continue;
      const at = (page - 1) * SUB_BUCKETS;
      for (let k = 0; k < SUB_BUCKETS; k++) {
        const c = counts[at + k];
        if (c !== 0) sparse.push(g * SUB_BUCKETS + k, c);
      }
    }
    return { sparse, count: this.hCount[s], sum: this.hSum[s], min: this.hMin[s], max: this.hMax[s] };
  }

  /** `Histogram.addSparseExact` into slot s's bucket range. */
  private addHist(s: number, sparse: readonly number[], sum: number, min: number | undefined, max: number | undefined): void {
    checkSparse(sparse);
    const n = sparse.length;
    let added = 0;
    let lowest = BUCKET_COUNT;
    let highest = -1;
    for (let k = 0; k < n; k += 2) {
      const c = sparse[k + 1];
      if (c === 0) continue;
      const i = sparse[k];
      added += c;
      if (i < lowest) lowest = i;
      if (i > highest) highest = i;
    }
    if (added === 0) return;
    if (n > 2 * PENDING || added > MAX_PENDING_COUNT) {
      for (let k = 0; k < n; k += 2) if (sparse[k + 1] !== 0) this.addCount(s, sparse[k], sparse[k + 1]);
    } else {
      for (let k = 0; k < n; k += 2) if (sparse[k + 1] !== 0) this.addPending(s, sparse[k], sparse[k + 1]);
    }
    this.hCount[s] += added;
    this.hSum[s] += sum;
    const lower = min ?? bucketLowerBound(lowest);
    const upper = max ?? bucketUpperBound(highest);
    if (lower < this.hMin[s]) this.hMin[s] = lower;
    if (upper > this.hMax[s]) this.hMax[s] = upper;
  }

  /** Buffers count c of bucket i for slot s (c <= MAX_PENDING_COUNT). */
  private addPending(s: number, i: number, c: number): void {
    const from = s * PENDING;
    const used = this.pendN[s];
    const buckets = this.pendBucket;
    for (let k = from; k < from + used; k++) {
      if (buckets[k] === i && this.pendCount[k] + c <= MAX_PENDING_COUNT) {
        this.pendCount[k] += c;
        return;
      }
    }
    if (used < PENDING) {
      buckets[from + used] = i;
      this.pendCount[from + used] = c;
      this.pendN[s] = used + 1;
      return;
    }
    // Full: the bucket with the smallest pending count goes to the counts; frequent buckets stay.
    let victim = from;
    for (let k = from + 1; k < from + PENDING; k++) if (this.pendCount[k] < this.pendCount[victim]) victim = k;
    this.addCount(s, buckets[victim], this.pendCount[victim]);
    buckets[victim] = i;
    this.pendCount[victim] = c;
  }

  /** Adds count c of bucket i to slot s's counts. */
  private addCount(s: number, i: number, c: number): void {
    const g = s * GROUPS + (i >> SUB_BUCKET_BITS);
    let page = this.pageOf[g];
    if (page === 0) page = this.pageOf[g] = this.newPage();
    this.counts[(page - 1) * SUB_BUCKETS + (i & (SUB_BUCKETS - 1))] += c;
  }

  /** A new zeroed page; returns 1 + its index. */
  private newPage(): number {
    if ((this.pages + 1) * SUB_BUCKETS > this.counts.length) {
      const grown = new Float64Array(this.counts.length * 2);
      grown.set(this.counts);
      this.counts = grown;
    }
    return ++this.pages;
  }

  /** Adds slot s's pending pairs to its counts. */
  private flushPending(s: number): void {
    const from = s * PENDING;
    const to = from + this.pendN[s];
    for (let k = from; k < to; k++) this.addCount(s, this.pendBucket[k], this.pendCount[k]);
    this.pendN[s] = 0;
  }

  private grow(cap: number): void {
    const f64 = (a: Float64Array): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.calls = f64(this.calls);
    this.errors = f64(this.errors);
    this.timed = f64(this.timed);
    this.totalNs = f64(this.totalNs);
    this.selfNs = f64(this.selfNs);
    this.inclNs = f64(this.inclNs);
    this.estNs = f64(this.estNs);
    this.estSelfNs = f64(this.estSelfNs);
    this.estInclNs = f64(this.estInclNs);
    this.untimed = f64(this.untimed);
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.flags = flags;
    const pendN = new Uint8Array(cap);
    pendN.set(this.pendN);
    this.pendN = pendN;
    const pendBucket = new Uint16Array(cap * PENDING);
    pendBucket.set(this.pendBucket);
    this.pendBucket = pendBucket;
    const pendCount = new Uint32Array(cap * PENDING);
    pendCount.set(this.pendCount);
    this.pendCount = pendCount;
    this.hCount = f64(this.hCount);
    this.hSum = f64(this.hSum);
    this.hMin = f64(this.hMin);
    this.hMax = f64(this.hMax);
    const pageOf = new Int32Array(cap * GROUPS);
    pageOf.set(this.pageOf);
    this.pageOf = pageOf;
    this.cap = cap;
  }
}
