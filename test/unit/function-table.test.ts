import { strict as assert } from 'assert';
import { BUCKET_COUNT } from '../../src/model/histogram';
import { ReportBuilder, type RunInput, type TimingStats } from '../../src/model/report';
import type { FunctionDelta, HelloMessage, SpanDelta } from '../../src/protocol/runtime';
import { wireDelta } from './wire-delta';

const RUN: RunInput = { command: ['node', 'x.js'], cwd: '/', startedAt: 0, wallMs: 1, exitCode: 0, node: 'v20.0.0', pid: 100, mode: 'adaptive' };

function hello(pid: number, threadId = 0): HelloMessage {
  return { type: 'hello', protocol: 2, token: 't', pid, ppid: 1, threadId, argv: [], execArgv: [], cwd: '/', node: 'v20.0.0', mode: 'adaptive', startedAt: pid };
}

/** Deterministic pseudo-random deltas of every shape the builder distinguishes. */
function makeRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
}

function randomDelta(rand: (n: number) => number, id: number, round: number): FunctionDelta {
  const calls = rand(4) === 0 ? 0 : 1 + rand(50);
  const shape = rand(5);
  // 0: fully timed, 1: sampled with the runtime's estimates, 2: sampled without (extrapolated), 3: count only, 4: async timed later
  const timed = shape === 0 ? calls : shape === 1 || shape === 2 ? Math.min(calls, rand(5)) : shape === 3 ? 0 : 1 + rand(3);
  const hist: number[] = [];
  let totalNs = 0;
  let minNs = 0;
  let maxNs = 0;
  if (timed > 0) {
    // Durations drift over the rounds: histograms spread over many pages, and the caches overflow.
    const centre = Math.min(BUCKET_COUNT - 40, 200 + ((id * 7 + round * (1 + (id % 5))) % 900));
    let bucket = centre - rand(30);
    let left = timed;
    while (left > 0) {
      const c = 1 + rand(left);
      hist.push(bucket, c);
      left -= c;
      bucket += 1 + rand(20);
    }
    totalNs = 1000 * timed + rand(1_000_000);
    maxNs = Math.floor(totalNs / 2);
    minNs = Math.floor(maxNs / (1 + rand(4)));
  }
  const d: FunctionDelta = { id, calls, errors: rand(3) === 0 ? rand(calls + 1) : 0, timed, totalNs, minNs, maxNs, hist };
  if (rand(2) === 0) d.selfNs = Math.floor(totalNs * rand(100) / 100);
  if (rand(3) === 0) d.inclusiveNs = Math.floor(totalNs * (50 + rand(51)) / 100);
  if (shape === 1 || (shape === 4 && rand(2) === 0)) {
    d.estTotalNs = totalNs * (1 + rand(8));
    if (d.selfNs !== undefined && rand(2) === 0) d.estSelfNs = d.selfNs * 2;
    if (d.inclusiveNs !== undefined && rand(2) === 0) d.estInclusiveNs = d.inclusiveNs * 3;
  }
  return d;
}

const asSpan = ({ id: _id, selfNs: _s, ...rest }: FunctionDelta, name: string): SpanDelta => ({ ...rest, name });

function timing(s: TimingStats): TimingStats {
  return {
    calls: s.calls, errors: s.errors, timedCalls: s.timedCalls, sampled: s.sampled, totalMs: s.totalMs, meanMs: s.meanMs,
    p50Ms: s.p50Ms, p95Ms: s.p95Ms, p99Ms: s.p99Ms, minMs: s.minMs, maxMs: s.maxMs, histogram: s.histogram,
  };
}

/**
 * Functions are summed per connection in typed arrays (src/model/function-table.ts); spans still go
 * through the per-delta aggregate (TimingAgg) the functions used before. Fed the same deltas, the
 * two must report the same numbers.
 */
describe('model/function-table: per-connection sums of functions', () => {
  it('one process: every figure equals what the per-delta aggregate gives, exactly (400 functions, 60 deltas, spreading histograms)', () => {
    const rand = makeRandom(7);
    const b = new ReportBuilder();
    b.accept(1, hello(100));
    const N = 400;
    b.accept(1, { type: 'functions', defs: Array.from({ length: N }, (_, id) => ({ id, name: `f${id}`, file: `/app/m${id % 9}.js`, line: id + 1, column: 1, kind: 'sync' as const })) });
    for (let round = 0; round < 60; round++) {
      const fns: FunctionDelta[] = [];
      for (let id = 0; id < N; id++) if (rand(3) !== 0) fns.push(randomDelta(rand, id, round));
      b.accept(1, { ...wireDelta({ type: 'delta', at: round, fns }), spans: fns.map((f) => asSpan(f, `f${f.id}`)) });
    }
    const r = b.build(RUN);
    const spans = new Map(r.spans.map((s) => [s.name, s]));
    assert.ok(r.functions.length > N * 0.9, `${r.functions.length} functions`);
    for (const f of r.functions) {
      const s = spans.get(f.name)!;
      assert.deepEqual(timing(f), timing(s), f.name);
      assert.deepEqual(f.processes, s.processes, f.name);
    }
    assert.deepEqual(r.warnings, []);
  });

  it('several processes and threads: integer sums exact, per-process shares exact, extrapolated totals within 1e-12 (addition order)', () => {
    // The per-delta aggregate adds every delta into one sum as they arrive; the table sums each
    // connection first and adds those sums when the report is read. Counts and ns are integers
    // (exact in a double below 2^53, whatever the order); only a sampled delta without the
    // runtime's own estimate is extrapolated to a fraction (totalNs * calls / timed), and then the
    // other addition order can change the last bits: at most ~k * 2^-53 relative for k deltas,
    // so 1e-12 relative (k <= 1,000 here) is far above that and far below what anyone reads.
    const rand = makeRandom(11);
    const b = new ReportBuilder();
    const conns: [number, HelloMessage][] = [[1, hello(100)], [2, hello(200)], [3, hello(100, 1)]];
    const N = 50;
    const idOf = (c: number, i: number): number => ((i * [1, 3, 7][c - 1]) % N) + N * (c - 1);
    for (const [c, h] of conns) {
      b.accept(c, h);
      // Each connection numbers the same functions differently.
      b.accept(c, { type: 'functions', defs: Array.from({ length: N }, (_, i) => ({ id: idOf(c, i), name: `f${i}`, file: '/app/x.js', line: i + 1, column: 1, kind: 'sync' as const })) });
    }
    for (let round = 0; round < 200; round++) {
      const [c] = conns[rand(3)];
      const fns: FunctionDelta[] = [];
      const spans: SpanDelta[] = [];
      for (let i = 0; i < N; i++) {
        if (rand(2) !== 0) continue;
        const d = randomDelta(rand, idOf(c, i), round);
        fns.push(d);
        spans.push(asSpan(d, `f${i}`));
      }
      fns.sort((x, y) => x.id - y.id);
      b.accept(c, { ...wireDelta({ type: 'delta', at: round, fns }), spans });
    }
    const r = b.build(RUN);
    const spans = new Map(r.spans.map((s) => [s.name, s]));
    assert.equal(r.functions.length, N);
    for (const f of r.functions) {
      const s = spans.get(f.name)!;
      const close = (x: number | null, y: number | null, what: string): void => {
        if (x === y) return;
        assert.ok(x !== null && y !== null && Math.abs(x - y) <= 1e-12 * Math.abs(y), `${f.name} ${what}: ${x} vs ${y}`);
      };
      const { totalMs, ...exact } = timing(f);
      const { totalMs: spanTotal, ...spanExact } = timing(s);
      assert.deepEqual(exact, spanExact, f.name);
      close(totalMs, spanTotal, 'totalMs');
      assert.equal(f.processes.length, s.processes.length);
      for (let k = 0; k < f.processes.length; k++) {
        const { totalMs: pt, ...p } = f.processes[k];
        const { totalMs: st, ...q } = s.processes[k];
        assert.deepEqual(p, q, `${f.name} process ${p.pid}`);
        close(pt, st, `process ${p.pid} totalMs`);
      }
    }
  });
});
