/**
 * Incoming source maps (tsx, ts-node, bundlers): find the trailing `sourceMappingURL` comment,
 * load the map, map function starts to original positions, and compose the map of our insertions
 * with the incoming one so debuggers and `--enable-source-maps` still reach the original source.
 *
 * Only a trailing comment counts; a map file that is missing is silently ignored (real packages
 * ship comments for maps they do not ship); an unreadable or malformed map is ignored with a warning.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import remapping from '@ampproject/remapping';
import {
  AnyMap, decodedMap, decodedMappings, type SourceMapSegment, type TraceMap,
} from '@jridgewell/trace-mapping';
import type { Insertion } from './transform';

export interface MapComment {
  /** Offset of the comment's `//`. */
  start: number;
  /** Offset just after the URL. */
  end: number;
  url: string;
}

export interface IncomingMap {
  comment: MapComment;
  /** The map's JSON text (part of the cache key). */
  text: string;
  /** URL the map's relative `sources` resolve against (the map file, or the code file for inline maps). */
  mapUrl: string;
}

const COMMENT_RE = /\/\/[#@][ \t]+sourceMappingURL=([^\s'"`]+)[ \t]*$/;

/** The last `//# sourceMappingURL=` comment, if only comments and whitespace follow it. */
export function findMapComment(code: string): MapComment | undefined {
  const at = code.lastIndexOf('sourceMappingURL=');
  if (at < 0) return undefined;
  const lineStart = Math.max(code.lastIndexOf('\n', at), code.lastIndexOf('\r', at)) + 1;
  const lineEndMatch = /[\r\n]/.exec(code.slice(at));
  const lineEnd = lineEndMatch ? at + lineEndMatch.index : code.length;
  const line = code.slice(lineStart, lineEnd);
  const m = COMMENT_RE.exec(line);
  if (!m || line.slice(0, m.index).trim() !== '') return undefined;
  // Whatever follows must be blank lines or other line comments (e.g. `//# sourceURL=`).
  const rest = code.slice(lineEnd).split(/\r\n?|\n/);
  if (!rest.every((l) => l.trim() === '' || l.trimStart().startsWith('//'))) return undefined;
  const start = lineStart + m.index;
  return { start, end: start + m[0].trimEnd().length, url: m[1] };
}

export class SourceMapError extends Error {}

/**
 * Loads the map a comment names. Returns undefined when there is no map to use (no comment, a
 * remote URL, a missing file); throws SourceMapError when the map exists but cannot be used.
 */
export function loadIncomingMap(code: string, filename: string): IncomingMap | undefined {
  const comment = findMapComment(code);
  if (!comment) return undefined;
  const url = comment.url;
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    if (comma < 0) throw new SourceMapError('malformed data: URL');
    const meta = url.slice(5, comma);
    const payload = url.slice(comma + 1);
    let text: string;
    try {
      text = meta.split(';').includes('base64') ? Buffer.from(payload, 'base64').toString('utf8') : decodeURIComponent(payload);
    } catch (err) {
      throw new SourceMapError(`cannot decode the inline map (${(err as Error).message})`);
    }
    return { comment, text, mapUrl: pathToFileURL(filename).href };
  }
  let mapPath: string;
  try {
    const resolved = new URL(url, pathToFileURL(filename));
    if (resolved.protocol !== 'file:') return undefined;
    mapPath = fileURLToPath(resolved);
  } catch {
    return undefined;
  }
  let text: string;
  try {
    text = fs.readFileSync(mapPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new SourceMapError(`cannot read ${mapPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return { comment, text, mapUrl: pathToFileURL(mapPath).href };
}

/** A parsed incoming map that answers "where did this generated position come from?". */
export class OriginalPositions {
  readonly map: TraceMap;
  private readonly existing = new Map<string, string | null>();

  constructor(incoming: IncomingMap) {
    let json: unknown;
    try {
      json = JSON.parse(incoming.text);
    } catch (err) {
      throw new SourceMapError(`not JSON (${(err as Error).message})`);
    }
    const obj = json as { version?: unknown; mappings?: unknown; sections?: unknown };
    if (typeof obj !== 'object' || obj === null || (typeof obj.mappings !== 'string' && !Array.isArray(obj.sections))) {
      throw new SourceMapError('not a source map (no `mappings`)');
    }
    try {
      this.map = new AnyMap(json as string, incoming.mapUrl);
      decodedMappings(this.map); // decode now, so a bad `mappings` fails here and not mid-way
    } catch (err) {
      throw new SourceMapError(`unreadable mappings (${(err as Error).message})`);
    }
  }

  /**
   * Where the code at a generated position (1-based line and column) comes from, given the
   * column where the construct's header ends on that line (a function's `{` or `=>`):
   * - the segment that starts exactly there, or else the first one inside the header (a map may
   *   start a method at its name rather than at `static`/`async`), or else the one before it;
   * - 'unmapped' when the line has no segment at or before the header (`strict`: none inside the
   *   header): code the map does not cover, such as helpers a loader or bundler injected;
   * - 'missing' when it maps to a file that is not on disk (sources only in sourcesContent).
   * - 'unmapped' too for code (not itself at 1:1) mapped to the very start of the file and nothing
   *   else in its header: esbuild (so tsx) maps the code it adds, such as export getters, to 1:1;
   * `expectText`: the original source (from the map, or the file) must read so at that position,
   * or the mapping is not believed.
   */
  locate(
    line: number, column: number, headerEndColumn: number, strict = false, expectText?: string,
  ): { file: string; line: number; column: number } | 'unmapped' | 'missing' {
    const segments = decodedMappings(this.map)[line - 1];
    if (!segments || segments.length === 0) return 'unmapped';
    const col = column - 1;
    // Last segment starting at or before col.
    let lo = 0;
    let hi = segments.length - 1;
    let before = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segments[mid][0] <= col) {
        before = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    let seg = before >= 0 && segments[before][0] === col ? segments[before] : undefined;
    if (!seg && before + 1 < segments.length && segments[before + 1][0] <= headerEndColumn - 1) seg = segments[before + 1];
    if (!seg && before >= 0 && !strict) seg = segments[before];
    if (!seg || seg.length === 1) return 'unmapped';
    const atFileStart = seg[2] === 0 && seg[3] === 0 && (line !== 1 || seg[0] !== 0);
    if (atFileStart && !headerMapsElsewhere(segments, segments.indexOf(seg), headerEndColumn - 1)) return 'unmapped';
    if (expectText !== undefined && !this.sourceHasTextAt(seg[1], seg[2], seg[3], expectText)) return 'unmapped';
    const file = this.fileOnDisk(this.map.resolvedSources[seg[1]]);
    return file ? { file, line: seg[2] + 1, column: seg[3] + 1 } : 'missing';
  }

  private readonly sourceLines = new Map<number, string[] | null>();


  private sourceHasTextAt(source: number, line: number, column: number, text: string): boolean {
    let lines = this.sourceLines.get(source);
    if (lines === undefined) {
      let content = this.map.sourcesContent?.[source];
      const file = typeof content === 'string' ? null : this.fileOnDisk(this.map.resolvedSources[source]);
      try {
        if (file) content = fs.readFileSync(file, 'utf8'); // tsx ships no sourcesContent
      } catch {
        content = null;
      }
      lines = typeof content === 'string' ? content.split(/\r\n?|\n/) : null;
      this.sourceLines.set(source, lines);
    }
    return lines === null || (lines[line]?.startsWith(text, column) ?? false);
  }

  private fileOnDisk(source: string): string | null {
    let file = this.existing.get(source);
    if (file !== undefined) return file;
    file = null;
    try {
      const p = source.startsWith('file:') ? fileURLToPath(source) : path.isAbsolute(source) ? source : null;
      if (p && fs.statSync(p, { throwIfNoEntry: false })?.isFile()) file = p;
    } catch {
      file = null;
    }
    this.existing.set(source, file);
    return file;
  }
}

/** Whether a segment after `from` and up to `lastColumn` maps anywhere but the start of a file. */
function headerMapsElsewhere(segments: readonly SourceMapSegment[], from: number, lastColumn: number): boolean {
  for (let i = from + 1; i < segments.length && segments[i][0] <= lastColumn; i++) {
    const seg = segments[i];
    if (seg.length !== 1 && (seg[2] !== 0 || seg[3] !== 0)) return true;
  }
  return false;
}

/**
 * The inline map comment for the instrumented code: our insertions composed with the incoming map.
 * Our map has a segment wherever the incoming map has one (plus at each insertion), so the
 * composition keeps the incoming map's full precision.
 */
export function composedMapComment(
  code: string, filename: string, lineStarts: readonly number[], sorted: readonly Insertion[], incoming: OriginalPositions,
): string {
  const inner = decodedMappings(incoming.map);
  const lines: [number, number, number, number][][] = [];
  let k = 0; // next insertion
  for (let line = 0; line < lineStarts.length; line++) {
    const lineStart = lineStarts[line];
    const lineEnd = line + 1 < lineStarts.length ? lineStarts[line + 1] : code.length + 1;
    // Original columns of interest on this line, with the shift that applies before each.
    const cols = new Set<number>([0]);
    for (const seg of inner[line] ?? []) cols.add(seg[0]);
    const inserts: { col: number; len: number }[] = [];
    while (k < sorted.length && sorted[k].pos < lineEnd) {
      const col = sorted[k].pos - lineStart;
      inserts.push({ col, len: sorted[k].text.length });
      cols.add(col);
      k++;
    }
    const segments: [number, number, number, number][] = [];
    let shift = 0;
    let i = 0;
    for (const col of [...cols].sort((a, b) => a - b)) {
      if (i < inserts.length && inserts[i].col === col) {
        // Text inserted at `col` sits before the original character at `col`: map it there too.
        segments.push([col + shift, 0, line, col]);
        while (i < inserts.length && inserts[i].col === col) shift += inserts[i++].len;
      }
      segments.push([col + shift, 0, line, col]);
    }
    lines.push(segments);
  }
  const generatedUrl = pathToFileURL(filename).href;
  const outer = { version: 3 as const, file: path.basename(filename), names: [], sources: [generatedUrl], mappings: lines };
  const innerMap = decodedMap(incoming.map);
  const innerResolved = {
    ...innerMap, sourceRoot: undefined, sources: incoming.map.resolvedSources, mappings: innerMap.mappings as SourceMapSegment[][],
  };
  // The incoming map's sources can name the generated file itself (tsx maps app.ts to app.ts):
  // hand the incoming map out once, for our map's source, or the composition would recurse.
  let handedOut = false;
  const composed = remapping(outer, (source) => {
    if (handedOut || source !== generatedUrl) return null;
    handedOut = true;
    return innerResolved;
  });
  return '//# sourceMappingURL=data:application/json;charset=utf-8;base64,' + Buffer.from(composed.toString()).toString('base64');
}

/** The code that decides mapped positions and composed maps, as text: part of the transform cache key. */
export function sourceMapsCodeParts(): string[] {
  return [findMapComment, loadIncomingMap, OriginalPositions, headerMapsElsewhere, composedMapComment].map(String);
}
