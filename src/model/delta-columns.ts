/**
 * Decodes the columns of a delta message (layout in src/protocol/runtime.ts `DeltaColumns`; the
 * encoder is src/runtime/node/delta-encoder.ts). Pure: used by the report builder, the server's
 * live session and tests.
 *
 * `readDelta` checks the columns and decodes them once into Float64Arrays of absolute values
 * (differences resolved, constant and sparse columns spread, implied histograms written out), so
 * the report builder's merge of a 5,000-function delta reads one kind of array only: the columns
 * as JSON.parse makes them come in several element kinds (small integers, doubles, with nulls),
 * and reading them through one accessor made every read a polymorphic lookup, which cost more
 * than the additions. The arrays are scratch space reused by the next decode (each as long as
 * the delta): a view is valid until `readDelta` is called with another message.
 */
import { HIST_DIGITS, type DeltaColumns, type DeltaMessage, type FunctionDelta } from '../protocol/runtime';
import { bucketIndex, isEven } from './histogram';

export interface DeltaView {
  readonly n: number;
  readonly ids: Float64Array;
  readonly calls: Float64Array;
  readonly errors: Float64Array;
  readonly timed: Float64Array;
  readonly totalNs: Float64Array;
  readonly maxNs: Float64Array;
  readonly minNs: Float64Array;
  /** Optional fields: null when no function has it, NaN for a function that has not. */
  readonly selfNs: Float64Array | null;
  readonly inclusiveNs: Float64Array | null;
  readonly estTotalNs: Float64Array | null;
  readonly estSelfNs: Float64Array | null;
  readonly estInclusiveNs: Float64Array | null;
  /** The functions' sparse histograms [bucket, count, ...] one after the other (absolute buckets). */
  readonly hist: Float64Array;
  /** Where function i's numbers start in `hist`, and how many there are. */
  readonly histStart: Float64Array;
  readonly histLen: Float64Array;
}

type Required = 'ids' | 'calls' | 'errors' | 'timed' | 'totalNs' | 'maxNs' | 'minNs' | 'histStart' | 'histLen';
type Optional = 'selfNs' | 'inclusiveNs' | 'estTotalNs' | 'estSelfNs' | 'estInclusiveNs';
const OPTIONAL: readonly Optional[] = ['selfNs', 'inclusiveNs', 'estTotalNs', 'estSelfNs', 'estInclusiveNs'];
const MAX_FUNCTIONS = 1 << 24;

/** Reused arrays, grown to the largest delta seen; handed out as views exactly `n` long. */
const scratch = new Map<string, Float64Array>();
function array(name: string, n: number): Float64Array {
  let a = scratch.get(name);
  if (!a || a.length < n) scratch.set(name, (a = new Float64Array(Math.max(n, 2 * (a?.length ?? 0), 16))));
  return a.subarray(0, n);
}

/** The last message decoded: the report builder and the live session both read each delta. */
let lastMsg: DeltaMessage | undefined;
let lastView: DeltaView | string | undefined;

/** The delta's functions as columns, or why they cannot be read. Valid until another message is read. */
export function readDelta(msg: DeltaMessage): DeltaView | string {
  if (msg !== lastMsg) {
    lastView = undefined; // a decode that throws must not leave a half-written view behind
    lastView = decode(msg);
    lastMsg = msg;
  }
  return lastView!;
}

/** Reads a sent column into `out` (0..n-1): false when malformed. Optional columns may hold null (→ NaN). */
function fill(out: Float64Array, c: unknown, n: number, optional: boolean): boolean {
  if (c === undefined) {
    out.fill(0, 0, n);
    return true;
  }
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return false;
    out.fill(c, 0, n);
    return true;
  }
  if (Array.isArray(c)) {
    if (c.length !== n) return false;
    for (let i = 0; i < n; i++) {
      const v: unknown = c[i];
      if (typeof v === 'number') out[i] = v;
      else if (optional && v === null) out[i] = NaN;
      else return false;
    }
    return true;
  }
  // A SparseColumn: one value with exceptions.
  if (typeof c !== 'object' || c === null) return false;
  const { v, at, x } = c as { v?: unknown; at?: unknown; x?: unknown };
  if (!Array.isArray(at) || !Array.isArray(x) || at.length !== x.length) return false;
  const value = (u: unknown): number | undefined => (typeof u === 'number' && Number.isFinite(u) ? u : optional && u === null ? NaN : undefined);
  const base = value(v);
  if (base === undefined) return false;
  out.fill(base, 0, n);
  for (let k = 0; k < at.length; k++) {
    const i: unknown = at[k];
    const val = value(x[k]);
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= n || val === undefined) return false;
    out[i as number] = val;
  }
  return true;
}

/** The id column (differences from the previous id, the first from -1) as ids: false when malformed. */
function decodeIds(ids: Float64Array, c: unknown, n: number): boolean {
  if (!fill(ids, c, n, false)) return false;
  let id = -1;
  for (let i = 0; i < n; i++) {
    id += ids[i];
    if (!(id >= 0)) return false;
    ids[i] = id;
  }
  return true;
}

/**
 * Only the function ids of a delta (what the live session needs on arrival to know which files
 * changed; the other columns are decoded when the delta is merged), or why they cannot be read.
 * Scratch space of its own: valid until the next call, and does not disturb `readDelta`'s view.
 */
export function readDeltaIds(msg: DeltaMessage): Float64Array | string {
  const head = header(msg);
  if (typeof head === 'string') return head;
  const ids = array('idsOnly', head.n);
  return decodeIds(ids, head.cols.id, head.n) ? ids : 'bad column id';
}

/** The delta's function count and columns object, or why they cannot be read. */
function header(msg: DeltaMessage): { n: number; cols: Partial<Record<keyof DeltaColumns, unknown>> } | string {
  const n = msg.n;
  if (!Number.isInteger(n) || n < 0 || n > MAX_FUNCTIONS) return `bad function count ${JSON.stringify(n)}`;
  const cols = msg.cols as Partial<Record<keyof DeltaColumns, unknown>> | undefined;
  if (typeof cols !== 'object' || cols === null) return 'no columns';
  return { n, cols };
}

function decode(msg: DeltaMessage): DeltaView | string {
  const head = header(msg);
  if (typeof head === 'string') return head;
  const { n, cols } = head;
  const view = { n } as Record<Required | Optional | 'hist', Float64Array | null> & { n: number };
  for (const key of ['calls', 'errors', 'timed', 'totalNs', 'maxNs', 'minNs', 'histLen'] as const) {
    if (!fill((view[key] = array(key, n)), cols[key], n, false)) return `bad column ${key}`;
  }
  for (const key of OPTIONAL) {
    view[key] = cols[key] === undefined ? null : array(key, n);
    if (view[key] && !fill(view[key], cols[key], n, true)) return `bad column ${key}`;
  }
  if (!decodeIds((view.ids = array('ids', n)), cols.id, n)) return 'bad column id';
  // Differences to absolute values (see DeltaColumns).
  const { totalNs, maxNs, minNs, selfNs, inclusiveNs, estTotalNs, estSelfNs, estInclusiveNs } = view as unknown as DeltaView;
  for (let i = 0; i < n; i++) {
    const total = totalNs[i];
    const max = (maxNs[i] = total - maxNs[i]);
    minNs[i] = max - minNs[i];
    if (selfNs) selfNs[i] = total - selfNs[i]; // NaN stays NaN
    if (inclusiveNs) inclusiveNs[i] = total - inclusiveNs[i];
    if (estTotalNs) estTotalNs[i] += total;
    if (estSelfNs) estSelfNs[i] += selfNs && selfNs[i] === selfNs[i] ? selfNs[i] : 0;
    if (estInclusiveNs) estInclusiveNs[i] += inclusiveNs && inclusiveNs[i] === inclusiveNs[i] ? inclusiveNs[i] : 0;
  }
  const sent = cols.hist === undefined ? '' : cols.hist;
  if (typeof sent !== 'string') return 'bad column hist';
  const histLen = view.histLen!;
  const timed = view.timed!;
  const histStart = (view.histStart = array('histStart', n));
  let implied = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const len = histLen[i];
    if (!(len >= 0) || !isEven(len)) return 'bad column histLen';
    total += len;
    if (len === 0 && timed[i] === 1) implied++;
  }
  const hist = (view.hist = array('hist', total + 2 * implied));
  const digits = new DigitReader(sent);
  let to = 0;
  for (let i = 0; i < n; i++) {
    histStart[i] = to;
    const len = histLen[i];
    if (len === 0 && timed[i] === 1) {
      // One timed call: its histogram is implied (see DeltaColumns).
      hist[to++] = bucketIndex(totalNs[i]);
      hist[to++] = 1;
      histLen[i] = 2;
      continue;
    }
    let bucket = 0;
    for (let k = 0; k < len; k += 2) {
      const step = digits.next();
      const count = digits.next();
      if (count < 0) return digits.at < sent.length ? 'bad column hist' : `hist ends before the ${total} numbers histLen says`;
      bucket = k === 0 ? step : bucket + step;
      hist[to++] = bucket;
      hist[to++] = count;
    }
  }
  if (digits.at !== sent.length) return `hist holds more than the ${total} numbers histLen says`;
  return view as unknown as DeltaView;
}

/** Value of each HIST_DIGITS character by its code (-1: not a digit). */
const DIGIT_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < HIST_DIGITS.length; i++) DIGIT_VALUE[HIST_DIGITS.charCodeAt(i)] = i;

/** Reads the numbers of a `DeltaColumns.hist` text one after the other. */
class DigitReader {
  /** Where the next number starts. */
  at = 0;
  constructor(private readonly text: string) {}

  /** The next number; -1 at the end of the text or at a character that is no digit. */
  next(): number {
    const text = this.text;
    let value = 0;
    let scale = 1;
    for (let i = this.at; i < text.length; i++) {
      const code = text.charCodeAt(i);
      const digit = code < 128 ? DIGIT_VALUE[code] : -1;
      if (digit < 0) break;
      if (digit < 32) {
        this.at = i + 1;
        return value + digit * scale;
      }
      value += (digit - 32) * scale;
      scale *= 32;
    }
    return -1;
  }
}

/** undefined: absent (no column, or NaN for this function). */
function opt(c: Float64Array | null, i: number): number | undefined {
  if (c === null) return undefined;
  const v = c[i];
  return v === v ? v : undefined;
}

/** Function i as an object (absent optional fields left out). */
export function functionAt(v: DeltaView, i: number): FunctionDelta {
  const start = v.histStart[i];
  const row: FunctionDelta = {
    id: v.ids[i],
    calls: v.calls[i],
    errors: v.errors[i],
    timed: v.timed[i],
    totalNs: v.totalNs[i],
    minNs: v.minNs[i],
    maxNs: v.maxNs[i],
    hist: Array.from(v.hist.subarray(start, start + v.histLen[i])),
  };
  for (const key of OPTIONAL) {
    const value = opt(v[key], i);
    if (value !== undefined) row[key] = value;
  }
  return row;
}

/** The delta's functions as objects (tests and tools). */
export function functionDeltas(msg: DeltaMessage): FunctionDelta[] {
  const v = readDelta(msg);
  if (typeof v === 'string') throw new Error(`malformed delta: ${v}`);
  const out: FunctionDelta[] = [];
  for (let i = 0; i < v.n; i++) out.push(functionAt(v, i));
  return out;
}
