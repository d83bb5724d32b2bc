/**
 * Running timing sums of one function or span: `Totals` (counts and time sums with their sampling
 * estimates) and `TimingAgg` (totals + histogram + per-process split). Pure.
 *
 * The sums and the histogram's scalars live in Float64Array records (record-store.ts says why);
 * a report's functions share one store, spans and per-process shares get stores of their own.
 */
import type { SpanDelta } from '../protocol/runtime';
import { functionAt, type DeltaView } from './delta-columns';
import { Histogram } from './histogram';
import { RecordStore } from './record-store';
import { ratio } from './stats';

/** What a delta says about one function or span (optional fields: absent = not measured). */
export type DeltaLike = Omit<SpanDelta, 'name'> & { selfNs?: number; estSelfNs?: number; inclusiveNs?: number; estInclusiveNs?: number };

// Offsets of the fields of one record.
const CALLS = 0;
const ERRORS = 1;
const TIMED = 2;
const TOTAL_NS = 3;
const SELF_NS = 4;
const INCL_NS = 5;
const EST_NS = 6;
const EST_SELF_NS = 7;
const EST_INCL_NS = 8;
const UNTIMED_CALLS = 9;
const FLAGS = 10;
const RECORD = 11;
const HAS_SELF = 1;
const HAS_INCL = 2;


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

/**
 * Adds one delta to the record at `o`. Optional values are NaN when absent. Values that are not
 * finite or not positive count as 0.
 */
function addToRecord(
  a: Float64Array, o: number, callsIn: number, errors: number, timedIn: number, totalIn: number,
  selfIn: number, inclIn: number, estIn: number, estSelfIn: number, estInclIn: number,
): void {
  const calls = clamp(callsIn);
  const timed = clamp(timedIn);
  const totalNs = clamp(totalIn);
  const hasSelf = selfIn === selfIn;
  const selfNs = clamp(selfIn);
  a[o + CALLS] += calls;
  a[o + ERRORS] += clamp(errors);
  a[o + TIMED] += timed;
  a[o + TOTAL_NS] += totalNs;
  let flags = a[o + FLAGS];
  if (hasSelf) {
    a[o + SELF_NS] += selfNs;
    flags |= HAS_SELF;
  }
  const hasIncl = inclIn === inclIn;
  const inclNs = hasIncl ? Math.min(clamp(inclIn), totalNs) : totalNs;
  a[o + INCL_NS] += inclNs;
  if (hasIncl) flags |= HAS_INCL;
  a[o + FLAGS] = flags;
  if (estIn === estIn) {
    const estNs = clamp(estIn);
    a[o + EST_NS] += estNs;
    a[o + EST_SELF_NS] += estSelfIn === estSelfIn ? clamp(estSelfIn) : selfNs;
    a[o + EST_INCL_NS] += estInclIn === estInclIn ? Math.min(clamp(estInclIn), estNs) : estNs;
  } else if (timed === 0) {
    a[o + UNTIMED_CALLS] += calls;
  } else if (timed >= calls) {
    a[o + EST_NS] += totalNs;
    a[o + EST_SELF_NS] += selfNs;
    a[o + EST_INCL_NS] += inclNs;
  } else {
    const scale = calls / timed;
    a[o + EST_NS] += totalNs * scale;
    a[o + EST_SELF_NS] += selfNs * scale;
    a[o + EST_INCL_NS] += inclNs * scale;
  }
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
  private readonly o: number;

  constructor(private readonly store: RecordStore = new RecordStore(RECORD)) {
    this.o = store.allocate(RECORD);
  }

  get calls(): number {
    return this.store.a[this.o + CALLS];
  }

  get errors(): number {
    return this.store.a[this.o + ERRORS];
  }

  get timed(): number {
    return this.store.a[this.o + TIMED];
  }

  get totalNs(): number {
    return this.store.a[this.o + TOTAL_NS];
  }

  get hasSelf(): boolean {
    return (this.store.a[this.o + FLAGS] & HAS_SELF) !== 0;
  }

  add(d: DeltaLike): void {
    addToRecord(
      this.store.a, this.o, num(d.calls), num(d.errors), num(d.timed), num(d.totalNs),
      optional(d.selfNs), optional(d.inclusiveNs), optional(d.estTotalNs), optional(d.estSelfNs), optional(d.estInclusiveNs),
    );
  }

  /** Adds function i of a decoded delta (the same as `add` of that function's row, without building it). */
  addFromView(v: DeltaView, i: number): void {
    addToRecord(
      this.store.a, this.o, v.calls[i], v.errors[i], v.timed[i], v.totalNs[i],
      valueAt(v.selfNs, i), valueAt(v.inclusiveNs, i), valueAt(v.estTotalNs, i), valueAt(v.estSelfNs, i), valueAt(v.estInclusiveNs, i),
    );
  }

  /** A standalone copy (its own store). */
  copy(): Totals {
    const t = new Totals();
    t.store.a.set(this.store.a.subarray(this.o, this.o + RECORD), t.o);
    return t;
  }

  /** Mean over timed calls (ns), undefined when nothing was timed. */
  meanNs(): number | undefined {
    return ratio(this.totalNs, this.timed);
  }

  /** Estimated total over all calls (exact when every call was timed). */
  estimatedTotalNs(): number {
    const a = this.store.a;
    const o = this.o;
    const mean = ratio(a[o + TOTAL_NS], a[o + TIMED]) ?? 0;
    return a[o + EST_NS] + a[o + UNTIMED_CALLS] * mean;
  }

  estimatedSelfNs(): number {
    const a = this.store.a;
    const o = this.o;
    const mean = ratio(a[o + SELF_NS], a[o + TIMED]) ?? 0;
    return a[o + EST_SELF_NS] + a[o + UNTIMED_CALLS] * mean;
  }

  /** Recursion-aware estimate, never above estimatedTotalNs(); undefined when never measured. */
  estimatedInclusiveNs(): number | undefined {
    const a = this.store.a;
    const o = this.o;
    if ((a[o + FLAGS] & HAS_INCL) === 0) return undefined;
    const mean = ratio(a[o + INCL_NS], a[o + TIMED]) ?? 0;
    return Math.min(a[o + EST_INCL_NS] + a[o + UNTIMED_CALLS] * mean, this.estimatedTotalNs());
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
  constructor(store?: RecordStore) {
    this.all = new Totals(store);
    this.hist = new Histogram(store); // next to the sums: one delta touches both
  }

  get calls(): number {
    return this.all.calls;
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
