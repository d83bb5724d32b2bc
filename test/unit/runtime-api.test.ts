import { strict as assert } from 'assert';
import * as path from 'path';
import { Collector, ROOT, node, sameOutput } from './runtime-harness';
import type { MemoDelta, SpanDelta } from '../../src/protocol/runtime';

const API = path.join(ROOT, 'dist/api.js');

// perf-lens/api: span, measure and memoize, with and without the runtime (same behaviour).
describe('runtime: perf-lens/api', function () {
  this.timeout(60000);

  it('without the runtime: same results, memoize still memoizes', async () => {
    const res = await node(['api-use.js'], { env: { API_PATH: API } });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, [
      'fib 102334155 41',
      'A B A C B 2',
      'sync 499500',
      'async 42',
      'caught inner',
      'rejected later',
      'ttl same true',
      'ttl expired true',
      '',
    ].join('\n'));
  });

  it('with the runtime: spans, measures and memo counters are reported', async () => {
    const collector = await new Collector().listen();
    try {
      const bare = await node(['api-use.js'], { env: { API_PATH: API } });
      const inst = await node(['api-use.js'], { env: { API_PATH: API }, runtime: { socket: collector.socketPath, mode: 'full' } });
      sameOutput(bare, inst);
      await collector.settle(1);
      const conn = collector.connections[0];
      const spans = new Map<string, SpanDelta>();
      const memos = new Map<string, MemoDelta>();
      for (const d of conn.deltas()) {
        for (const s of d.spans ?? []) {
          const prev = spans.get(s.name);
          spans.set(s.name, prev ? { ...s, calls: prev.calls + s.calls, errors: prev.errors + s.errors } : s);
        }
        for (const m of d.memos ?? []) {
          const prev = memos.get(m.name);
          memos.set(m.name, prev ? { ...m, hits: prev.hits + m.hits, misses: prev.misses + m.misses, evictions: prev.evictions + m.evictions } : m);
        }
      }
      assert.equal(spans.get('setup')?.calls, 1, 'span ended once (second end ignored)');
      assert.equal(spans.get('sync-block')?.calls, 1);
      assert.equal(spans.get('async-block')?.calls, 1);
      assert.deepEqual([spans.get('throws')?.calls, spans.get('throws')?.errors], [1, 1]);
      assert.deepEqual([spans.get('rejects')?.calls, spans.get('rejects')?.errors], [1, 1]);
      assert.equal(spans.get('disposed')?.calls, 1, 'Symbol.dispose ends a span');
      const setup = spans.get('setup')!;
      assert.ok(setup.totalNs > 0 && setup.hist.length === 2);

      const fib = memos.get('fib')!;
      // fib(0..40) each miss once; fib(n-2) hits for n = 3..40 (for n = 2, fib(0) is not computed yet).
      assert.deepEqual([fib.misses, fib.hits, fib.size], [41, 38, 41]);
      assert.match(fib.file ?? '', /api-use\.js$/);
      assert.equal(fib.line, 8, 'memoize() call site');
      const upper = memos.get('upper')!;
      // a, b (miss miss), a (hit), c (miss, evicts b), b (miss, evicts a)
      assert.deepEqual([upper.misses, upper.hits, upper.evictions, upper.size], [4, 1, 2, 2]);
      const ttl = memos.get('ttl')!;
      assert.deepEqual([ttl.misses, ttl.hits, ttl.evictions], [2, 1, 1], 'an expired entry counts as an eviction and a miss');
    } finally {
      await collector.close();
    }
  });
});
