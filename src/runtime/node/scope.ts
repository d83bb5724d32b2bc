/**
 * Which files get instrumented: the user's own code by default (not node_modules, never our own
 * bundles), narrowed by include/exclude globs. Works on absolute paths or `file:` URLs only.
 */
import * as path from 'path';
import { fileURLToPath } from 'url';
import picomatch from 'picomatch';

export interface ScopeOptions {
  includeNodeModules: boolean;
  include: string[];
  exclude: string[];
  /** Directory relative globs are resolved against. */
  root: string;
  /** Directories whose files are never instrumented (our own dist/). */
  ownDirs: string[];
}

export type ScopeTest = (fileOrUrl: string) => boolean;

const slash = (p: string): string => p.replace(/\\/g, '/');

function absoluteGlob(glob: string, root: string): string {
  const g = slash(glob);
  if (g.startsWith('/') || /^[A-Za-z]:\//.test(g)) return g;
  return `${slash(root).replace(/\/$/, '')}/${g.replace(/^\.\//, '')}`;
}

/** Absolute path of a `file:` URL or an absolute path; undefined for anything else (node:, data:, http:). */
export function toFilePath(fileOrUrl: string): string | undefined {
  if (fileOrUrl.startsWith('file:')) {
    try {
      return fileURLToPath(fileOrUrl);
    } catch {
      return undefined;
    }
  }
  return path.isAbsolute(fileOrUrl) ? fileOrUrl : undefined;
}

export function createScope(opts: ScopeOptions): ScopeTest {
  const glob = (list: string[]): ((p: string) => boolean) | undefined =>
    list.length === 0 ? undefined : picomatch(list.map((g) => absoluteGlob(g, opts.root)), { dot: true });
  const include = glob(opts.include);
  const exclude = glob(opts.exclude);
  const own = opts.ownDirs.map((d) => slash(d).replace(/\/?$/, '/'));
  return (fileOrUrl) => {
    const file = toFilePath(fileOrUrl);
    if (file === undefined) return false;
    const p = slash(file);
    if (own.some((d) => p.startsWith(d))) return false;
    if (!opts.includeNodeModules && p.includes('/node_modules/')) return false;
    if (include && !include(p)) return false;
    if (exclude && exclude(p)) return false;
    return true;
  };
}
