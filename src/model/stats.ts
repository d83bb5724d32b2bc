/** Small exact statistics over plain arrays. Pure. */

export function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Arithmetic mean, or undefined for an empty array. */
export function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : sum(values) / values.length;
}

/** Sample variance (n - 1 denominator), or undefined with fewer than two values. */
export function variance(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const m = sum(values) / values.length;
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return ss / (values.length - 1);
}

export function stddev(values: readonly number[]): number | undefined {
  const v = variance(values);
  return v === undefined ? undefined : Math.sqrt(v);
}

/** Nearest-rank quantile (q in 0..1) of unsorted values; undefined when empty. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  if (!(q > 0)) return sorted[0];
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** Mean of a sum over a count, undefined when the count is 0. */
export function ratio(total: number, count: number): number | undefined {
  return count > 0 ? total / count : undefined;
}

/** Nanoseconds to milliseconds, rounded to whole nanoseconds so reports stay compact. */
export function nsToMs(ns: number): number {
  return Math.round(ns) / 1e6;
}

/** Like nsToMs, but passes undefined through as null (JSON has no undefined). */
export function nsToMsOrNull(ns: number | undefined): number | null {
  return ns === undefined ? null : nsToMs(ns);
}
