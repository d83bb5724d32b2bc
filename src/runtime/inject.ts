/**
 * How a program is started with the runtime: NODE_OPTIONS gains `--require <preload>` in FRONT of
 * whatever the user already has (never replaced), and the runtime's settings travel as env vars.
 * Used by the CLI and the VS Code extension. Pure.
 *
 * Only `--require` is added, never `--import`: an --import makes a CommonJS entry run through the
 * ESM loader and changes the order of process.nextTick vs promise jobs. The preload registers the
 * ESM hooks itself (module.register).
 *
 * Children: processes inherit NODE_OPTIONS and these variables, so `spawn`/`fork`/`npm run` chains
 * are measured and report on their own connection. A child given an explicit `env` without them
 * runs unmeasured: we do not rewrite env objects the program builds on purpose.
 */
import { ENV, type Mode } from '../protocol/runtime';

/** Quotes a NODE_OPTIONS value when needed (NODE_OPTIONS splits on spaces, honours "double quotes" and \ escapes). */
export function quoteNodeOption(value: string): string {
  if (value !== '' && !/[\s"'\\]/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `--require <preload>` followed by the user's existing NODE_OPTIONS (kept verbatim). */
export function buildNodeOptions(existing: string | undefined, preloadPath: string): string {
  const ours = `--require ${quoteNodeOption(preloadPath)}`;
  const rest = (existing ?? '').trim();
  if (rest.includes(ours)) return rest; // already injected (e.g. a nested perf-lens run)
  return rest === '' ? ours : `${ours} ${rest}`;
}

export interface RuntimeEnvOptions {
  socket?: string;
  token?: string;
  session?: string;
  mode?: Mode;
  sampleEvery?: number;
  includeNodeModules?: boolean;
  include?: string[];
  exclude?: string[];
  root?: string;
  resourceIntervalMs?: number;
  flushIntervalMs?: number;
  spreadMs?: number;
  quiet?: boolean;
  /** Transform cache directory, or null to turn the cache off. */
  cacheDir?: string | null;
}

/** The env vars that configure the runtime (only those set in `opts`). */
export function runtimeEnv(opts: RuntimeEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  const set = (name: string, v: string | number | undefined): void => {
    if (v !== undefined) env[name] = String(v);
  };
  set(ENV.socket, opts.socket);
  set(ENV.token, opts.token);
  set(ENV.session, opts.session);
  set(ENV.mode, opts.mode);
  set(ENV.sampleEvery, opts.sampleEvery);
  if (opts.includeNodeModules !== undefined) set(ENV.includeNodeModules, opts.includeNodeModules ? '1' : '0');
  if (opts.include && opts.include.length > 0) set(ENV.include, JSON.stringify(opts.include));
  if (opts.exclude && opts.exclude.length > 0) set(ENV.exclude, JSON.stringify(opts.exclude));
  set(ENV.root, opts.root);
  set(ENV.resourceIntervalMs, opts.resourceIntervalMs);
  set(ENV.flushIntervalMs, opts.flushIntervalMs);
  set(ENV.spreadMs, opts.spreadMs);
  if (opts.quiet !== undefined) set(ENV.quiet, opts.quiet ? '1' : '0');
  if (opts.cacheDir !== undefined) set(ENV.cacheDir, opts.cacheDir === null ? 'off' : opts.cacheDir);
  return env;
}

/** A copy of `base` with NODE_OPTIONS prepended and the runtime's variables set. */
export function injectEnv(base: NodeJS.ProcessEnv, preloadPath: string, opts: RuntimeEnvOptions): NodeJS.ProcessEnv {
  return { ...base, ...runtimeEnv(opts), NODE_OPTIONS: buildNodeOptions(base.NODE_OPTIONS, preloadPath) };
}
