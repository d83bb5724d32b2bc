/**
 * A growable Float64Array holding fixed-size records of numbers side by side. Pure.
 *
 * Why: the language server updates thousands of per-function aggregates per delta. Numbers other
 * than small integers in object fields are boxed (one heap object each), so an aggregate's sums
 * were a dozen scattered cache misses; records of one store sit next to each other, and the
 * records of a report's functions are allocated in function order, so a delta walks memory
 * forwards. Holders keep (store, offset) and read `store.a` each time: it is replaced when it grows.
 */
export class RecordStore {
  a: Float64Array;
  private used = 0;

  /** `capacity`: numbers to reserve. */
  constructor(capacity = 16) {
    this.a = new Float64Array(Math.max(1, capacity));
  }

  /** Offset of a new record of `size` numbers, all 0. */
  allocate(size: number): number {
    const o = this.used;
    this.used += size;
    if (this.used > this.a.length) {
      const grown = new Float64Array(Math.max(this.used, this.a.length * 2));
      grown.set(this.a);
      this.a = grown;
    }
    return o;
  }
}
