import { strict as assert } from 'assert';
import {
  BUCKET_COUNT,
  Histogram,
  MAX_RELATIVE_ERROR,
  addRowsInWindow,
  SUB_BUCKETS,
  bucketIndex,
  bucketLowerBound,
  bucketUpperBound,
  bucketValue,
  denseToSparse,
  isEven,
  mergeSparse,
} from '../../src/model/histogram';
import { RecordStore } from '../../src/model/record-store';
import { rng } from './random';


/** Exact nearest-rank quantile of a sorted array. */
function exactQuantile(sorted: number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

function relErr(got: number, want: number): number {
  return want === 0 ? Math.abs(got) : Math.abs(got - want) / want;
}

const HOUR_NS = 3600e9;

describe('model/histogram', () => {
  it('counts every bucket exactly wherever its counts are kept (the window in the record, or outside it)', () => {
    // A slow first call, then durations wandering over six octaves, then three octaves faster: the
    // window (four octaves) is placed, moved, and buckets land on both sides of it.
    const r = rng(7);
    const values = [5_000_000, ...Array.from({ length: 3000 }, (_, k) => Math.round(800 * 2 ** (6 * r()) * (k < 1500 ? 1 : 0.125)))];
    const h = new Histogram();
    const shared = new RecordStore();
    const inStore = [new Histogram(shared), new Histogram(shared)]; // records side by side in one store
    const byBucket = new Map<number, number>();
    for (const v of values) {
      h.record(v);
      inStore[v % 2].record(v);
      byBucket.set(bucketIndex(v), (byBucket.get(bucketIndex(v)) ?? 0) + 1);
    }
    const want = [...byBucket.entries()].sort((a, b) => a[0] - b[0]).flat();
    assert.deepEqual(h.toSparse(), want);
    assert.deepEqual(mergeSparse(inStore[0].toSparse(), inStore[1].toSparse()), want);
    for (const [i, c] of byBucket) assert.equal(h.bucketCount(i), c, `bucket ${i}`);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) assert.ok(relErr(h.quantile(q)!, exactQuantile(sorted, q)) <= MAX_RELATIVE_ERROR, `q${q}`);
    const merged = new Histogram();
    merged.merge(inStore[0]);
    merged.merge(inStore[1]);
    assert.deepEqual(merged.toSparse(), want);
    assert.equal(merged.count, values.length);
  });

  it('keeps outliers exactly at both ends of the range (bucket 0, the last bucket) around a window', () => {
    const h = new Histogram();
    const values: number[] = [...Array<number>(50).fill(1000), 0, 2 ** 53, 3, 2 ** 40, 1e6, 1, 2 ** 52, ...Array<number>(50).fill(1100)];
    for (const v of values) h.record(v);
    const byBucket = new Map<number, number>();
    for (const v of values) byBucket.set(bucketIndex(v), (byBucket.get(bucketIndex(v)) ?? 0) + 1);
    assert.deepEqual(h.toSparse(), [...byBucket.entries()].sort((a, b) => a[0] - b[0]).flat());
    assert.equal(h.bucketCount(0), 1);
    assert.equal(h.bucketCount(BUCKET_COUNT - 1), 1); // 2^53: beyond the range, in the last bucket
    assert.equal(h.bucketCount(bucketIndex(2 ** 52)), 1);
    assert.equal(h.bucketCount(bucketIndex(1000)), 50);
    assert.equal(h.min, 0);
    assert.equal(h.max, 2 ** 53);
  });

  describe('the window follows the durations (most rows merge on the fast path)', () => {
    /** A delta row of one timed call of `ns`, as the server decodes it. */
    const oneCall = (ns: number) => ({
      timed: Float64Array.of(1), totalNs: Float64Array.of(ns), minNs: Float64Array.of(ns), maxNs: Float64Array.of(ns),
      hist: Float64Array.of(bucketIndex(ns), 1), histStart: Float64Array.of(0), histLen: Float64Array.of(2),
    });
    /** Adds one call as the server does: in the window if it fits, else through addSparseExact. Says whether it fitted. */
    function addCall(store: RecordStore, h: Histogram, ns: number): boolean {
      const at = Int32Array.of(h.offset);
      addRowsInWindow(store.a, at, 0, oneCall(ns), 0, 1);
      if (at[0] >= 0) return true;
      h.addSparseExact([bucketIndex(ns), 1], ns, ns, ns);
      return false;
    }

    it('moves to durations that drifted three octaves faster after a few misses, not after most counts are outside', () => {
      const store = new RecordStore();
      const h = new Histogram(store);
      for (let k = 0; k < 300; k++) addCall(store, h, 2000 + (k % 7) * 40); // the JIT's early calls
      const misses = Array.from({ length: 300 }, (_, k) => !addCall(store, h, 250 + (k % 5) * 10)).filter(Boolean).length;
      // The old rule alone (move once three quarters of the counts are outside) missed all 300.
      assert.ok(misses > 0 && misses <= 8, `${misses} of the faster calls missed the window`);
      assert.equal(h.count, 600);
      assert.equal(h.bucketCount(bucketIndex(2000)) + h.bucketCount(bucketIndex(250)), 43 + 60);
    });

    it('stays put for occasional outliers far away (one call in ten, five octaves slower)', () => {
      const store = new RecordStore();
      const h = new Histogram(store);
      const r = rng(3);
      let typicalMissed = 0;
      for (let k = 0; k < 2000; k++) {
        const slow = r() < 0.1;
        const fitted = addCall(store, h, slow ? 40_000 : 1000 + Math.round(200 * r()));
        if (!slow && !fitted && k > 0) typicalMissed++;
      }
      assert.equal(typicalMissed, 0);
      assert.equal(h.count, 2000);
      assert.ok(h.quantile(0.5)! >= 1000 && h.quantile(0.5)! <= 1200 * (1 + MAX_RELATIVE_ERROR));
    });

    it('counts stay exact while it moves back and forth (two regimes alternating in runs)', () => {
      const store = new RecordStore();
      const h = new Histogram(store);
      const byBucket = new Map<number, number>();
      for (let k = 0; k < 3000; k++) {
        const ns = Math.floor(k / 50) % 2 === 0 ? 300 + (k % 11) : 90_000 + 37 * (k % 13);
        addCall(store, h, ns);
        byBucket.set(bucketIndex(ns), (byBucket.get(bucketIndex(ns)) ?? 0) + 1);
      }
      assert.deepEqual(h.toSparse(), [...byBucket.entries()].sort((a, b) => a[0] - b[0]).flat());
      for (const [i, c] of byBucket) assert.equal(h.bucketCount(i), c);
    });
  });

  describe('buckets', () => {
    it('values below 32 ns have exact buckets', () => {
      for (let v = 0; v < SUB_BUCKETS; v++) {
        assert.equal(bucketIndex(v), v);
        assert.equal(bucketValue(v), v);
      }
    });

    it('every bucket is contiguous with the next and maps back to itself', () => {
      for (let i = 0; i < BUCKET_COUNT - 1; i++) {
        assert.equal(bucketUpperBound(i) + 1, bucketLowerBound(i + 1), `gap after bucket ${i}`);
        assert.equal(bucketIndex(bucketLowerBound(i)), i);
        assert.equal(bucketIndex(bucketUpperBound(i)), i);
        assert.equal(bucketIndex(bucketValue(i)), i);
      }
    });

    it('bucket values are within 1/64 of every value from 1 ns to hours, including power-of-two edges', () => {
      const r = rng(1);
      const values: number[] = [];
      for (let e = 0; e <= 52; e++) values.push(2 ** e, 2 ** e - 1, 2 ** e + 1);
      for (let k = 0; k < 200_000; k++) values.push(Math.floor(Math.exp(r() * Math.log(10 * HOUR_NS))) + 1);
      let worst = 0;
      for (const v of values) {
        if (v < 1 || v >= 2 ** 53) continue;
        const i = bucketIndex(v);
        assert.ok(bucketLowerBound(i) <= v && v <= bucketUpperBound(i), `${v} outside bucket ${i}`);
        worst = Math.max(worst, relErr(bucketValue(i), v));
      }
      assert.ok(worst <= MAX_RELATIVE_ERROR, `worst relative error ${worst}`);
      assert.ok(MAX_RELATIVE_ERROR < 0.016);
    });

    it('clamps garbage: negative/NaN to bucket 0, fractions truncated, huge values to the last bucket', () => {
      assert.equal(bucketIndex(-5), 0);
      assert.equal(bucketIndex(NaN), 0);
      assert.equal(bucketIndex(0.7), 0);
      assert.equal(bucketIndex(7.9), 7);
      assert.equal(bucketIndex(1e300), BUCKET_COUNT - 1);
      assert.equal(bucketIndex(Infinity), BUCKET_COUNT - 1);
      assert.ok(bucketIndex(24 * HOUR_NS) < BUCKET_COUNT - 1, 'a day is still resolved');
      assert.throws(() => bucketValue(BUCKET_COUNT), /out of range/);
      assert.throws(() => bucketLowerBound(-1), /out of range/);
    });

    it('bucket indexes are monotonic in the value', () => {
      let prev = -1;
      for (let v = 0; v < 5_000_000; v += 37) {
        const i = bucketIndex(v);
        assert.ok(i >= prev);
        prev = i;
      }
    });
  });

  describe('quantiles against exact percentiles', () => {
    const distributions: Record<string, (r: () => number) => number[]> = {
      uniform: (r) => Array.from({ length: 50_000 }, () => Math.floor(r() * 1e6)),
      lognormal: (r) =>
        Array.from({ length: 50_000 }, () => {
          const z = Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
          return Math.floor(Math.exp(9 + 2 * z));
        }),
      exponential: (r) => Array.from({ length: 50_000 }, () => Math.floor(-Math.log(1 - r()) * 5e4)),
      // Adversarial: values sitting right on bucket edges, a huge outlier spread, bimodal with a gap.
      'bucket edges': (r) =>
        Array.from({ length: 20_000 }, () => {
          const i = 32 + Math.floor(r() * 1200);
          return r() < 0.5 ? bucketLowerBound(i) : bucketUpperBound(i);
        }),
      'bimodal (1 µs / 1 h)': (r) => Array.from({ length: 10_001 }, () => (r() < 0.97 ? 1000 + Math.floor(r() * 10) : HOUR_NS + Math.floor(r() * 1e9))),
      'all equal': () => Array.from({ length: 1000 }, () => 123_456_789),
      'single value': () => [42_000],
      'tiny ints': (r) => Array.from({ length: 10_000 }, () => Math.floor(r() * 40)),
      'geometric ladder': () => Array.from({ length: 53 }, (_, e) => 2 ** e),
    };
    for (const [name, make] of Object.entries(distributions)) {
      it(`${name}: p50/p95/p99/p99.9 within 2% and min/max exact`, () => {
        const values = make(rng(name.length * 7919));
        const h = new Histogram();
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of [0.5, 0.95, 0.99, 0.999, 0.01]) {
          const got = h.quantile(q)!;
          const want = exactQuantile(sorted, q);
          assert.ok(relErr(got, want) <= 0.02, `${name} q=${q}: got ${got}, exact ${want}`);
        }
        assert.equal(h.min, sorted[0]);
        assert.equal(h.max, sorted[sorted.length - 1]);
        assert.equal(h.quantile(0), sorted[0]);
        assert.equal(h.quantile(1), sorted[sorted.length - 1]);
        assert.equal(h.count, values.length);
        assert.equal(h.sum, values.reduce((a, b) => a + b, 0));
      });
    }

    it('an empty histogram has no quantiles, min or max', () => {
      const h = new Histogram();
      assert.equal(h.quantile(0.5), undefined);
      assert.equal(h.min, undefined);
      assert.equal(h.max, undefined);
      assert.deepEqual(h.toSparse(), []);
    });
  });

  describe('merging', () => {
    it('merging two histograms equals recording everything into one (exact)', () => {
      const r = rng(99);
      const a = new Histogram();
      const b = new Histogram();
      const all = new Histogram();
      for (let k = 0; k < 30_000; k++) {
        const v = Math.floor(Math.exp(r() * 25));
        (k % 3 === 0 ? a : b).record(v);
        all.record(v);
      }
      a.merge(b);
      assert.deepEqual(a.toSparse(), all.toSparse());
      assert.equal(a.count, all.count);
      assert.equal(a.sum, all.sum);
      assert.equal(a.min, all.min);
      assert.equal(a.max, all.max);
      for (const q of [0.5, 0.9, 0.99]) assert.equal(a.quantile(q), all.quantile(q));
    });

    it('adding sparse deltas equals the dense sum, with exact min/max/sum when given', () => {
      const h = new Histogram();
      h.addSparse([40, 2, 100, 1], { sum: 500, min: 48, max: 600 });
      h.addSparse([3, 1, 40, 5], { sum: 303, min: 3, max: 60 });
      assert.deepEqual(h.toSparse(), [3, 1, 40, 7, 100, 1]);
      assert.equal(h.count, 9);
      assert.equal(h.sum, 803);
      assert.equal(h.min, 3);
      assert.equal(h.max, 600);
      assert.deepEqual(mergeSparse([40, 2, 100, 1], [3, 1, 40, 5]), [3, 1, 40, 7, 100, 1]);
    });

    it('without exact bounds, min/max come from the bucket bounds and the sum from the bucket values', () => {
      const h = new Histogram();
      h.addSparse([100, 2, 120, 0]);
      assert.equal(h.min, bucketLowerBound(100));
      assert.equal(h.max, bucketUpperBound(100));
      assert.equal(h.sum, 2 * bucketValue(100));
      h.addSparse([40, 1], { min: 50 });
      assert.equal(h.sum, 2 * bucketValue(100) + bucketValue(40), 'a missing sum is estimated even when min is given');
      assert.equal(h.min, 50);
    });

    it('addSparseExact (the server\'s per-delta path) merges deltas into exactly what recording every value gives', () => {
      const r = rng(7);
      const whole = new Histogram();
      const merged = new Histogram();
      for (let d = 0; d < 200; d++) {
        const delta = new Histogram();
        const n = 1 + Math.floor(r() * 20);
        for (let k = 0; k < n; k++) {
          const v = Math.floor(r() * 1e7);
          delta.record(v);
          whole.record(v);
        }
        merged.addSparseExact(delta.toSparse(), delta.sum, delta.min, delta.max);
      }
      assert.deepEqual(merged.toSparse(), whole.toSparse());
      assert.deepEqual([merged.count, merged.sum, merged.min, merged.max], [whole.count, whole.sum, whole.min, whole.max]);
      assert.throws(() => merged.addSparseExact([5, 1, BUCKET_COUNT, 1], 1, 1, 1), /out of range/);
      assert.throws(() => merged.addSparseExact([5, 1, 6, Number.NaN], 1, 1, 1), /bad histogram count/);
      assert.deepEqual(merged.toSparse(), whole.toSparse(), 'a rejected input changes nothing');
      assert.equal(merged.count, whole.count);
    });

    it('isEven says what `n % 2 === 0` says, without the modulo', () => {
      for (const n of [0, -0, 1, 2, 3, -2, -3, 0.5, 2.5, 1e15, 1e15 + 1, 2 ** 53, 2 ** 60, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN]) {
        assert.equal(isEven(n), n % 2 === 0, String(n));
      }
    });

    it('rejects malformed sparse input with a clear error', () => {
      const h = new Histogram();
      assert.throws(() => h.addSparse([1]), /even length/);
      assert.throws(() => h.addSparse([BUCKET_COUNT, 1]), /out of range/);
      assert.throws(() => h.addSparse([5, -1]), /bad histogram count/);
      assert.throws(() => h.addSparse([5, 1.5]), /bad histogram count/);
      assert.throws(() => h.addSparse([5, 1, 6, -2]), /bad histogram count/);
      assert.equal(h.count, 0, 'a rejected input changes nothing');
      assert.deepEqual(h.toSparse(), []);
    });

    it('round-trips through its JSON form and rejects a foreign scheme', () => {
      const h = new Histogram();
      for (const v of [1, 50, 50, 9999, 123456789]) h.record(v);
      const json = JSON.parse(JSON.stringify(h)) as ReturnType<Histogram['toJSON']>;
      assert.equal(json.subBuckets, 32);
      const back = Histogram.fromJSON(json, { min: h.min, max: h.max, sum: h.sum });
      assert.deepEqual(back.toSparse(), h.toSparse());
      assert.equal(back.quantile(0.5), h.quantile(0.5));
      assert.throws(() => Histogram.fromJSON({ subBuckets: 16, buckets: [] }), /unsupported histogram scheme/);
    });

    it('denseToSparse works on typed arrays (the runtime keeps Float64Array counts)', () => {
      const dense = new Float64Array(64);
      dense[bucketIndex(5)] += 2;
      dense[bucketIndex(40)] += 1;
      assert.deepEqual(denseToSparse(dense), [5, 2, 40, 1]);
    });
  });
});
