/**
 * Entry point of the source transform used by the runtime (CommonJS `_compile` hook and ESM load
 * hook): cache lookup, transform, source-map mapping of positions, prologue, cache write.
 */
import { TRANSFORM_VERSION, type FnTuple } from './abi';
import { namesCodeParts } from './names';
import {
  OriginalPositions, SourceMapError, composedMapComment, loadIncomingMap, sourceMapsCodeParts, type IncomingMap,
} from './source-maps';
import { TransformCache, cacheKey, resolveCacheDir } from './transform-cache';
import {
  INSTRUMENTED_MARK, applyInsertions, generatedLocator, lineColumn, lineStartsOf, parse, prologue, sortInsertions, transform,
  transformCodeParts, type Locator,
} from './transform';

export { defaultCacheDir } from './transform-cache';

export interface InstrumentOptions {
  /** commonjs: parsed as a script with `return` allowed at top level; module: ESM. */
  format: 'commonjs' | 'module';
  /** null = no cache; undefined = default OS cache dir (or none if PERF_LENS_CACHE_DIR=off). */
  cacheDir?: string | null;
  /** One-line, actionable warnings (cache unwritable, bad source map...). */
  warn?: (message: string) => void;
}

export interface Instrumented {
  code: string;
  fnCount: number;
  cached: boolean;
}

/**
 * Identifies this transform's code in the cache key, so a changed transform never serves entries
 * written by an older one (a version number someone must remember to bump would go stale).
 * Computed once per process from the text of the functions that decide the output (< 1 ms).
 */
let codeFingerprint: string | undefined;
function transformFingerprint(): string {
  return (codeFingerprint ??= cacheKey([
    ...transformCodeParts(), ...namesCodeParts(), ...sourceMapsCodeParts(), String(instrumentUncached), String(mapLocator),
  ]));
}

/** How far from the start a prologue can sit (after a hashbang and directives) when re-instrumenting is checked. */
const MARK_SEARCH_LENGTH = 4096;

/** Throws (any Error) when the file cannot be instrumented; the caller then runs it unmeasured. */
export function instrumentSource(code: string, filename: string, opts: InstrumentOptions): Instrumented {
  const warn = opts.warn ?? (() => undefined);
  if (code.slice(0, MARK_SEARCH_LENGTH).includes(INSTRUMENTED_MARK)) return { code, fnCount: 0, cached: false };

  let incoming: IncomingMap | undefined;
  try {
    incoming = loadIncomingMap(code, filename);
  } catch (err) {
    if (!(err instanceof SourceMapError)) throw err;
    warn(`perf-lens: ignoring the source map of ${filename}: ${err.message}; positions refer to the JavaScript file`);
  }

  const cacheDir = resolveCacheDir(opts.cacheDir);
  const cache = cacheDir ? new TransformCache(cacheDir, warn) : undefined;
  const key = cache?.usable
    ? cacheKey([String(TRANSFORM_VERSION), transformFingerprint(), opts.format, filename, code, incoming?.text ?? ''])
    : '';
  const hit = cache && key ? cache.read(key) : undefined;
  if (hit) return { ...hit, cached: true };

  const result = instrumentUncached(code, filename, opts.format, incoming, warn);
  if (cache && key) cache.write(key, result);
  return { ...result, cached: false };
}

function instrumentUncached(
  code: string, filename: string, format: InstrumentOptions['format'], incoming: IncomingMap | undefined, warn: (m: string) => void,
): { code: string; fnCount: number } {
  // Only a comment after the last statement is a real one (not text inside a string or template);
  // that needs the parse, so a map is used only once the comment is confirmed.
  const program = parse(code, format);
  const last = program.body[program.body.length - 1];
  const map = incoming && incoming.comment.start >= (last ? last.end : 0) ? parseMap(incoming, filename, warn) : undefined;
  const lineStarts = lineStartsOf(code);
  const t = transform(code, format, map ? mapLocator(map, filename, lineStarts) : generatedLocator(code, filename), program);
  if (t.fns.length === 0) return { code, fnCount: 0 };

  const files: string[] = [filename];
  const fileIndex = new Map<string, number>([[filename, 0]]);
  const tuples: FnTuple[] = t.fns.map((fn) => {
    let index = fileIndex.get(fn.file);
    if (index === undefined) {
      index = files.push(fn.file) - 1;
      fileIndex.set(fn.file, index);
    }
    return [fn.name, index, fn.line, fn.column, fn.kind];
  });

  const insertions = sortInsertions([
    { pos: t.prologuePos, text: t.prologueLead + prologue(JSON.stringify(files), JSON.stringify(tuples), format) },
    ...t.insertions,
  ]);
  if (!map || !incoming) return { code: applyInsertions(code, insertions), fnCount: t.fns.length };
  const { start, end } = incoming.comment;
  const comment = composedMapComment(code, filename, lineStarts, insertions, map);
  return { code: applyInsertions(code.slice(0, start), insertions) + comment + code.slice(end), fnCount: t.fns.length };
}

/** Positions through the incoming map; functions it does not cover are left alone. */
function mapLocator(map: OriginalPositions, filename: string, lineStarts: readonly number[]): Locator {
  return {
    locate(start, headerEnd, strict, expectText) {
      const gen = lineColumn(lineStarts, start);
      const header = lineColumn(lineStarts, headerEnd);
      const found = map.locate(gen.line, gen.column, header.line === gen.line ? header.column : Infinity, strict, expectText);
      if (found === 'unmapped') return null;
      if (found === 'missing') return { file: filename, ...gen };
      return found;
    },
  };
}

function parseMap(incoming: IncomingMap, filename: string, warn: (m: string) => void): OriginalPositions | undefined {
  try {
    return new OriginalPositions(incoming);
  } catch (err) {
    if (!(err instanceof SourceMapError)) throw err;
    warn(`perf-lens: ignoring the source map of ${filename}: ${err.message}; positions refer to the JavaScript file`);
    return undefined;
  }
}
