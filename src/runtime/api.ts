/**
 * `perf-lens/api`: explicit measurements. Dependency-free and harmless without the runtime: it
 * looks up the runtime's global (set by the injected preload) at each call and does nothing extra
 * when it is absent; memoize() memoizes either way.
 */
const RUNTIME_KEY = Symbol.for('perf-lens.runtime');

interface SpanHandle { end(): void }
interface Counters { hit(): void; miss(): void; evict(n?: number): void; size(n: number): void }
interface RuntimeLike {
  span(name: string): SpanHandle;
  spanError?(name: string): void;
  memo(name: string, file?: string, line?: number): Counters;
}

function runtime(): RuntimeLike | undefined {
  return (globalThis as Record<symbol, RuntimeLike | undefined>)[RUNTIME_KEY];
}

export interface Span {
  /** Ends the span (once; later calls do nothing). */
  end(): void;
  [Symbol.dispose](): void;
}

const disposeKey: symbol = typeof Symbol.dispose === 'symbol' ? Symbol.dispose : Symbol.for('Symbol.dispose');

function makeSpan(end: () => void): Span {
  return { end, [disposeKey]: end } as unknown as Span;
}

const NOOP_SPAN = makeSpan(() => undefined);

/** Starts timing a named block: `using s = span('load')` or `const s = span('load'); ...; s.end()`. */
export function span(name: string): Span {
  const rt = runtime();
  if (!rt) return NOOP_SPAN;
  const h = rt.span(String(name));
  return makeSpan(() => h.end());
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * Times `fn` under `name` and returns what it returns (for an async fn, a promise settling the
 * same way); rethrows what it throws. Failures are counted as errors of the span.
 */
export function measure<T>(name: string, fn: () => T): T {
  const rt = runtime();
  if (!rt) return fn();
  const key = String(name);
  const h = rt.span(key);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    rt.spanError?.(key);
    h.end();
    throw err;
  }
  if (!isThenable(result)) {
    h.end();
    return result;
  }
  return result.then(
    (v) => {
      h.end();
      return v;
    },
    (err: unknown) => {
      rt.spanError?.(key);
      h.end();
      throw err;
    },
  ) as T;
}

export interface MemoizeOptions<A extends unknown[]> {
  /** Most entries kept; the least recently used is evicted beyond it (default: unbounded). */
  maxSize?: number;
  /** Entries older than this are recomputed (default: never expire). */
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

interface Entry { value: unknown; expires: number }

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

function defaultKey(args: unknown[]): unknown {
  if (args.length === 1) return args[0];
  let key = `${args.length}`;
  for (const a of args) {
    if ((typeof a === 'object' && a !== null) || typeof a === 'function') {
      let id = objectIds.get(a);
      if (id === undefined) objectIds.set(a, (id = nextObjectId++));
      key += `\u0000o${id}`;
    } else {
      key += `\u0000${typeof a}:${String(a)}`;
    }
  }
  return key;
}

/** `file` and 1-based `line` of the caller of memoize(), from a stack trace. */
function callerLocation(): { file?: string; line?: number } {
  const stack = new Error().stack ?? '';
  let own: string | undefined;
  for (const f of stack.split('\n').slice(1)) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(f);
    if (!m) continue;
    own ??= m[1]; // the first frame is this module: skip all of its frames
    if (m[1] === own) continue;
    let file = m[1];
    if (file.startsWith('file://')) {
      try {
        file = decodeURIComponent(new URL(file).pathname);
      } catch {
        // keep the URL
      }
    }
    return { file, line: Number(m[2]) };
  }
  return {};
}

/**
 * Caches results of `fn` (LRU bounded by `maxSize`, entries expire after `ttlMs`). A promise
 * result is cached as the promise; a rejected one is dropped so the next call retries.
 * With the runtime loaded, hits/misses/evictions are reported per memoized function.
 */
export function memoize<F extends (...args: never[]) => unknown>(fn: F, options: MemoizeOptions<Parameters<F>> = {}): Memoized<F> {
  if (typeof fn !== 'function') throw new TypeError('memoize(fn): fn must be a function');
  const maxSize = options.maxSize ?? Infinity;
  const ttlMs = options.ttlMs ?? Infinity;
  if (!(maxSize >= 1)) throw new RangeError(`memoize: maxSize must be >= 1 (got ${String(options.maxSize)})`);
  if (!(ttlMs > 0)) throw new RangeError(`memoize: ttlMs must be > 0 (got ${String(options.ttlMs)})`);
  const keyOf = options.key;
  const cache = new Map<unknown, Entry>();
  const rt = runtime();
  const name = options.name ?? (fn.name || '<anonymous>');
  const counters = rt ? (() => { const at = callerLocation(); return rt.memo(name, at.file, at.line); })() : undefined;

  const memoized = function (this: unknown, ...args: Parameters<F>): unknown {
    const key = keyOf ? keyOf(...args) : defaultKey(args);
    const now = ttlMs === Infinity ? 0 : Date.now();
    const hit = cache.get(key);
    if (hit !== undefined) {
      if (ttlMs === Infinity || hit.expires > now) {
        cache.delete(key);
        cache.set(key, hit); // most recently used goes last
        counters?.hit();
        return hit.value;
      }
      cache.delete(key);
      counters?.evict(1);
    }
    counters?.miss();
    const value = fn.apply(this, args);
    cache.set(key, { value, expires: now + ttlMs });
    if (cache.size > maxSize) {
      const oldest = cache.keys().next().value;
      cache.delete(oldest);
      counters?.evict(1);
    }
    counters?.size(cache.size);
    if (isThenable(value)) {
      value.then(undefined, () => {
        const e = cache.get(key);
        if (e && e.value === value) {
          cache.delete(key);
          counters?.size(cache.size);
        }
      });
    }
    return value;
  } as unknown as Memoized<F>;
  Object.defineProperty(memoized, 'size', { get: () => cache.size });
  memoized.clear = () => {
    cache.clear();
    counters?.size(0);
  };
  return memoized;
}
