import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { functionDeltas, readDelta, readDeltaIds } from '../../src/model/delta-columns';
import { bucketIndex } from '../../src/model/histogram';
import { HIST_DIGITS } from '../../src/protocol/runtime';

/** The numbers of a `hist` text, read the plain way (a check on the decoder's reader). */
function numbersOf(text: string): number[] {
  const out: number[] = [];
  let value = 0;
  let scale = 1;
  for (const ch of text) {
    const digit = HIST_DIGITS.indexOf(ch);
    if (digit < 32) {
      out.push(value + digit * scale);
      value = 0;
      scale = 1;
    } else {
      value += (digit - 32) * scale;
      scale *= 32;
    }
  }
  return out;
}
import { ReportBuilder } from '../../src/model/report';
import type { DeltaMessage, FunctionDelta, RuntimeMessage } from '../../src/protocol/runtime';
import { encodeDeltaColumns } from '../../src/runtime/node/delta-encoder';
import { Recorder } from '../../src/runtime/node/recorder';
import { runScenario, scenarioReport, SCENARIO_MODES, type ScenarioCut } from './delta-scenario';

/** The report the builder made of the scenario before deltas became columns (protocol 1, one object per function). */
const GOLDEN = path.resolve(__dirname, '../fixtures/protocol/scenario-report.json');

const cutsOf = (): ScenarioCut[][] => SCENARIO_MODES.map((mode) => runScenario((m, now) => new Recorder({ mode: m, sampleEvery: 8, now }), mode));

/** What the runtime sends for a cut, through JSON as on the wire. */
function onTheWire(fns: FunctionDelta[], at = 1): DeltaMessage {
  return JSON.parse(JSON.stringify({ type: 'delta', at, n: fns.length, cols: encodeDeltaColumns(fns) })) as DeltaMessage;
}

describe('protocol: delta columns (runtime encoder, collector decoder)', () => {
  it('every recorder cut of every mode decodes to exactly the functions it holds', () => {
    let n = 0;
    for (const cuts of cutsOf()) {
      for (const cut of cuts) {
        assert.deepEqual(functionDeltas(onTheWire(cut.fns)), cut.fns, `${cut.mode} cut`);
        n += cut.fns.length;
      }
    }
    assert.ok(n > 200, `${n} function deltas checked`);
  });

  it('the report built from the columns is the one protocol 1 gave (golden file of the old builder)', () => {
    const report = scenarioReport<RuntimeMessage>(new ReportBuilder(), cutsOf(), (c, at) => {
      const msg = onTheWire(c.fns, at);
      if (c.spans.length > 0) msg.spans = c.spans;
      if (c.memos.length > 0) msg.memos = c.memos;
      return msg;
    });
    const text = `${JSON.stringify(report, null, 1)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(GOLDEN, text); // after a deliberate change of the report; review the diff
    assert.equal(text, fs.readFileSync(GOLDEN, 'utf8'));
  });

  it('common values collapse: one call, fully timed, no callee, no recursion leaves a few numbers per function', () => {
    const fns: FunctionDelta[] = [10, 11, 12].map((id) => ({
      id, calls: 1, errors: 0, timed: 1, totalNs: 1000 + id, minNs: 1000 + id, maxNs: 1000 + id, hist: [200, 1],
      selfNs: 1000 + id, inclusiveNs: 1000 + id, estTotalNs: 1000 + id, estSelfNs: 1000 + id, estInclusiveNs: 1000 + id,
    }));
    const msg = onTheWire(fns);
    assert.deepEqual(msg.cols, {
      id: [11, 1, 1], calls: 1, timed: 1, totalNs: [1010, 1011, 1012], selfNs: 0, inclusiveNs: 0,
      estTotalNs: 0, estSelfNs: 0, estInclusiveNs: 0, histLen: 2, hist: 'oGBoGBoGB', // [200, 1] three times
    });
    assert.deepEqual(functionDeltas(msg), fns);
  });

  it('protocol 3: a single call\'s histogram is implied by its duration, and a few exceptions travel as such', () => {
    // 16 functions called once, fully timed; one (the 6th) called 4 times: every column but totalNs is one value with an exception.
    const fns: FunctionDelta[] = Array.from({ length: 16 }, (_, k) => {
      const totalNs = 1000 + 37 * k;
      if (k === 5) return { id: k, calls: 4, errors: 0, timed: 4, totalNs: 4000, minNs: 700, maxNs: 1500, hist: [bucketIndex(700), 1, bucketIndex(900), 2, bucketIndex(1500), 1] };
      return { id: k, calls: 1, errors: 0, timed: 1, totalNs, minNs: totalNs, maxNs: totalNs, hist: [bucketIndex(totalNs), 1] };
    });
    const msg = onTheWire(fns);
    assert.deepEqual(msg.cols.calls, { v: 1, at: [5], x: [4] });
    assert.deepEqual(msg.cols.maxNs, { v: 0, at: [5], x: [2500] });
    assert.deepEqual(msg.cols.histLen, { v: 0, at: [5], x: [6] }, 'only the 4-call function sends its histogram');
    assert.deepEqual(numbersOf(msg.cols.hist!), [bucketIndex(700), 1, bucketIndex(900) - bucketIndex(700), 2, bucketIndex(1500) - bucketIndex(900), 1]);
    assert.deepEqual(functionDeltas(msg), fns);
    // A single call whose rounded duration lies in another bucket than the one recorded is sent as it is.
    const odd: FunctionDelta = { id: 0, calls: 1, errors: 0, timed: 1, totalNs: 1024, minNs: 1024, maxNs: 1024, hist: [bucketIndex(1023), 1] };
    assert.deepEqual(functionDeltas(onTheWire([odd])), [odd]);
    // More than an eighth of the values differ: a plain array.
    const mixed = fns.map((f, k) => ({ ...f, errors: k % 3 === 0 ? 1 : 0 }));
    assert.ok(Array.isArray(onTheWire(mixed).cols.errors));
    assert.deepEqual(functionDeltas(onTheWire(mixed)), mixed);
  });

  it('a view\'s columns are as long as its delta, though the arrays behind them are reused', () => {
    const one = (id: number): FunctionDelta => ({ id, calls: 1, errors: 0, timed: 1, totalNs: 900, minNs: 900, maxNs: 900, hist: [bucketIndex(900), 1] });
    const big = readDelta(onTheWire(Array.from({ length: 50 }, (_, k) => one(k))));
    assert.ok(typeof big !== 'string' && big.ids.length === 50);
    const small = readDelta(onTheWire([one(7), one(9)]));
    assert.ok(typeof small !== 'string');
    assert.deepEqual([...small.ids], [7, 9], 'no ids of the earlier, larger delta');
    for (const key of ['calls', 'timed', 'totalNs', 'histStart', 'histLen'] as const) assert.equal(small[key].length, 2, key);
    assert.equal(small.hist.length, 4);
  });

  it('ids alone (what the live session reads on arrival): the view\'s ids, without disturbing a view being read', () => {
    const one = (id: number): FunctionDelta => ({ id, calls: 1, errors: 0, timed: 1, totalNs: 900, minNs: 900, maxNs: 900, hist: [bucketIndex(900), 1] });
    const view = readDelta(onTheWire([one(3), one(4), one(40)]));
    assert.ok(typeof view !== 'string');
    const ids = readDeltaIds(onTheWire([one(0), one(8)]));
    assert.ok(typeof ids !== 'string');
    assert.deepEqual([...ids], [0, 8]);
    assert.deepEqual([...view.ids], [3, 4, 40], 'the view read before keeps its ids');
    assert.equal(readDeltaIds({ type: 'delta', at: 1, n: 2, cols: { id: [0, -5] } } as unknown as DeltaMessage), 'bad column id');
    assert.equal(readDeltaIds({ type: 'delta', at: 1, n: 1.5, cols: {} } as unknown as DeltaMessage), 'bad function count 1.5');
    assert.equal(readDeltaIds({ type: 'delta', at: 1, n: 1 } as unknown as DeltaMessage), 'no columns');
  });

  it('absent optional fields stay absent; histogram buckets travel as steps', () => {
    const fns: FunctionDelta[] = [
      { id: 0, calls: 5, errors: 1, timed: 0, totalNs: 0, minNs: 0, maxNs: 0, hist: [] },
      { id: 7, calls: 3, errors: 0, timed: 3, totalNs: 900, minNs: 100, maxNs: 500, hist: [100, 1, 290, 1, 364, 1], estTotalNs: 900 },
    ];
    const msg = onTheWire(fns);
    assert.deepEqual(msg.cols.estTotalNs, [null, 0]);
    assert.equal(msg.cols.selfNs, undefined);
    assert.equal(msg.cols.hist, 'kDB-FBqCB'); // [100, 1, 190, 1, 74, 1]
    assert.deepEqual(functionDeltas(msg), fns);
  });

  it('histogram numbers of any size travel as digits and come back exact', () => {
    const big = 2 ** 53 - 1;
    const fns: FunctionDelta[] = [
      { id: 1, calls: big, errors: 0, timed: big, totalNs: 5e15, minNs: 1, maxNs: 4e15, hist: [0, 31, 31, 32, 1023, 1024, 1999, big] },
      { id: 2, calls: 2, errors: 0, timed: 2, totalNs: 3000, minNs: 1000, maxNs: 2000, hist: [bucketIndex(1000), 1, bucketIndex(2000), 1] },
    ];
    const msg = onTheWire(fns);
    assert.equal(typeof msg.cols.hist, 'string');
    assert.match(msg.cols.hist!, /^[A-Za-z0-9_-]+$/, 'nothing to escape in JSON');
    assert.deepEqual(numbersOf(msg.cols.hist!).slice(0, 8), [0, 31, 31, 32, 992, 1024, 976, big]);
    assert.deepEqual(functionDeltas(msg), fns);
    assert.throws(() => onTheWire([{ ...fns[1], hist: [5, -1] }]), /histogram number -1 is not a non-negative integer/);
  });

  it('an empty delta (spans or memos only) has no functions', () => {
    const msg = onTheWire([]);
    assert.equal(msg.n, 0);
    assert.deepEqual(functionDeltas(msg), []);
  });

  it('is decoded once per message, and malformed columns are named', () => {
    const msg = onTheWire([{ id: 3, calls: 1, errors: 0, timed: 0, totalNs: 0, minNs: 0, maxNs: 0, hist: [] }]);
    assert.equal(readDelta(msg), readDelta(msg));
    const bad = (cols: object, n = 1): unknown => readDelta({ type: 'delta', at: 0, n, cols } as DeltaMessage);
    assert.equal(bad({ id: [1, 1] }), 'bad column id');
    assert.equal(bad({ id: 0 }), 'bad column id', 'ids start at 0: the first step is at least 1');
    assert.equal(bad({ id: 1, timed: [null] }), 'bad column timed', 'null only in optional columns');
    assert.equal(bad({ id: 1, selfNs: [null] }) !== null && typeof bad({ id: 1, selfNs: [null] }), 'object');
    assert.equal(bad({ id: 1, histLen: 2 }), 'hist ends before the 2 numbers histLen says');
    assert.equal(bad({ id: 1, histLen: 2, hist: 'Bk' }), 'bad column hist', 'a number cut off after a digit that says more follow');
    assert.equal(bad({ id: 1, histLen: 2, hist: 'B B' }), 'bad column hist', 'a character that is no digit');
    assert.equal(bad({ id: 1, histLen: 2, hist: [1, 1] }), 'bad column hist', 'numbers as JSON (protocol 3)');
    assert.equal(bad({ id: 1 }, 1.5), 'bad function count 1.5');
    assert.equal(bad({ id: 1, calls: { v: 1, at: [2], x: [4] } }), 'bad column calls', 'a sparse column must point inside the delta');
    assert.equal(bad({ id: 1, calls: { v: 1, at: [0], x: [] } }), 'bad column calls', 'as many values as positions');
    assert.equal(bad({ id: 1, calls: { v: 'x', at: [], x: [] } }), 'bad column calls', 'values are numbers');
    assert.equal(bad({ id: 1, selfNs: { v: null, at: [0], x: [5] } }) !== null, true, 'null is a value of optional columns');
  });
});
