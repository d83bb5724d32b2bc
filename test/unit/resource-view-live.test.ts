import { strict as assert } from 'assert';
import { GaugeHistory, mergeCrossed, treeSample, type GaugeAlert, type ProcessGaugeSample } from '../../src/model/gauge';
import { appendSample } from '../../src/webview/resource-view/live';

const MiB = 2 ** 20;
const proc = (pid: number, cpuPercent: number, rssMiB: number, delay = 1): ProcessGaugeSample =>
  ({ pid, cpuPercent, rss: rssMiB * MiB, heapUsed: MiB, eventLoopDelayP99Ms: delay, eventLoopUtilization: 0.5, activeHandles: 1, source: 'pidusage' });

describe('resource view: live ticks', () => {
  it('crossed thresholds merged tick by tick equal the server history\'s own list', () => {
    // CPU: warning, then error, then warning again; delay: one warning; memory grows 100 -> 160 MiB.
    const ticks = [
      [proc(1, 90, 100)],
      [proc(1, 50, 110, 150)],
      [proc(1, 170, 120)],
      [proc(1, 90, 160)],
    ].map((p, i) => treeSample((i + 1) * 1000, p));
    const server = new GaugeHistory(1000);
    const live = new GaugeHistory(1000);
    let crossed: GaugeAlert[] = [];
    for (const t of ticks) {
      server.push(t);
      live.push(t);
      crossed = mergeCrossed(crossed, live.state('s', 's', 'live').alerts);
    }
    assert.deepEqual(crossed.map((a) => [a.metric, a.level]), [['cpu', 'error'], ['eventLoopDelay', 'warning'], ['memoryGrowth', 'warning']]);
    assert.deepEqual(crossed, server.data().crossed);
  });

  it('a tick already in the history is not added twice; the history stays bounded', () => {
    const samples = [1000, 2000, 3000].map((at) => treeSample(at, [proc(1, 10, 10)]));
    assert.equal(appendSample(samples, treeSample(3000, [proc(1, 10, 10)]), 3), false);
    assert.equal(samples.length, 3);
    assert.equal(appendSample(samples, treeSample(4000, [proc(1, 10, 10)]), 3), true);
    assert.deepEqual(samples.map((s) => s.at), [2000, 3000, 4000]);
  });
});
