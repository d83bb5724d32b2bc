/**
 * Running timing sums of one function or span: `Totals` (counts and time sums with their sampling
 * estimates) and `TimingAgg` (totals + histogram + per-process split). Pure.
 *
 * The sums and the histogram's scalars live in Float64Array records (record-store.ts says why);
 * a report's functions share one store, spans and per-process shares get stores of their own.
 */
import type { SpanDelta } from '../protocol/runtime';
import { functionAt, type DeltaView } from './delta-columns';
import { Histogram, addRowsInWindow } from './histogram';
import { RecordStore } from './record-store';
import { ratio } from './stats';

/** What a delta says about one function or span (optional fields: absent = not measured). */
export type DeltaLike = Omit<SpanDelta, 'name'> & { selfNs?: number; estSelfNs?: number; inclusiveNs?: number; estInclusiveNs?: number };

/**
 * Offsets of the fields of one record. A const enum, not constants: the bundler writes the numbers
 * into the code, where a module constant is a memory load at every use.
 */
const enum Rec {
  CALLS = 0,
  ERRORS = 1,
  TIMED = 2,
  TOTAL_NS = 3,
  SELF_NS = 4,
  INCL_NS = 5,
  EST_NS = 6,
  EST_SELF_NS = 7,
  EST_INCL_NS = 8,
  UNTIMED_CALLS = 9,
  FLAGS = 10,
  /** Deltas added so far: a version number (a report made at another one is out of date). */
  ADDED = 11,
  RECORD = 12,
}

/** Bits of a record's FLAGS field. */
const enum Flag {
  HAS_SELF = 1,
  HAS_INCL = 2,
  /** A second process reported: rows must go through TimingAgg.add, which keeps the per-process split. */
  SPLIT = 4,
}


export function finiteOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const optional = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const valueAt = (c: Float64Array | null, i: number): number => (c === null ? NaN : c[i]);

/** A finite value above 0, else 0 (bad input counts as nothing). */
const clamp = (v: number): number => (v > 0 && v < Infinity ? v : 0);

/** `clamp` of anything: not a number counts as 0. */
export function nonNegative(v: unknown): number {
  return typeof v === 'number' ? clamp(v) : 0;
}

/** The columns of a decoded delta that the totals read. */
type TotalsColumns = Pick<DeltaView, 'calls' | 'errors' | 'timed' | 'totalNs' | 'selfNs' | 'inclusiveNs' | 'estTotalNs' | 'estSelfNs' | 'estInclusiveNs'>;

/**
 * Adds rows [from, to) of decoded delta columns to their records: row r to the record at
 * `at[r - from]` of `a` (-1: skip the row). Optional values are NaN (or the column null) when
 * absent. Values that are not finite or not positive count as 0. One loop over a block of rows
 * with the columns read once: the server adds up to 5,000 rows per delta this way, and a call
 * per row (too large for V8 to inline, its doubles boxed when passed as arguments) cost more
 * than the additions.
 */
function addTotalsRows(a: Float64Array, at: Int32Array, c: TotalsColumns, from: number, to: number): void {
  const { calls: callsCol, errors: errorsCol, timed: timedCol, totalNs: totalCol, selfNs: selfCol, inclusiveNs: inclCol, estTotalNs: estCol, estSelfNs: estSelfCol, estInclusiveNs: estInclCol } = c;
  for (let r = from; r < to; r++) {
    const o = at[r - from];
    if (o < 0) continue;
    const calls = clamp(callsCol[r]);
    const timed = clamp(timedCol[r]);
    const totalNs = clamp(totalCol[r]);
    const selfIn = valueAt(selfCol, r);
    const hasSelf = selfIn === selfIn;
    const selfNs = clamp(selfIn);
    a[o + Rec.CALLS] += calls;
    a[o + Rec.ERRORS] += clamp(errorsCol[r]);
    a[o + Rec.TIMED] += timed;
    a[o + Rec.TOTAL_NS] += totalNs;
    let flags = a[o + Rec.FLAGS];
    if (hasSelf) {
      a[o + Rec.SELF_NS] += selfNs;
      flags |= Flag.HAS_SELF;
    }
    const inclIn = valueAt(inclCol, r);
    const hasIncl = inclIn === inclIn;
    const inclNs = hasIncl ? Math.min(clamp(inclIn), totalNs) : totalNs;
    a[o + Rec.INCL_NS] += inclNs;
    if (hasIncl) flags |= Flag.HAS_INCL;
    a[o + Rec.FLAGS] = flags;
    a[o + Rec.ADDED]++;
    const estIn = valueAt(estCol, r);
    if (estIn === estIn) {
      const estNs = clamp(estIn);
      const estSelfIn = valueAt(estSelfCol, r);
      const estInclIn = valueAt(estInclCol, r);
      a[o + Rec.EST_NS] += estNs;
      a[o + Rec.EST_SELF_NS] += estSelfIn === estSelfIn ? clamp(estSelfIn) : selfNs;
      a[o + Rec.EST_INCL_NS] += estInclIn === estInclIn ? Math.min(clamp(estInclIn), estNs) : estNs;
    } else if (timed === 0) {
      a[o + Rec.UNTIMED_CALLS] += calls;
    } else if (timed >= calls) {
      a[o + Rec.EST_NS] += totalNs;
      a[o + Rec.EST_SELF_NS] += selfNs;
      a[o + Rec.EST_INCL_NS] += inclNs;
    } else {
      const scale = calls / timed;
      a[o + Rec.EST_NS] += totalNs * scale;
      a[o + Rec.EST_SELF_NS] += selfNs * scale;
      a[o + Rec.EST_INCL_NS] += inclNs * scale;
    }
  }
}

/** Row i's record offset, for adding one row through `addTotalsRows`. */
const oneAt = new Int32Array(1);
function addOneRow(a: Float64Array, o: number, c: TotalsColumns, i: number): void {
  oneAt[0] = o;
  addTotalsRows(a, oneAt, c, i, i + 1);
}

/** One row of columns, for adding a delta given as an object (`Totals.add`: spans, per-process shares). */
const oneRow = {
  calls: new Float64Array(1),
  errors: new Float64Array(1),
  timed: new Float64Array(1),
  totalNs: new Float64Array(1),
  selfNs: new Float64Array(1),
  inclusiveNs: new Float64Array(1),
  estTotalNs: new Float64Array(1),
  estSelfNs: new Float64Array(1),
  estInclusiveNs: new Float64Array(1),
};

/** `d` as `oneRow` (absent or non-numbers: 0 for the counts and sums, NaN for the optional values). */
function asOneRow(d: DeltaLike): TotalsColumns {
  oneRow.calls[0] = num(d.calls);
  oneRow.errors[0] = num(d.errors);
  oneRow.timed[0] = num(d.timed);
  oneRow.totalNs[0] = num(d.totalNs);
  oneRow.selfNs[0] = optional(d.selfNs);
  oneRow.inclusiveNs[0] = optional(d.inclusiveNs);
  oneRow.estTotalNs[0] = optional(d.estTotalNs);
  oneRow.estSelfNs[0] = optional(d.estSelfNs);
  oneRow.estInclusiveNs[0] = optional(d.estInclusiveNs);
  return oneRow;
}

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
export class Totals {
  /** Where the record starts in the store. */
  readonly offset: number;

  constructor(private readonly store: RecordStore = new RecordStore(Rec.RECORD)) {
    this.offset = store.allocate(Rec.RECORD);
  }

  get calls(): number {
    return this.store.a[this.offset + Rec.CALLS];
  }

  get errors(): number {
    return this.store.a[this.offset + Rec.ERRORS];
  }

  get timed(): number {
    return this.store.a[this.offset + Rec.TIMED];
  }

  get totalNs(): number {
    return this.store.a[this.offset + Rec.TOTAL_NS];
  }

  get hasSelf(): boolean {
    return (this.store.a[this.offset + Rec.FLAGS] & Flag.HAS_SELF) !== 0;
  }

  add(d: DeltaLike): void {
    addOneRow(this.store.a, this.offset, asOneRow(d), 0);
  }

  /** Adds function i of a decoded delta (the same as `add` of that function's row, without building it). */
  addFromView(v: DeltaView, i: number): void {
    addOneRow(this.store.a, this.offset, v, i);
  }

  /** Number of deltas added: changes with every addition. */
  get version(): number {
    return this.store.a[this.offset + Rec.ADDED];
  }

  /** From now on `addRowsToRecords` leaves this record's rows to the caller (see Flag.SPLIT). */
  markSplit(): void {
    this.store.a[this.offset + Rec.FLAGS] |= Flag.SPLIT;
  }

  /** A standalone copy (its own store). */
  copy(): Totals {
    const t = new Totals();
    t.store.a.set(this.store.a.subarray(this.offset, this.offset + Rec.RECORD), t.offset);
    return t;
  }

  /**
   * Mean time per call (ns): the estimated total over the calls, so that mean x calls = total;
   * undefined when nothing was timed. Equal to the mean of the timed calls when every call was
   * timed. When sampled, the plain mean of the timed calls would be off: it overweights the first,
   * fully timed (often slowest) calls, and counts a sampled outlier at full weight where the
   * estimate counts its excess once (recorder.ts OUTLIER_FACTOR).
   */
  meanNs(): number | undefined {
    return this.timed > 0 ? this.estimatedTotalNs() / this.calls : undefined;
  }

  /** Estimated total over all calls (exact when every call was timed). */
  estimatedTotalNs(): number {
    const a = this.store.a;
    const o = this.offset;
    const mean = ratio(a[o + Rec.TOTAL_NS], a[o + Rec.TIMED]) ?? 0;
    return a[o + Rec.EST_NS] + a[o + Rec.UNTIMED_CALLS] * mean;
  }

  estimatedSelfNs(): number {
    const a = this.store.a;
    const o = this.offset;
    const mean = ratio(a[o + Rec.SELF_NS], a[o + Rec.TIMED]) ?? 0;
    return a[o + Rec.EST_SELF_NS] + a[o + Rec.UNTIMED_CALLS] * mean;
  }

  /** Recursion-aware estimate, never above estimatedTotalNs(); undefined when never measured. */
  estimatedInclusiveNs(): number | undefined {
    const a = this.store.a;
    const o = this.offset;
    if ((a[o + Rec.FLAGS] & Flag.HAS_INCL) === 0) return undefined;
    const mean = ratio(a[o + Rec.INCL_NS], a[o + Rec.TIMED]) ?? 0;
    return Math.min(a[o + Rec.EST_INCL_NS] + a[o + Rec.UNTIMED_CALLS] * mean, this.estimatedTotalNs());
  }
}

/** Totals, histogram and per-process split of one function or span. */
export class TimingAgg {
  readonly all: Totals;
  readonly hist: Histogram;
  /**
   * Per-process sums, created when a second process reports: until then every delta came from
   * `firstPid`, whose share is `all` itself (the same additions in the same order), so the common
   * single-process case does not add each delta twice.
   */
  private byPid: Map<number, Totals> | null = null;
  private firstPid: number | undefined;

  /** `store`: where the sums live (a report's functions share one). */
  constructor(store = new RecordStore(Rec.RECORD)) {
    this.all = new Totals(store);
    this.hist = new Histogram(store); // next to the sums: one delta touches both
    if (this.hist.offset !== this.all.offset + Rec.RECORD) throw new Error('TimingAgg: histogram record not next to the totals');
  }

  get calls(): number {
    return this.all.calls;
  }

  /** Changes with every delta added (a report made at another version is out of date). */
  get version(): number {
    return this.all.version;
  }

  /**
   * Where `addRowsToRecords` may add rows of `pid` directly: the offset of this aggregate's record
   * (the totals, then the histogram's) while only `pid` has reported; -1 otherwise.
   */
  recordFor(pid: number): number {
    return this.byPid === null && this.firstPid === pid ? this.all.offset : -1;
  }

  /**
   * Adds one delta; throws on a malformed histogram before changing anything (the caller turns
   * that into a warning). `withHist` false: the histogram was added already (addFromView).
   */
  add(pid: number, d: DeltaLike, withHist = true): void {
    const timed = nonNegative(d.timed);
    if (withHist && timed > 0 && Array.isArray(d.hist)) {
      this.hist.addSparseExact(d.hist, nonNegative(d.totalNs), finiteOr(d.minNs), finiteOr(d.maxNs));
    }
    if (this.byPid === null) {
      this.firstPid ??= pid;
      if (pid === this.firstPid) {
        this.all.add(d);
        return;
      }
      this.byPid = new Map([[this.firstPid, this.all.copy()]]);
      this.all.markSplit();
    }
    this.all.add(d);
    let share = this.byPid.get(pid);
    if (!share) this.byPid.set(pid, (share = new Totals()));
    share.add(d);
  }

  /** Adds function i of a decoded delta (the server's hot path: no row object); throws like `add`. */
  addFromView(pid: number, v: DeltaView, i: number): void {
    if (clamp(v.timed[i]) > 0) {
      const start = v.histStart[i];
      this.hist.addSparseExact(v.hist, clamp(v.totalNs[i]), finiteOr(v.minNs[i]), finiteOr(v.maxNs[i]), start, start + v.histLen[i]);
    }
    if (pid === this.firstPid && this.byPid === null) {
      this.all.addFromView(v, i);
      return;
    }
    this.add(pid, functionAt(v, i), false);
  }

  /** Each process's totals (one entry until a second process reports). */
  processes(): [number, Totals][] {
    if (this.byPid) return [...this.byPid.entries()];
    return this.firstPid === undefined ? [] : [[this.firstPid, this.all]];
  }
}

/** Rows merged per block: their records' lines stay in the CPU's caches between the two passes. */
const BLOCK = 256;
const blockAt = new Int32Array(BLOCK);

/**
 * Adds the rows of a decoded delta that can go straight into their aggregates' records, exactly as
 * `TimingAgg.addFromView` would, without touching an aggregate object: the server's hot path (up
 * to 5,000 rows per 100 ms). Block by block: each row's record, then the histograms
 * (`addRowsInWindow`), then the totals of the rows the histograms took, each pass one loop.
 * `recordOf[id]`: function id's aggregate record in `a` (`TimingAgg.recordFor`), -1 when unknown.
 * Rows it leaves (no record, split between processes, a count outside the histogram's window, a
 * malformed histogram) are appended to `rest`, in order and unchanged, for `addFromView`. `a`
 * must be the store's current array (nothing may allocate from the store meanwhile).
 */
export function addRowsToRecords(a: Float64Array, recordOf: Int32Array, v: DeltaView, rest: number[]): void {
  const { n, ids } = v;
  const at = blockAt;
  for (let from = 0; from < n; from += BLOCK) {
    const to = Math.min(n, from + BLOCK);
    for (let r = from; r < to; r++) {
      const id = ids[r];
      const o = id < recordOf.length ? recordOf[id] : -1; // undefined for an id that is not an integer
      at[r - from] = o >= 0 && (a[o + Rec.FLAGS] & Flag.SPLIT) === 0 ? o : -1;
    }
    addRowsInWindow(a, at, Rec.RECORD, v, from, to);
    addTotalsRows(a, at, v, from, to);
    for (let r = from; r < to; r++) if (at[r - from] < 0) rest.push(r);
  }
}
