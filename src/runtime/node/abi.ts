/**
 * The contract between transformed code and the recorder. The transform emits calls to these
 * names; the recorder implements them. Changing a name or signature here means bumping
 * TRANSFORM_VERSION (it keys the on-disk transform cache).
 *
 * Each transformed file starts (on its first line, after any hashbang and directive prologue, with
 * no newline inserted) with:
 *
 *     var __pl$=(globalThis[Symbol.for("perf-lens.runtime")]||NOOP).file(FILES, FNS);
 *
 * where FILES is a JSON array of original file paths and FNS a JSON array of
 * [name, fileIndex, line, column, kind] tuples (kind: 0 sync, 1 async, 2 generator,
 * 3 async generator), in the order of the local indexes used below.
 * ES modules register lazily instead, because in an import cycle another module can call a hoisted
 * function before this module's prologue has run (the recorder sees no difference: `file` is
 * still called once per file, before the first `s`/`sa`):
 *
 *     var __pl$=(globalThis[Symbol.for("perf-lens.runtime")],__pl$f());function __pl$f(){return __pl$||(__pl$=(...).file(FILES, FNS))}
 *
 * and their function heads read `(__pl$||__pl$f()).s(I)`.
 *
 * Sync functions, methods, accessors, constructors, arrows and static blocks:
 *     { const __t$=__pl$.s(I); let __o$=0, __v$; try { BODY ;__o$=1 } finally { __pl$.r(I,__t$,__o$) } }
 *   with every `return X` of the function written `return (__v$=(X),__o$=1,__v$)` so that a call
 *   that throws is told apart from one that returns (no catch clause, so "pause on uncaught
 *   exceptions" still stops at the user's throw).
 * Async functions (sample = time to settle): same shape with `sa`/`ra` (they stay off the
 *   self-time stack, since other calls interleave with their awaits).
 * Generators (sample = first resume to completion): `sa`/`ra` plus
 *   `catch(__e$){__pl$.e(I);throw __e$}` because a finally cannot tell `.return()` from a throw.
 */
export const RUNTIME_GLOBAL_KEY = 'perf-lens.runtime';
export const TRANSFORM_VERSION = 1;

export const enum FnKind {
  Sync = 0,
  Async = 1,
  Generator = 2,
  AsyncGenerator = 3,
}

/** [name, fileIndex, line (1-based), column (1-based), kind] in the original source. */
export type FnTuple = [string, number, number, number, FnKind];

export interface FileRecorder {
  /**
   * Sync start: counts the call; returns a token that the code passes back to `r` unchanged (the
   * recorder uses a small integer frame index, so no heap number is allocated per call).
   */
  s(i: number): number;
  /** Sync end. `ok` is 0 when the body threw. */
  r(i: number, t: number, ok: number): void;
  /** Async/generator start (not on the self-time stack). */
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
