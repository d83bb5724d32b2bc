/**
 * Encodes the functions of a cut as `DeltaColumns` (see src/protocol/runtime.ts for the layout):
 * one array per field, most fields as differences that are 0 in the common case, columns that
 * hold one value collapsed to that value and columns that are all 0 / all absent left out.
 * Runs once per flush in the measured program; the decoder is src/model/delta-columns.ts.
 */
import type { DeltaColumns, FunctionDelta } from '../../protocol/runtime';

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
  const hist: number[] = [];
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
    histLen[i] = h.length;
    for (let k = 0; k < h.length; k += 2) hist.push(k === 0 ? h[0] : h[k] - h[k - 2], h[k + 1]);
  }
  const cols: DeltaColumns = { id: collapse(id) };
  const set = (key: keyof DeltaColumns, values: number[]): void => {
    const c = collapse(values);
    if (c !== 0) cols[key] = c as number & number[];
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
  if (hist.length > 0) cols.hist = hist;
  return cols;
}

/** The value itself when every entry is that number, else the array. */
function collapse<T extends number | null>(values: T[]): number | T[] {
  if (values.length === 0) return 0;
  const first = values[0];
  if (first === null) return values;
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return values;
  return first;
}
