/**
 * Registers our ESM load hooks from a preload, in the main thread and in worker threads (each has
 * its own hooks on Node 20), never in the hooks thread itself: preloads run there too, and a second
 * registration would count every ES module call twice.
 *
 * module.register is wrapped so that after each hook the program registers (e.g. tsx's), a fresh
 * instance of ours is registered again and becomes the one that transforms: hooks registered later
 * run first, so ours then sees the loader's JavaScript output instead of raw TypeScript.
 */
import * as path from 'path';
import Module from 'module';
import { pathToFileURL } from 'url';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'worker_threads';
import type { HooksData } from './hooks';
import type { ScopeOptions } from './scope';

/** Set in the environment only while we create the hooks thread, so its preload run stays idle. */
export const HOOKS_THREAD_MARKER = 'PERF_LENS_HOOKS_THREAD';

type Register = (specifier: string | URL, parentURL?: unknown, options?: unknown) => void;

export function isHooksThread(env: NodeJS.ProcessEnv): boolean {
  return env[HOOKS_THREAD_MARKER] === '1';
}

/** Installs the hooks; returns a function that synchronously drains pending hook warnings (for exit). */
export function installEsmHooks(opts: {
  scope: ScopeOptions;
  cacheDir: string | null | undefined;
  onWarning: (message: string, file?: string) => void;
}): () => void {
  const mod = Module as unknown as { register?: Register; syncBuiltinESMExports(): void };
  const original = mod.register;
  if (typeof original !== 'function') throw new Error('module.register is not available');
  const hooksUrl = pathToFileURL(path.join(__dirname, 'hooks.mjs')).href;
  let generation = 0;
  let registering = false;
  let warningsPort: MessagePort | undefined;

  const registerOurs = (): void => {
    generation++;
    const data: HooksData = { generation, scope: opts.scope, cacheDir: opts.cacheDir };
    const transferList: unknown[] = [];
    if (generation === 1) {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (m: { message: string; file?: string }) => opts.onWarning(m.message, m.file));
      port1.unref();
      warningsPort = port1;
      data.port = port2;
      transferList.push(port2);
    }
    const hadMarker = process.env[HOOKS_THREAD_MARKER];
    process.env[HOOKS_THREAD_MARKER] = '1';
    registering = true;
    try {
      original.call(Module, `${hooksUrl}?gen=${generation}`, undefined, { data, transferList });
    } finally {
      registering = false;
      if (hadMarker === undefined) delete process.env[HOOKS_THREAD_MARKER];
      else process.env[HOOKS_THREAD_MARKER] = hadMarker;
    }
  };

  registerOurs();

  mod.register = function register(this: unknown, ...args: Parameters<Register>): void {
    original.apply(this, args);
    if (registering) return;
    try {
      registerOurs();
    } catch (err) {
      opts.onWarning(`perf-lens: re-registering the ES module hooks failed (${(err as Error).message}); ES modules may be measured before their loader runs`);
    }
  };
  // ESM `import { register } from 'node:module'` reads the synced builtin exports.
  mod.syncBuiltinESMExports();
  return () => {
    // A program can end before the port's messages are delivered: take them synchronously.
    for (let m = warningsPort && receiveMessageOnPort(warningsPort); m; m = receiveMessageOnPort(warningsPort!)) {
      const w = m.message as { message: string; file?: string };
      opts.onWarning(w.message, w.file);
    }
  };
}
