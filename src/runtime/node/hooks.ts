/**
 * ESM load hooks (module.register). Runs in Node's hooks thread, where the transform happens; the
 * transformed code then runs in the main thread and calls the recorder there.
 *
 * Hooks registered later run first, so to see the JavaScript a loader such as tsx produces, the
 * main thread registers a fresh instance of this module (a new `?gen=` query) after every
 * module.register() call the program makes. Only the newest instance transforms; the older ones
 * pass through. Instances share state through a global of the hooks thread.
 */
import type { MessagePort } from 'worker_threads';
import { instrumentSource } from './instrument';
import { createScope, toFilePath, type ScopeOptions, type ScopeTest } from './scope';

export interface HooksData {
  generation: number;
  scope: ScopeOptions;
  cacheDir: string | null | undefined;
  /** Sent with the first instance only: warnings go back to the main thread through it. */
  port?: MessagePort;
}

interface SharedState {
  latest: number;
  port?: MessagePort;
  inScope: ScopeTest;
  cacheDir: string | null | undefined;
  warned: Set<string>;
}

const STATE_KEY = Symbol.for('perf-lens.hooks-state');
const MARKER = 'var __pl$=(globalThis[Symbol.for("perf-lens.runtime")]';

let generation = 0;

function state(): SharedState | undefined {
  return (globalThis as Record<symbol, SharedState | undefined>)[STATE_KEY];
}

export function initialize(data: HooksData): void {
  generation = data.generation;
  let s = state();
  if (!s) {
    s = { latest: 0, inScope: createScope(data.scope), cacheDir: data.cacheDir, warned: new Set() };
    (globalThis as Record<symbol, SharedState | undefined>)[STATE_KEY] = s;
  }
  if (data.port) {
    s.port = data.port;
    data.port.unref();
  }
  if (data.generation > s.latest) s.latest = data.generation;
}

interface LoadContext { format?: string | null; [k: string]: unknown }
interface LoadResult { format?: string | null; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean; [k: string]: unknown }
type NextLoad = (url: string, context?: LoadContext) => LoadResult | Promise<LoadResult>;

export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<LoadResult> {
  const result = await nextLoad(url, context);
  const s = state();
  if (!s || generation !== s.latest) return result;
  // CommonJS is instrumented by the _compile hook in the loading thread; only ES modules here.
  if (result.format !== 'module' || result.source == null || !url.startsWith('file:')) return result;
  if (!s.inScope(url)) return result;
  const code = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
  const file = toFilePath(url);
  if (file === undefined || code.includes(MARKER)) return result;
  try {
    const out = instrumentSource(code, file, {
      format: 'module',
      cacheDir: s.cacheDir,
      warn: (m) => report(s, `${file}:${m}`, m, file),
    });
    return { ...result, source: out.code };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    report(s, file, `perf-lens: ${file} runs unmeasured: the instrumentation failed (${msg.slice(0, 200)})`, file);
    return result;
  }
}

function report(s: SharedState, key: string, message: string, url: string): void {
  if (s.warned.has(key)) return;
  s.warned.add(key);
  s.port?.postMessage({ message, file: url });
}
