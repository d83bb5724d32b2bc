import { strict as assert } from 'assert';
import type { ResourceSample } from '../../src/protocol/runtime';
import { Collector, node, sameOutput } from './runtime-harness';

// Resource samples (memory, CPU, event loop, handles) are taken on an unref'd timer and shipped
// with the deltas; they never keep the program alive.
describe('runtime: resource samples', function () {
  this.timeout(60000);

  it('samples memory, CPU, event-loop delay/utilisation and handles at the set interval', async () => {
    const collector = await new Collector().listen();
    try {
      const started = Date.now();
      const bare = await node(['busy.js']);
      const inst = await node(['busy.js'], { runtime: { socket: collector.socketPath, resourceIntervalMs: 50 } });
      sameOutput(bare, inst);
      await collector.settle(1);
      const samples: ResourceSample[] = collector.connections[0].messages.flatMap((m) => (m.type === 'resources' ? m.samples : []));
      assert.ok(samples.length >= 4, `several samples over ~400 ms (${samples.length})`);
      for (const s of samples) {
        assert.ok(s.at >= started && s.at <= Date.now());
        assert.ok(s.rss > 0 && s.heapUsed > 0 && s.heapTotal >= s.heapUsed && s.external >= 0);
        assert.ok(s.cpuUserUs >= 0 && s.cpuSystemUs >= 0);
        assert.ok(s.eventLoopUtilization >= 0 && s.eventLoopUtilization <= 1);
        assert.ok(s.eventLoopDelayP99Ms >= s.eventLoopDelayP50Ms && s.eventLoopDelayP50Ms >= 0);
        assert.ok(s.activeHandles >= 0);
      }
      const periodic = samples.slice(0, -1); // the last one is taken at exit
      assert.ok(periodic.every((s) => s.intervalMs > 20 && s.intervalMs < 1000), `intervals ${periodic.map((s) => s.intervalMs).join(',')}`);
      const cpuMs = samples.reduce((a, s) => a + s.cpuUserUs + s.cpuSystemUs, 0) / 1000;
      assert.ok(cpuMs > 150, `the busy program used CPU (${cpuMs} ms)`);
      assert.ok(samples.some((s) => s.eventLoopUtilization > 0.5), 'a busy loop is utilised');
      assert.ok(samples.some((s) => s.eventLoopDelayP99Ms >= 10), 'the 20 ms slices delay the loop');
      assert.ok(samples.some((s) => s.activeHandles >= 1), 'the program\'s own timer is an active handle');
    } finally {
      await collector.close();
    }
  });

  it('PERF_LENS_RESOURCE_INTERVAL_MS=0 turns sampling off', async () => {
    const collector = await new Collector().listen();
    try {
      await node(['exits.js', 'normal'], { runtime: { socket: collector.socketPath, resourceIntervalMs: 0 } });
      await collector.settle(1);
      assert.equal(collector.connections[0].messages.filter((m) => m.type === 'resources').length, 0);
    } finally {
      await collector.close();
    }
  });
});
