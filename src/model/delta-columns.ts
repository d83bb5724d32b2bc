/**
 * Decodes the columns of a delta message (layout in src/protocol/runtime.ts `DeltaColumns`; the
 * encoder is src/runtime/node/delta-encoder.ts). Pure: used by the report builder, the server's
 * live session and tests. `readDelta` checks the columns once and keeps them as they came (a
 * number or an array each); `fillRow` writes function i into a caller's reusable row, so merging
 * a 5,000-function delta builds no object per function.
 */
import type { DeltaColumns, DeltaMessage, FunctionDelta } from '../protocol/runtime';

type Col = number | readonly number[];
type OptCol = number | readonly (number | null)[] | undefined;

export interface DeltaView {
  readonly n: number;
  /** Function ids (decoded). */
  readonly ids: readonly number[];
  readonly calls: Col;
  readonly errors: Col;
  readonly timed: Col;
  readonly totalNs: Col;
  readonly maxNs: Col;
  readonly minNs: Col;
  readonly selfNs: OptCol;
  readonly inclusiveNs: OptCol;
  readonly estTotalNs: OptCol;
  readonly estSelfNs: OptCol;
  readonly estInclusiveNs: OptCol;
  readonly histLen: Col;
  readonly hist: readonly number[];
  /** Where function i's numbers start in `hist`. */
  readonly histStart: readonly number[];
}

const REQUIRED = ['calls', 'errors', 'timed', 'totalNs', 'maxNs', 'minNs', 'histLen'] as const;
const OPTIONAL = ['selfNs', 'inclusiveNs', 'estTotalNs', 'estSelfNs', 'estInclusiveNs'] as const;
const MAX_FUNCTIONS = 1 << 24;

/** Decoded once per message (the report builder and the live session both read it). */
const views = new WeakMap<DeltaMessage, DeltaView | string>();

/** The delta's functions as columns, or why they cannot be read. */
export function readDelta(msg: DeltaMessage): DeltaView | string {
  let v = views.get(msg);
  if (v === undefined) views.set(msg, (v = decode(msg)));
  return v;
}

function decode(msg: DeltaMessage): DeltaView | string {
  const n = msg.n;
  if (!Number.isInteger(n) || n < 0 || n > MAX_FUNCTIONS) return `bad function count ${JSON.stringify(n)}`;
  const cols = msg.cols as Partial<Record<keyof DeltaColumns, unknown>> | undefined;
  if (typeof cols !== 'object' || cols === null) return 'no columns';
  const view: Record<string, unknown> = { n };
  for (const key of REQUIRED) {
    const c = column(cols[key], n, false);
    if (c === null) return `bad column ${key}`;
    view[key] = c;
  }
  for (const key of OPTIONAL) {
    const c = cols[key] === undefined ? undefined : column(cols[key], n, true);
    if (c === null) return `bad column ${key}`;
    view[key] = c;
  }
  const idSteps = column(cols.id, n, false) as Col | null;
  if (idSteps === null) return 'bad column id';
  const ids = new Array<number>(n);
  let id = -1;
  for (let i = 0; i < n; i++) {
    id += typeof idSteps === 'number' ? idSteps : idSteps[i];
    if (!(id >= 0)) return 'bad column id';
    ids[i] = id;
  }
  view.ids = ids;
  const hist = cols.hist === undefined ? [] : cols.hist;
  if (!Array.isArray(hist) || !hist.every(isNumber)) return 'bad column hist';
  const histLen = view.histLen as Col;
  const histStart = new Array<number>(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    histStart[i] = at;
    const len = typeof histLen === 'number' ? histLen : histLen[i];
    if (!(len >= 0) || len % 2 !== 0) return 'bad column histLen';
    at += len;
  }
  if (at !== hist.length) return `hist holds ${hist.length} numbers, histLen says ${at}`;
  view.hist = hist;
  view.histStart = histStart;
  return view as unknown as DeltaView;
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number';
}

/** A column as sent (undefined: 0 for all), or null when malformed. */
function column(c: unknown, n: number, optional: boolean): Col | OptCol | null {
  if (c === undefined) return optional ? undefined : 0;
  if (typeof c === 'number') return Number.isFinite(c) ? c : null;
  if (!Array.isArray(c) || c.length !== n) return null;
  for (let i = 0; i < n; i++) {
    const v: unknown = c[i];
    if (typeof v !== 'number' && !(optional && v === null)) return null;
  }
  return c as number[];
}

const at = (c: Col, i: number): number => (typeof c === 'number' ? c : c[i]);

/** undefined: absent (no column, or null for this function). */
function opt(c: OptCol, i: number): number | undefined {
  if (c === undefined) return undefined;
  if (typeof c === 'number') return c;
  const v = c[i];
  return v === null ? undefined : v;
}

/** Histograms by length, reused: Histogram.addSparseExact reads its argument and keeps nothing. */
const scratchHists: number[][] = [];

/**
 * Writes function i into `row` (every field set, absent ones to undefined). `row.hist` is a
 * scratch array overwritten by the next call unless `ownHist`.
 */
export function fillRow(v: DeltaView, i: number, row: FunctionDelta, ownHist = false): FunctionDelta {
  const totalNs = at(v.totalNs, i);
  const maxNs = totalNs - at(v.maxNs, i);
  const self = opt(v.selfNs, i);
  const selfNs = self === undefined ? undefined : totalNs - self;
  const incl = opt(v.inclusiveNs, i);
  const inclusiveNs = incl === undefined ? undefined : totalNs - incl;
  const estTotal = opt(v.estTotalNs, i);
  const estSelf = opt(v.estSelfNs, i);
  const estIncl = opt(v.estInclusiveNs, i);
  row.id = v.ids[i];
  row.calls = at(v.calls, i);
  row.errors = at(v.errors, i);
  row.timed = at(v.timed, i);
  row.totalNs = totalNs;
  row.maxNs = maxNs;
  row.minNs = maxNs - at(v.minNs, i);
  row.selfNs = selfNs;
  row.inclusiveNs = inclusiveNs;
  row.estTotalNs = estTotal === undefined ? undefined : totalNs + estTotal;
  row.estSelfNs = estSelf === undefined ? undefined : (selfNs ?? 0) + estSelf;
  row.estInclusiveNs = estIncl === undefined ? undefined : (inclusiveNs ?? 0) + estIncl;
  const len = at(v.histLen, i);
  let h: number[];
  if (ownHist) {
    h = new Array<number>(len);
  } else {
    h = scratchHists[len] ??= new Array<number>(len);
  }
  const src = v.hist;
  const start = v.histStart[i];
  let bucket = 0;
  for (let k = 0; k < len; k += 2) {
    bucket = k === 0 ? src[start] : bucket + src[start + k];
    h[k] = bucket;
    h[k + 1] = src[start + k + 1];
  }
  row.hist = h;
  return row;
}

/** The delta's functions as objects (tests and tools; absent fields left out). */
export function functionDeltas(msg: DeltaMessage): FunctionDelta[] {
  const v = readDelta(msg);
  if (typeof v === 'string') throw new Error(`malformed delta: ${v}`);
  const out: FunctionDelta[] = [];
  for (let i = 0; i < v.n; i++) {
    const row = fillRow(v, i, {} as FunctionDelta, true);
    for (const key of OPTIONAL) if (row[key] === undefined) delete row[key];
    out.push(row);
  }
  return out;
}
