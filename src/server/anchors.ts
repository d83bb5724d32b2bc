/**
 * Keeps a measured function attached to the right place in a document while the user edits it.
 * Pure (text in, positions out).
 *
 * An anchor is created at "first match" from the text that was measured: the function's source
 * range (its start as reported by the runtime to the end of its body) is hashed, together with its
 * header (start up to its name). Edits then:
 *  - before the function shift it by the line delta (cheap, no re-scan);
 *  - touching it trigger a check: same hash at the current position -> fresh; else the same hash
 *    elsewhere (found via the name) -> moved there, fresh; else its header still there or found
 *    elsewhere -> stale (changed since measured); else lost (no lens).
 * Undoing an edit makes the hash match again, so stale is not sticky.
 */

/** 0-based position as in LSP. */
export interface Pos {
  line: number;
  character: number;
}

export interface Anchor {
  /** The function's key (file, measured position, name). */
  readonly key: string;
  /** Identifier to search for when re-anchoring (`isPrime` for `get Stats.isPrime`), null for anonymous functions. */
  readonly ident: string | null;
  /** Hash of the measured source range. */
  readonly hash: string;
  /** Text from the function's start through its name (or its first line), as measured. */
  readonly header: string;
  /** Offset of `ident` within the function's text (-1: not in the header). */
  readonly identOffset: number;
  /** Current start (0-based). */
  line: number;
  character: number;
  /** Current last line of the function (0-based). */
  endLine: number;
  /** Its text differs from what was measured. */
  stale: boolean;
  /** Not found in the current text: no lens. */
  lost: boolean;
  /** An edit touched it since the last check. */
  touched: boolean;
}

/** An LSP incremental change, already resolved: the range refers to the text before this change. */
export interface TextEdit {
  start: Pos;
  end: Pos;
  text: string;
}

/** FNV-1a (32 bit) of a string plus its length: identity of a function's text, not security. */
export function textHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `${(h >>> 0).toString(16).padStart(8, '0')}:${s.length}`;
}

/** Offsets of line starts. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

export function offsetAt(starts: readonly number[], text: string, p: Pos): number {
  if (p.line >= starts.length) return text.length;
  const lineEnd = p.line + 1 < starts.length ? starts[p.line + 1] - 1 : text.length;
  return Math.min(starts[p.line] + Math.max(0, p.character), lineEnd);
}

export function positionAt(starts: readonly number[], offset: number): Pos {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo] };
}

const MAX_SCAN = 1 << 20;

/**
 * End offset (exclusive) of the function that starts at `start`: the `}` closing the first `{`
 * outside parentheses (parameter defaults may hold braces), skipping strings, template literals,
 * regular expressions and comments. An arrow function with an expression body ends at the end of
 * its line.
 * Works for JavaScript and TypeScript text; a heuristic, not a parser.
 */
export function functionEnd(text: string, start: number): number {
  const limit = Math.min(text.length, start + MAX_SCAN);
  let parens = 0;
  let braces = 0;
  let inBody = false;
  let sawArrow = false;
  const lineEnd = (from: number): number => {
    const nl = text.indexOf('\n', from);
    return nl < 0 ? text.length : nl;
  };
  for (let i = start; i < limit; i++) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      i = lineEnd(i) - 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? limit : e + 1;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipString(text, i, limit);
    } else if (c === '/' && regexMayStart(text, start, i)) {
      i = skipRegex(text, i, limit);
    } else if (c === '(' || c === '[') {
      parens++;
    } else if (c === ')' || c === ']') {
      parens--;
    } else if (c === '=' && text[i + 1] === '>' && parens === 0 && !inBody) {
      sawArrow = true;
      i++;
      let j = i + 1;
      while (j < limit && /\s/.test(text[j])) j++;
      if (text[j] !== '{') return lineEnd(j);
    } else if (c === '{' && (parens === 0 || inBody)) {
      inBody = true;
      braces++;
    } else if (c === '}' && inBody) {
      if (--braces === 0) {
        // TypeScript: `): { a: number } {`, `<T extends {}>(`, `): {} => {`: that was a type, not the body.
        if (!typeFollows(text, i + 1)) return i + 1;
        inBody = false;
      }
    } else if (c === ';' && !inBody && parens === 0 && !sawArrow) {
      return i + 1; // an overload or abstract signature: no body
    }
  }
  return lineEnd(start);
}

/** Keywords after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = /(?:^|[^\w$])(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/;

/**
 * Whether the `/` at `i` (not a comment) starts a regular expression literal: it does after an
 * operator, an opening bracket, a comma, a colon, a semicolon, a brace or one of BEFORE_REGEX, and
 * is a division after a name, a number or a closing parenthesis or bracket. The usual guess of
 * tolerant scanners; a regex holding a brace or a quote no longer throws the count off.
 */
function regexMayStart(text: string, start: number, i: number): boolean {
  let j = i - 1;
  while (j >= start && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j--;
  if (j < start) return true;
  const p = text[j];
  if ('(,=:[!&|?{};+-*%<>~^'.includes(p)) return true;
  return /[\w$]/.test(p) && BEFORE_REGEX.test(text.slice(Math.max(start, j - 11), j + 1));
}

/**
 * Index of the `/` closing the regular expression that starts at i (classes `[...]` and escapes
 * followed); i itself when the line ends first (it was a division after all).
 */
function skipRegex(text: string, i: number, limit: number): number {
  let inClass = false;
  for (let j = i + 1; j < limit; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '\n') return i;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) return j;
  }
  return i;
}

/** After a `{...}` outside parentheses: does the same line go on like a type (`{`, `>`, `|`, `&`, `[`, `=>`)? */
function typeFollows(text: string, from: number): boolean {
  let j = from;
  while (text[j] === ' ' || text[j] === '\t') j++;
  const c = text[j];
  return c === '{' || c === '>' || c === '|' || c === '&' || c === '[' || (c === '=' && text[j + 1] === '>');
}

/** Index of the closing quote of the string/template starting at i (template `${}` nesting followed). */
function skipString(text: string, i: number, limit: number): number {
  const q = text[i];
  for (let j = i + 1; j < limit; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === q) return j;
    else if (q !== '`' && c === '\n') return j; // unterminated: stop at the line end
    else if (q === '`' && c === '$' && text[j + 1] === '{') {
      let depth = 1;
      j += 2;
      for (; j < limit && depth > 0; j++) {
        const d = text[j];
        if (d === '{') depth++;
        else if (d === '}') depth--;
        else if (d === '"' || d === "'" || d === '`') j = skipString(text, j, limit);
      }
      j--;
    }
  }
  return limit;
}

/** The identifier to look for: last identifier of the runtime's name, null for anonymous ones. */
export function identOf(name: string): string | null {
  if (name.startsWith('<')) return null;
  const m = /([A-Za-z_$#][\w$]*)$/.exec(name);
  return m ? m[1] : null;
}

/** Key of a function (same fields as the ReportBuilder's). */
export function functionKey(f: { file: string; line: number; column: number; name: string }): string {
  return `${f.file}\0${f.line}\0${f.column}\0${f.name}`;
}

/**
 * Anchor for a function measured at 1-based `line`:`column` in `measuredText`, placed in
 * `currentText` (often the same text). Null when the position is outside the measured text.
 */
export function createAnchor(
  key: string,
  name: string,
  line: number,
  column: number,
  measuredText: string,
  currentText: string = measuredText,
  recordedHash?: string,
): Anchor | null {
  const starts = lineStarts(measuredText);
  if (line < 1 || line > starts.length) return null;
  const ident = identOf(name);
  let start = offsetAt(starts, measuredText, { line: line - 1, character: column - 1 });
  let end = functionEnd(measuredText, start);
  let body = measuredText.slice(start, end);
  let bodyHash = textHash(body);
  // A saved run knows the text it measured (`recordedHash`). If `measuredText` (the file as it is
  // now) differs there, the function moved (the same text elsewhere) or changed since (stale).
  let changedSince = false;
  if (recordedHash !== undefined && bodyHash !== recordedHash) {
    const moved = ident ? findByRecordedHash(measuredText, ident, recordedHash, start) : -1;
    if (moved >= 0) start = moved;
    else {
      changedSince = true;
      start = declarationNear(measuredText, ident, start);
      if (start < 0) return null;
    }
    end = functionEnd(measuredText, start);
    body = measuredText.slice(start, end);
    bodyHash = textHash(body);
  }
  const firstLine = body.split('\n', 1)[0];
  const identOffset = ident ? firstLine.indexOf(ident) : -1;
  const header = identOffset >= 0 && ident ? body.slice(0, identOffset + ident.length) : firstLine;
  const startPos = positionAt(starts, start);
  const endPos = positionAt(starts, end);
  const anchor: Anchor = {
    key,
    ident,
    // Changed since the run: it stays stale until text with the measured hash is back (an undo).
    hash: changedSince ? recordedHash! : bodyHash,
    header,
    identOffset,
    line: startPos.line,
    character: startPos.character,
    endLine: endPos.line,
    stale: false,
    lost: false,
    touched: changedSince || currentText !== measuredText,
  };
  if (anchor.touched) verifyAnchors(currentText, [anchor]);
  return anchor;
}

/** Most occurrences of a name tried when looking for a saved run's function by its hash. */
const MAX_CANDIDATES = 200;

/**
 * Start of the function whose text has `hash` (a saved run's), nearest to `near`, or -1: it starts
 * on a line that names it (`function f(`, `f(x) {`, `const f = (x) =>`). Where exactly the run's
 * start was is not known, so every token start of the line is tried (its first character, or one
 * after a space, `(`, `,`, `=`, `:`, `!`, `&`, `|` or `?`).
 */
function findByRecordedHash(text: string, ident: string, hash: string, near: number): number {
  const found: number[] = [];
  let lastLine = -1;
  for (const i of occurrences(text, ident).slice(0, MAX_CANDIDATES)) {
    const lineStart = text.lastIndexOf('\n', i - 1) + 1;
    if (lineStart === lastLine) continue; // the name twice on one line: tried already
    lastLine = lineStart;
    const lineEnd = text.indexOf('\n', i);
    for (let s = lineStart; s < (lineEnd < 0 ? text.length : lineEnd); s++) {
      if (/\s/.test(text[s]) || (s > lineStart && !TOKEN_BEFORE.test(text[s - 1]))) continue;
      if (hashAt(text, s) === hash) found.push(s);
    }
  }
  return nearest(found, near);
}

const TOKEN_BEFORE = /[\s(,=:!&|?]/;

/**
 * Where to show a function of a saved run that changed since: its recorded start if that line still
 * names it, else the first non-blank character of the line naming it nearest to there; -1 when no
 * line names it (lost). Anonymous functions stay at their recorded start.
 */
function declarationNear(text: string, ident: string | null, start: number): number {
  if (!ident) return start;
  const lineEnd = text.indexOf('\n', start);
  const named = text.indexOf(ident, start);
  if (named >= 0 && (lineEnd < 0 || named < lineEnd)) return start;
  const i = nearest(occurrences(text, ident), start);
  if (i < 0) return -1;
  let s = text.lastIndexOf('\n', i - 1) + 1;
  while (text[s] === ' ' || text[s] === '\t') s++;
  return s;
}

/**
 * The `sourceHash` of the function starting at 1-based `line`:`column` of `text` (what an anchor
 * created from that text would hold), or undefined when the position is not in the text.
 */
export function sourceHashAt(text: string, line: number, column: number, starts = lineStarts(text)): string | undefined {
  if (line < 1 || line > starts.length) return undefined;
  return hashAt(text, offsetAt(starts, text, { line: line - 1, character: column - 1 }));
}

function lineCount(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Moves anchors for one edit (range in the text before it) and marks those it touches. */
export function applyEdit(anchors: Iterable<Anchor>, edit: TextEdit): void {
  const added = lineCount(edit.text);
  const delta = added - (edit.end.line - edit.start.line);
  const lastLineLen = added === 0 ? edit.text.length : edit.text.length - edit.text.lastIndexOf('\n') - 1;
  for (const a of anchors) {
    const endsBeforeStart =
      edit.end.line < a.line || (edit.end.line === a.line && edit.end.character <= a.character);
    if (endsBeforeStart) {
      // Typing right in front of the start (e.g. `export `) may change how it reads: check it.
      if (edit.end.line === a.line && edit.end.character === a.character) a.touched = true;
      if (edit.end.line === a.line) {
        // Same line, left of the start: the start moves within its (new) line.
        const rest = a.character - edit.end.character;
        a.character = (added === 0 ? edit.start.character + lastLineLen : lastLineLen) + rest;
      }
      a.line += delta;
      a.endLine += delta;
    } else if (edit.start.line > a.endLine) {
      // After the function: nothing moves.
    } else {
      a.touched = true;
      if (edit.start.line >= a.line) a.endLine = Math.max(a.line, a.endLine + delta);
      else {
        // The edit swallowed the start: keep it at the edit's start; the check re-anchors it.
        a.line = edit.start.line;
        a.character = edit.start.character;
        a.endLine = Math.max(a.line, a.endLine + delta);
      }
    }
  }
}

/** Re-checks touched anchors (all with `all`) against the current text. */
export function verifyAnchors(text: string, anchors: Iterable<Anchor>, all = false): void {
  let starts: number[] | undefined;
  for (const a of anchors) {
    if (!a.touched && !all) continue;
    starts ??= lineStarts(text);
    a.touched = false;
    const here = offsetAt(starts, text, { line: a.line, character: a.character });
    if (hashAt(text, here) === a.hash) {
      place(a, starts, here, text, false);
      continue;
    }
    const moved = findByHash(text, a, here);
    if (moved >= 0) {
      place(a, starts, moved, text, false);
      continue;
    }
    if (text.startsWith(a.header, here)) {
      place(a, starts, here, text, true);
      continue;
    }
    const byHeader = nearest(occurrences(text, a.header), here);
    if (byHeader >= 0 && a.header.trim().length > 0) place(a, starts, byHeader, text, true);
    else a.lost = true;
  }
}

function hashAt(text: string, start: number): string {
  return textHash(text.slice(start, functionEnd(text, start)));
}

function place(a: Anchor, starts: readonly number[], offset: number, text: string, stale: boolean): void {
  const p = positionAt(starts, offset);
  a.line = p.line;
  a.character = p.character;
  a.endLine = positionAt(starts, functionEnd(text, offset)).line;
  a.stale = stale;
  a.lost = false;
}

/** Start of an unchanged copy of the function (via its name), nearest to `near`, or -1. */
function findByHash(text: string, a: Anchor, near: number): number {
  if (!a.ident || a.identOffset < 0) return -1;
  const found: number[] = [];
  for (const i of occurrences(text, a.ident)) {
    const start = i - a.identOffset;
    if (start >= 0 && text.startsWith(a.header, start) && hashAt(text, start) === a.hash) found.push(start);
  }
  return nearest(found, near);
}

function occurrences(text: string, needle: string): number[] {
  const out: number[] = [];
  if (needle === '') return out;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) out.push(i);
  return out;
}

function nearest(candidates: readonly number[], near: number): number {
  let best = -1;
  for (const c of candidates) if (best < 0 || Math.abs(c - near) < Math.abs(best - near)) best = c;
  return best;
}
