/**
 * perf-lens/api — explicit measurements for Perf Lens. Harmless when the program runs without
 * the Perf Lens runtime: span/measure then only run your code, memoize still memoizes.
 */

/** A running span. End it with `end()` or a `using` declaration. */
export interface Span {
  /** Ends the span (once; later calls do nothing). */
  end(): void;
  [Symbol.dispose](): void;
}

/** Starts timing a named block: `using s = span('load')` or `const s = span('load'); ...; s.end()`. */
export function span(name: string): Span;

/**
 * Times `fn` under `name` and returns what it returns (for an async fn, a promise that settles the
 * same way); rethrows what it throws. Failures are counted as errors of the span.
 */
export function measure<T>(name: string, fn: () => T): T;

export interface MemoizeOptions<A extends unknown[]> {
  /** Most entries kept; the least recently used is evicted beyond it (default: unbounded). */
  maxSize?: number;
  /** Entries older than this many ms are recomputed (default: never expire). */
  ttlMs?: number;
  /** Name shown in reports (default: the function's name). */
  name?: string;
  /** Cache key of a call (default: the argument itself for one argument, else the arguments by value/identity). */
  key?: (...args: A) => unknown;
}

export type Memoized<F extends (...args: never[]) => unknown> = F & {
  /** Drops every cached entry. */
  clear(): void;
  /** Number of cached entries. */
  readonly size: number;
};

/**
 * Caches results of `fn` (LRU bounded by `maxSize`, entries expire after `ttlMs`). A promise result
 * is cached as the promise; a rejected one is dropped so the next call retries. With the runtime
 * loaded, hits, misses and evictions are reported per memoized function.
 */
export function memoize<F extends (...args: never[]) => unknown>(fn: F, options?: MemoizeOptions<Parameters<F>>): Memoized<F>;
