/**
 * Runtime configuration, read once from the environment (names in src/protocol/runtime.ts).
 * Pure: takes the env object, returns a plain config, never throws; bad values fall back to the
 * default and are listed in `problems` so the runtime can warn once.
 */
import { ENV, MODES, type Mode } from '../../protocol/runtime';

export interface RuntimeConfig {
  socket: string | undefined;
  token: string;
  session: string | undefined;
  mode: Mode;
  sampleEvery: number;
  includeNodeModules: boolean;
  include: string[];
  exclude: string[];
  root: string;
  resourceIntervalMs: number;
  flushIntervalMs: number;
  spreadMs: number;
  quiet: boolean;
  /** Transform cache directory; null = off; undefined = the transform's default. */
  cacheDir: string | null | undefined;
  problems: string[];
}

export const DEFAULT_SAMPLE_EVERY = 64;
export const DEFAULT_INTERVAL_MS = 100;
export const DEFAULT_SPREAD_MS = 1000;

export function readConfig(env: NodeJS.ProcessEnv, cwd: string): RuntimeConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, dflt: number, min: number): number => {
    const raw = str(name);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${name}=${raw} is not an integer >= ${min}; using ${dflt}`);
      return dflt;
    }
    return n;
  };
  const globs = (name: string): string[] => {
    const raw = str(name);
    if (raw === undefined) return [];
    try {
      const v: unknown = JSON.parse(raw);
      if (Array.isArray(v) && v.every((g) => typeof g === 'string')) return v;
    } catch {
      // fall through to the problem below
    }
    problems.push(`${name} must be a JSON array of glob strings, e.g. ["src/**"]; ignoring it`);
    return [];
  };
  let mode: Mode = 'adaptive';
  const rawMode = str(ENV.mode);
  if (rawMode !== undefined) {
    if ((MODES as readonly string[]).includes(rawMode)) mode = rawMode as Mode;
    else problems.push(`${ENV.mode}=${rawMode} is not one of ${MODES.join(', ')}; using adaptive`);
  }
  const cacheRaw = str(ENV.cacheDir);
  return {
    socket: str(ENV.socket),
    token: str(ENV.token) ?? '',
    session: str(ENV.session),
    mode,
    sampleEvery: int(ENV.sampleEvery, DEFAULT_SAMPLE_EVERY, 1),
    includeNodeModules: str(ENV.includeNodeModules) === '1',
    include: globs(ENV.include),
    exclude: globs(ENV.exclude),
    root: str(ENV.root) ?? cwd,
    resourceIntervalMs: int(ENV.resourceIntervalMs, DEFAULT_INTERVAL_MS, 0),
    flushIntervalMs: int(ENV.flushIntervalMs, DEFAULT_INTERVAL_MS, 1),
    spreadMs: int(ENV.spreadMs, DEFAULT_SPREAD_MS, 0),
    quiet: str(ENV.quiet) === '1',
    cacheDir: cacheRaw === undefined ? undefined : cacheRaw === 'off' ? null : cacheRaw,
    problems,
  };
}
