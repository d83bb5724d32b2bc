/**
 * Starts the runtime in one process or thread: recorder + global, transport, resource sampler,
 * periodic deltas and the exit flush. Also provides `transformFile`, used by the CommonJS hook.
 */
import * as path from 'path';
import { isMainThread, threadId } from 'worker_threads';
import { ENV, PROTOCOL_VERSION, type DeltaMessage, type HelloMessage, type RuntimeMessage } from '../../protocol/runtime';
import { RUNTIME_GLOBAL_KEY, type RuntimeGlobal } from './abi';
import { encodeDeltaColumns } from './delta-encoder';
import type { RuntimeConfig } from './config';
import { installExitHooks } from './exit';
import { instrumentSource } from './instrument';
import { Recorder, type RowBudget } from './recorder';
import { ResourceSampler } from './resources';
import { createScope, type ScopeTest } from './scope';
import { Transport } from './transport';
import { Warnings } from './warnings';

/** Functions a delta always carries when that many changed (see `budget` below). */
const MIN_ROWS_PER_DELTA = 256;

/** Marks code we already instrumented (the header every transformed file starts with). */
export const INSTRUMENTED_MARKER = `var __pl$=(globalThis[Symbol.for("${RUNTIME_GLOBAL_KEY}")]`;

export interface Runtime {
  config: RuntimeConfig;
  recorder: Recorder;
  warnings: Warnings;
  inScope: ScopeTest;
  transport: Transport | undefined;
  /** Instruments one file's final JS; returns it unchanged when out of scope or on failure. */
  transformFile: (code: string, filename: string, format: 'commonjs' | 'module') => string;
  /** Cuts and ships a delta now. */
  flush: () => void;
  /** Runs `fn` (synchronously) just before the final flush at exit. */
  beforeFinal: (fn: () => void) => void;
}

const line = (m: RuntimeMessage): string => `${JSON.stringify(m)}\n`;

/** Directory of our own bundles (dist/): never instrumented. */
export function ownDir(): string {
  return path.resolve(__dirname, '..');
}

export function startRuntime(config: RuntimeConfig): Runtime {
  const warnings = new Warnings(config.quiet);
  for (const p of config.problems) warnings.warn(p);
  const recorder = new Recorder({ mode: config.mode, sampleEvery: config.sampleEvery });
  const inScope = createScope({
    includeNodeModules: config.includeNodeModules,
    include: config.include,
    exclude: config.exclude,
    root: config.root,
    ownDirs: [ownDir()],
  });

  let transport: Transport | undefined;
  if (config.socket) {
    transport = new Transport(config.socket, (why) => {
      warnings.warn(`cannot reach the collector at ${config.socket} (${why}); the program runs on unmeasured`, undefined, 'transport');
    });
    const hello: HelloMessage = {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      token: config.token,
      pid: process.pid,
      ppid: process.ppid,
      threadId,
      argv: process.argv.slice(),
      execArgv: process.execArgv.slice(),
      cwd: process.cwd(),
      node: process.version,
      mode: config.mode,
      startedAt: Date.now(),
    };
    if (config.session) hello.session = config.session;
    transport.send(line(hello));
    transport.connect();
    const t = transport;
    warnings.connect((message, file) => t.send(line(file ? { type: 'warning', message, file } : { type: 'warning', message })));
  }

  // One process-wide view of memory/CPU: sampled by the main thread only.
  const sampler = isMainThread && config.resourceIntervalMs > 0 ? new ResourceSampler(config.resourceIntervalMs) : undefined;
  sampler?.start();

  // A program with thousands of busy functions: each delta carries a share of them, so every
  // function is sent about once per spreadMs (the editor refreshes lenses about once a second)
  // instead of in every delta; what waits keeps adding up, nothing is lost. The last cut takes all.
  const budget: RowBudget | undefined =
    config.spreadMs > 0 ? { minRows: MIN_ROWS_PER_DELTA, spreadCuts: Math.max(1, Math.round(config.spreadMs / config.flushIntervalMs)) } : undefined;
  const cutMessages = (final: boolean): string => {
    const { defs, fns, spans, memos } = recorder.cut(final ? undefined : budget);
    let out = '';
    if (defs.length > 0) out += line({ type: 'functions', defs });
    if (fns.length > 0 || spans.length > 0 || memos.length > 0) {
      const delta: DeltaMessage = { type: 'delta', at: Date.now(), n: fns.length, cols: encodeDeltaColumns(fns) };
      if (spans.length > 0) delta.spans = spans;
      if (memos.length > 0) delta.memos = memos;
      out += line(delta);
    }
    const samples = sampler?.drain() ?? [];
    if (samples.length > 0) out += line({ type: 'resources', samples });
    return out;
  };

  const flush = (): void => {
    try {
      const text = cutMessages(false);
      if (transport) {
        transport.send(text);
        transport.flush(false);
      }
    } catch (err) {
      warnings.warn(`sending measurements failed (${(err as Error).message}); measurements stop here`, undefined, 'flush');
      clearInterval(timer);
    }
  };
  const timer = setInterval(flush, config.flushIntervalMs);
  timer.unref();

  const finalHooks: (() => void)[] = [];
  installExitHooks((reason, exitCode) => {
    for (const fn of finalHooks) {
      try {
        fn();
      } catch {
        // a failing hook must not cost the final flush
      }
    }
    clearInterval(timer);
    sampler?.stop();
    if (!transport) return;
    sampler?.sample();
    let text = cutMessages(true);
    text += line(exitCode === undefined ? { type: 'bye', reason } : { type: 'bye', reason, exitCode });
    transport.send(text);
    transport.flush(true);
    transport.close();
  }, isMainThread);

  const transformFile = (code: string, filename: string, format: 'commonjs' | 'module'): string => {
    if (!inScope(filename) || code.includes(INSTRUMENTED_MARKER)) return code;
    try {
      return instrumentSource(code, filename, {
        format,
        cacheDir: config.cacheDir,
        warn: (m) => warnings.warn(m, filename, `${filename}:${m}`),
      }).code;
    } catch (err) {
      warnings.warn(`${filename} runs unmeasured: the instrumentation failed (${firstLine(err)})`, filename);
      return code;
    }
  };

  const g: RuntimeGlobal & { spanError(name: string): void; recorder: Recorder } = {
    file: (files, fns) => recorder.file(files, fns),
    span: (name) => {
      const s = recorder.span(name);
      const handle = { end: () => s.end() } as { end(): void; [Symbol.dispose]?(): void };
      if (typeof Symbol.dispose === 'symbol') handle[Symbol.dispose] = () => s.end();
      return handle;
    },
    spanError: (name) => recorder.spanError(name),
    memo: (name, file, lineNo) => recorder.memo(name, file, lineNo),
    recorder,
  };
  Object.defineProperty(globalThis, Symbol.for(RUNTIME_GLOBAL_KEY), { value: g, configurable: true, writable: false, enumerable: false });
  // Called by the editor (Debug: evaluate in the paused target) when the debugger stops.
  Object.defineProperty(globalThis, '__perfLensPause', { value: () => recorder.pause(), configurable: true, writable: true, enumerable: false });

  return { config, recorder, warnings, inScope, transport, transformFile, flush, beforeFinal: (fn) => finalHooks.push(fn) };
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}

export { ENV };
