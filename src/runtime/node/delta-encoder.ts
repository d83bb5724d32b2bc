/**
 * Encodes the functions of a cut as `DeltaColumns` (see src/protocol/runtime.ts for the layout):
 * one array per field, most fields as differences that are 0 in the common case, columns that
 * hold one value collapsed to that value, columns with a few exceptions sent as those, columns
 * that are all 0 / all absent left out, and a single call's histogram left to the decoder.
 * Runs once per flush in the measured program; the decoder is src/model/delta-columns.ts.
 */
import { bucketIndex } from '../../model/histogram';
import { HIST_DIGITS, type DeltaColumns, type FunctionDelta, type SparseColumn } from '../../protocol/runtime';

type Optional = 'selfNs' | 'inclusiveNs' | 'estTotalNs' | 'estSelfNs' | 'estInclusiveNs';

export function encodeDeltaColumns(fns: readonly FunctionDelta[]): DeltaColumns {
  const n = fns.length;
  const id = new Array<number>(n);
  const calls = new Array<number>(n);
  const errors = new Array<number>(n);
  const timed = new Array<number>(n);
  const totalNs = new Array<number>(n);
  const maxNs = new Array<number>(n);
  const minNs = new Array<number>(n);
  const optional = (): (number | null)[] => new Array<number | null>(n);
  const opt: Record<Optional, (number | null)[]> = {
    selfNs: optional(), inclusiveNs: optional(), estTotalNs: optional(), estSelfNs: optional(), estInclusiveNs: optional(),
  };
  const histLen = new Array<number>(n);
  const hist = histText;
  hist.reset();
  let prevId = -1;
  for (let i = 0; i < n; i++) {
    const f = fns[i];
    id[i] = f.id - prevId;
    prevId = f.id;
    calls[i] = f.calls;
    errors[i] = f.errors;
    timed[i] = f.timed;
    totalNs[i] = f.totalNs;
    maxNs[i] = f.totalNs - f.maxNs;
    minNs[i] = f.maxNs - f.minNs;
    opt.selfNs[i] = f.selfNs === undefined ? null : f.totalNs - f.selfNs;
    opt.inclusiveNs[i] = f.inclusiveNs === undefined ? null : f.totalNs - f.inclusiveNs;
    opt.estTotalNs[i] = f.estTotalNs === undefined ? null : f.estTotalNs - f.totalNs;
    opt.estSelfNs[i] = f.estSelfNs === undefined ? null : f.estSelfNs - (f.selfNs ?? 0);
    opt.estInclusiveNs[i] = f.estInclusiveNs === undefined ? null : f.estInclusiveNs - (f.inclusiveNs ?? 0);
    const h = f.hist;
    if (f.timed === 1 && h.length === 2 && h[1] === 1 && h[0] === bucketIndex(f.totalNs)) {
      histLen[i] = 0; // implied by totalNs
    } else if (f.timed === 1 && h.length === 0) {
      // Never sent by the recorder (a timed call is in its histogram); [0, 0] adds nothing, where an empty one would read as implied.
      histLen[i] = 2;
      hist.push(0);
      hist.push(0);
    } else {
      histLen[i] = h.length;
      for (let k = 0; k < h.length; k += 2) {
        hist.push(k === 0 ? h[0] : h[k] - h[k - 2]);
        hist.push(h[k + 1]);
      }
    }
  }
  const cols: DeltaColumns = { id: collapse(id) };
  const set = (key: keyof DeltaColumns, values: number[]): void => {
    const c = collapse(values);
    if (c !== 0) (cols as unknown as Record<string, unknown>)[key] = c;
  };
  set('calls', calls);
  set('errors', errors);
  set('timed', timed);
  set('totalNs', totalNs);
  set('maxNs', maxNs);
  set('minNs', minNs);
  for (const key of Object.keys(opt) as Optional[]) {
    const values = opt[key];
    if (values.some((v) => v !== null)) cols[key] = collapse(values);
  }
  set('histLen', histLen);
  if (hist.length > 0) cols.hist = hist.text();
  return cols;
}

/** Numbers written as HIST_DIGITS text (see DeltaColumns), into bytes reused from cut to cut. */
class DigitWriter {
  private bytes = new Uint8Array(4096);
  length = 0;
  private readonly codes = Uint8Array.from(HIST_DIGITS, (c) => c.charCodeAt(0));

  reset(): void {
    this.length = 0;
  }

  /** A non-negative integer (histogram buckets, steps and counts). */
  push(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`histogram number ${value} is not a non-negative integer`);
    if (this.length + 11 > this.bytes.length) {
      const grown = new Uint8Array(2 * this.bytes.length);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    let v = value;
    while (v >= 32) {
      const digit = v % 32;
      this.bytes[this.length++] = this.codes[32 + digit];
      v = (v - digit) / 32;
    }
    this.bytes[this.length++] = this.codes[v];
  }

  text(): string {
    return Buffer.from(this.bytes.buffer, 0, this.length).toString('latin1');
  }
}
const histText = new DigitWriter();

/**
 * The value itself when every entry is that number; a SparseColumn when at most an eighth of the
 * entries differ from the most common of a few candidates (first, middle, last); else the array.
 */
function collapse<T extends number | null>(values: T[]): number | T[] | SparseColumn<T> {
  const n = values.length;
  if (n === 0) return 0;
  let best = values[0];
  let bestCount = countOf(values, best);
  for (const candidate of [values[n >> 1], values[n - 1]]) {
    if (candidate === best) continue;
    const count = countOf(values, candidate);
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  if (bestCount === n && best !== null) return best;
  if (n - bestCount > n >> 3) return values;
  const at: number[] = [];
  const x: T[] = [];
  for (let i = 0; i < n; i++) {
    if (values[i] !== best) {
      at.push(i);
      x.push(values[i]);
    }
  }
  return { v: best, at, x };
}

function countOf<T>(values: readonly T[], v: T): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === v) count++;
  return count;
}
