/**
 * The contract between transformed code and the recorder. The transform emits calls to these
 * names; the recorder implements them. Changing a name or signature here means bumping
 * TRANSFORM_VERSION (it keys the on-disk transform cache).
 *
 * Each transformed file starts (on its first line, after any hashbang and directive prologue, with
 * no newline inserted) with:
 *
 *     var __pl$=(globalThis[Symbol.for("perf-lens.runtime")]||NOOP).file(FILES, FNS),__pl$c=__pl$.c,__pl$m=__pl$.m,__pl$a=__pl$.a;
 *
 * where FILES is a JSON array of original file paths and FNS a JSON array of
 * [name, fileIndex, line, column, kind] tuples (kind: 0 sync, 1 async, 2 generator,
 * 3 async generator), in the order of the local indexes used below. `c`, `m`, `a` are the
 * recorder's typed arrays that the untimed fast path uses inline (no call at all for most calls).
 * ES modules register lazily instead, because in an import cycle another module can call a hoisted
 * function before this module's prologue has run (the recorder sees no difference: `file` is
 * still called once per file, before the first call of a function):
 *
 *     var __pl$=(globalThis[Symbol.for("perf-lens.runtime")],__pl$f()),__pl$c,__pl$m,__pl$a;function __pl$f(){if(!__pl$){__pl$=(...).file(FILES, FNS);__pl$c=__pl$.c;__pl$m=__pl$.m;__pl$a=__pl$.a}return __pl$}
 *
 * and their function heads read `(__pl$c||__pl$f().c)` instead of `__pl$c`.
 *
 * Sync functions, methods, accessors, constructors, arrows and static blocks:
 *     { const __t$=--__pl$c[I]===0?__pl$.t(I):-1; let __o$=0, __v$; try { BODY ;__o$=1 }
 *       finally { (__o$===0||__t$!==-1?__pl$.d(I,__t$,__o$):__pl$a)[0]+=__pl$m[I] } }
 *   i.e. a call is counted by decrementing its sampling countdown `c[I]`; only when that reaches 0
 *   is it timed (`t`), and only a timed call or one that threw calls `d`. An untimed call adds its
 *   function's mean self time `m[I]` to the self-time accumulator `a[0]` (see recorder.ts); `d`
 *   does the bookkeeping of a timed call and returns a scratch array for that addition (or `a`
 *   for an untimed call that threw). Every operation but the call runs on every call, on purpose:
 *   V8 deoptimizes code at an operation that had no type feedback when it was compiled, and
 *   on-stack-replaced code of a long loop stays cached, so a path first taken after optimization
 *   (an untimed call after the first fully timed ones) would deoptimize again and again.
 *   Every `return X` of the function is written `return (__v$=(X),__o$=1,__v$)` so that a call
 *   that throws is told apart from one that returns (no catch clause, so "pause on uncaught
 *   exceptions" still stops at the user's throw).
 * Async functions (sample = time to settle): `const __t$=--__pl$c[I]===0?__pl$.ta(I):0` and
 *   `finally{__o$===0||__t$!==0?__pl$.ra(I,__t$,__o$):0}` (they stay off the self-time stack,
 *   since other calls interleave with their awaits).
 * Generators (sample = first resume to completion): as async, plus
 *   `catch(__e$){__pl$.e(I);throw __e$}` because a finally cannot tell `.return()` from a throw.
 */
export const RUNTIME_GLOBAL_KEY = 'perf-lens.runtime';
export const TRANSFORM_VERSION = 2;

export const enum FnKind {
  Sync = 0,
  Async = 1,
  Generator = 2,
  AsyncGenerator = 3,
}

/** [name, fileIndex, line (1-based), column (1-based), kind] in the original source. */
export type FnTuple = [string, number, number, number, FnKind];

export interface FileRecorder {
  /** Sampling countdown per function: decremented by every call; the call that takes it to 0 is timed. */
  c: Float64Array;
  /** Mean self time per function, ns: what an untimed sync call adds to `a[0]`. */
  m: Float64Array;
  /** Self-time accumulator, ns (one element, shared by all files). */
  a: Float64Array;
  /**
   * Start of a sync call whose countdown ran out (the caller decremented it): returns the frame
   * token that the code passes back to `r` unchanged (a small integer >= 1, so no heap number is
   * allocated per call).
   */
  t(i: number): number;
  /** Start of a timed async/generator call (countdown already decremented): returns a non-zero token. */
  ta(i: number): number;
  /** Sync start including the countdown (for callers other than transformed code): a token for `r`, -1 when untimed. */
  s(i: number): number;
  /**
   * Sync end of the inline tail (a timed call, or one that threw: `ok` 0): returns the array whose
   * element 0 the code then adds `m[i]` to (`a` for an untimed call, a scratch array otherwise).
   */
  d(i: number, t: number, ok: number): Float64Array;
  /** Sync end including the self-time bookkeeping (for callers other than transformed code). */
  r(i: number, t: number, ok: number): void;
  /** Async/generator start including the countdown (not on the self-time stack); 0 when untimed. */
  sa(i: number): number;
  /** Async/generator end. */
  ra(i: number, t: number, ok: number): void;
  /** Generator body threw. */
  e(i: number): void;
}

export interface RuntimeGlobal {
  /** Registers one transformed file's functions; returns the recorder its code calls. */
  file(files: string[], fns: FnTuple[]): FileRecorder;
  /** Explicit API, see src/runtime/api.ts. */
  span(name: string): { end(): void; [Symbol.dispose]?(): void };
  memo(name: string, file?: string, line?: number): MemoCounters;
}

export interface MemoCounters {
  hit(): void;
  miss(): void;
  evict(n?: number): void;
  size(n: number): void;
}
