/**
 * Entry of the injected runtime: `NODE_OPTIONS=--require dist/runtime/preload.js`.
 * Loads once per process/thread, never in Node's hooks thread, never throws into the program:
 * whatever fails leaves the program running unmeasured with one warning.
 */
import * as fs from 'fs';
import { readConfig } from './config';
import { installCjsHook } from './cjs';
import { installEsmHooks, isHooksThread } from './esm';
import { startRuntime, ownDir } from './runtime';
import { unsupportedNodeMessage } from './version';

const LOADED = Symbol.for('perf-lens.loaded');

function main(): void {
  const g = globalThis as Record<symbol, unknown>;
  if (g[LOADED] || isHooksThread(process.env)) return;
  g[LOADED] = true;
  const quiet = process.env.PERF_LENS_QUIET === '1';
  const unsupported = unsupportedNodeMessage(process.versions.node);
  if (unsupported) {
    if (!quiet) fs.writeSync(2, `${unsupported}\n`);
    return;
  }
  const config = readConfig(process.env, process.cwd());
  const runtime = startRuntime(config);
  try {
    installCjsHook(runtime.transformFile);
  } catch (err) {
    runtime.warnings.warn(`CommonJS modules run unmeasured: ${(err as Error).message}`, undefined, 'cjs-hook');
  }
  try {
    const drainHookWarnings = installEsmHooks({
      scope: {
        includeNodeModules: config.includeNodeModules,
        include: config.include,
        exclude: config.exclude,
        root: config.root,
        ownDirs: [ownDir()],
      },
      cacheDir: config.cacheDir,
      onWarning: (message, file) => runtime.warnings.warn(message, file),
    });
    runtime.beforeFinal(drainHookWarnings);
  } catch (err) {
    runtime.warnings.warn(`ES modules run unmeasured: ${(err as Error).message}`, undefined, 'esm-hook');
  }
}

try {
  main();
} catch (err) {
  if (process.env.PERF_LENS_QUIET !== '1') {
    try {
      fs.writeSync(2, `perf-lens: the runtime failed to start (${(err as Error).message}); running unmeasured.\n`);
    } catch {
      // nothing more to do
    }
  }
}
