/**
 * On-disk cache of transformed files, keyed by content hash. One file per entry:
 * `<dir>/<hh>/<hash>` holding a one-line header (`perf-lens-transform <fnCount>`) and the code.
 * Writes are atomic (temporary file + rename), so readers never see half an entry; any I/O failure
 * turns the cache off for this directory in this process with one warning.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENV } from '../../protocol/runtime';

const HEADER = 'perf-lens-transform ';

/** Directories that failed in this process: warned about once, then skipped. */
const failedDirs = new Set<string>();

/** The OS cache directory for transforms (ignores `PERF_LENS_CACHE_DIR=off`, see resolveCacheDir). */
export function defaultCacheDir(): string {
  const fromEnv = process.env[ENV.cacheDir];
  if (fromEnv && fromEnv !== 'off') return path.resolve(fromEnv);
  const home = os.homedir();
  if (process.platform === 'win32') {
    return path.join(process.env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'perf-lens', 'transform');
  }
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'perf-lens', 'transform');
  return path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'perf-lens', 'transform');
}

/** `null` = no cache; `undefined` = the default (unless `PERF_LENS_CACHE_DIR=off`). */
export function resolveCacheDir(option: string | null | undefined): string | null {
  if (option === null) return null;
  if (option !== undefined) return path.resolve(option);
  return process.env[ENV.cacheDir] === 'off' ? null : defaultCacheDir();
}

export function cacheKey(parts: readonly string[]): string {
  const hash = crypto.createHash('sha256');
  for (const part of parts) {
    // Length-prefixed, so ('ab','c') and ('a','bc') differ.
    hash.update(`${part.length}:`);
    hash.update(part);
  }
  return hash.digest('hex');
}

export interface CacheEntry {
  code: string;
  fnCount: number;
}

export class TransformCache {
  constructor(private readonly dir: string, private readonly warn: (message: string) => void) {}

  get usable(): boolean {
    return !failedDirs.has(this.dir);
  }

  read(key: string): CacheEntry | undefined {
    if (!this.usable) return undefined;
    let text: string;
    try {
      text = fs.readFileSync(this.entryPath(key), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A missing entry or directory is a miss; whether the directory is usable shows on write.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.fail('read', err);
      return undefined;
    }
    const nl = text.indexOf('\n');
    if (!text.startsWith(HEADER) || nl < 0) return undefined;
    const fnCount = Number(text.slice(HEADER.length, nl));
    if (!Number.isInteger(fnCount) || fnCount < 0) return undefined;
    return { code: text.slice(nl + 1), fnCount };
  }

  write(key: string, entry: CacheEntry): void {
    if (!this.usable) return;
    const file = this.entryPath(key);
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(tmp, `${HEADER}${entry.fnCount}\n${entry.code}`);
      fs.renameSync(tmp, file);
    } catch (err) {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // The directory is unusable anyway; the warning below says so.
      }
      this.fail('write', err);
    }
  }

  private entryPath(key: string): string {
    return path.join(this.dir, key.slice(0, 2), key);
  }

  private fail(op: string, err: unknown): void {
    if (failedDirs.has(this.dir)) return;
    failedDirs.add(this.dir);
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    this.warn(`perf-lens: transform cache off: cannot ${op} ${this.dir} (${code}); set ${ENV.cacheDir} to a writable directory, or to 'off'`);
  }
}
