/** Bounded history of samples. Pure. */

export const DEFAULT_HISTORY = 1000;

/** Fixed-capacity FIFO: pushing past capacity drops the oldest item. */
export class RingBuffer<T> {
  private readonly items: T[] = [];
  private start = 0;
  private pushedTotal = 0;

  constructor(readonly capacity: number = DEFAULT_HISTORY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
  }

  push(item: T): void {
    this.pushedTotal++;
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Items currently held. */
  get length(): number {
    return this.items.length;
  }

  /** Items ever pushed (including dropped ones). */
  get pushed(): number {
    return this.pushedTotal;
  }

  /** Held items, oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }

  /** Newest item, if any. */
  last(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items[(this.start + this.items.length - 1) % this.items.length];
  }
}

/** Numeric fields of T. */
export type NumericKeys<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];
export type FieldValues<T> = { [K in NumericKeys<T>]: number };

/**
 * A RingBuffer of samples that also tracks, over EVERY sample ever pushed (not only the held
 * ones), the average and the peak of each numeric field.
 */
export class SampleHistory<T extends object> {
  private readonly buffer: RingBuffer<T>;
  private readonly sums = new Map<NumericKeys<T>, number>();
  private readonly peaks = new Map<NumericKeys<T>, number>();

  constructor(
    private readonly fields: readonly NumericKeys<T>[],
    capacity: number = DEFAULT_HISTORY,
  ) {
    this.buffer = new RingBuffer<T>(capacity);
  }

  push(sample: T): void {
    this.buffer.push(sample);
    for (const f of this.fields) {
      const v = sample[f] as unknown;
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      this.sums.set(f, (this.sums.get(f) ?? 0) + v);
      const peak = this.peaks.get(f);
      if (peak === undefined || v > peak) this.peaks.set(f, v);
    }
  }

  /** Samples ever pushed. */
  get count(): number {
    return this.buffer.pushed;
  }

  /** Held samples, oldest first. */
  samples(): T[] {
    return this.buffer.toArray();
  }

  /** Average of each field over all samples ever pushed; undefined before the first. */
  avg(): FieldValues<T> | undefined {
    if (this.count === 0) return undefined;
    const out = {} as FieldValues<T>;
    for (const f of this.fields) out[f] = (this.sums.get(f) ?? 0) / this.count;
    return out;
  }

  /** Peak of each field over all samples ever pushed; undefined before the first. */
  peak(): FieldValues<T> | undefined {
    if (this.count === 0) return undefined;
    const out = {} as FieldValues<T>;
    for (const f of this.fields) out[f] = this.peaks.get(f) ?? 0;
    return out;
  }
}
