import { strict as assert } from 'assert';
import {
  GaugeHistory,
  gaugeAccessibilityLabel,
  gaugeCsv,
  gaugeText,
  gaugeTooltipMarkdown,
  historyFromRuntimeSamples,
  sparkline,
  treeSample,
  type ProcessGaugeSample,
} from '../../src/model/gauge';
import { parseSettings } from '../../src/server/config';

const MiB = 2 ** 20;

function proc(pid: number, cpuPercent: number, rssMiB: number, extra: Partial<ProcessGaugeSample> = {}): ProcessGaugeSample {
  return { pid, cpuPercent, rss: rssMiB * MiB, heapUsed: rssMiB * MiB * 0.5, eventLoopDelayP99Ms: 2, eventLoopUtilization: 0.3, activeHandles: 3, source: 'pidusage', ...extra };
}

describe('gauge model', () => {
  it('sums the tree (worst process for delay and utilisation)', () => {
    const s = treeSample(1000, [proc(1, 30, 100), proc(2, 7.5, 50, { eventLoopDelayP99Ms: 40, eventLoopUtilization: 0.9 })]);
    assert.equal(s.cpuPercent, 37.5);
    assert.equal(s.rss, 150 * MiB);
    assert.equal(s.heapUsed, 75 * MiB);
    assert.equal(s.activeHandles, 6);
    assert.equal(s.eventLoopDelayP99Ms, 40);
    assert.equal(s.eventLoopUtilization, 0.9);
    assert.equal(s.processCount, 2);
  });

  it('status text and screen-reader label: CPU% and memory, idle without a sample', () => {
    const h = new GaugeHistory(1000);
    assert.equal(gaugeText(null), '$(pulse) idle');
    assert.equal(gaugeText(h.state('s', 'main.js', 'live')), '$(pulse) idle');
    h.push(treeSample(1000, [proc(1, 37.4, 212)]));
    const state = h.state('s', 'main.js', 'live');
    assert.equal(gaugeText(state), '$(pulse) 37% CPU · 212 MiB');
    assert.equal(gaugeAccessibilityLabel(state), 'Perf Lens resources of main.js: 37 percent CPU, 212 MiB memory, 1 process');
  });

  it('levels: over a threshold is a warning, over twice the threshold an error; 0 turns a check off', () => {
    const h = new GaugeHistory(1000, { cpuPercent: 80, eventLoopDelayMs: 100, memoryGrowthPercent: 50 });
    assert.deepEqual(h.push(treeSample(1, [proc(1, 80, 100)])), [], 'equal to the threshold is not over it');
    assert.equal(h.state('s', 'x', 'live').level, 'ok');
    const fresh = h.push(treeSample(2, [proc(1, 95, 100)]));
    assert.deepEqual(fresh.map((a) => [a.metric, a.level, a.message]), [['cpu', 'warning', 'CPU 95% is over the 80% threshold']]);
    assert.deepEqual(h.push(treeSample(3, [proc(1, 99, 100)])), [], 'a crossing is new only once');
    h.push(treeSample(4, [proc(1, 170, 100, { eventLoopDelayP99Ms: 120 })]));
    const s = h.state('s', 'x', 'live');
    assert.equal(s.level, 'error');
    assert.deepEqual(s.alerts.map((a) => `${a.metric}:${a.level}`), ['cpu:error', 'eventLoopDelay:warning']);
    assert.deepEqual(h.data().crossed.map((a) => `${a.metric}:${a.level}`), ['cpu:error', 'eventLoopDelay:warning'], 'worst level kept');
    h.thresholds = { cpuPercent: 0, eventLoopDelayMs: 0, memoryGrowthPercent: 0 };
    assert.equal(h.state('s', 'x', 'live').level, 'ok');
  });

  it('memory growth compares each process with its own first sample (a late child is not growth)', () => {
    const h = new GaugeHistory(1000);
    h.push(treeSample(1, [proc(1, 1, 100)]));
    h.push(treeSample(2, [proc(1, 1, 120), proc(2, 1, 400)]));
    assert.equal(h.memoryGrowthPercent(h.last()!), 20);
    assert.equal(h.state('s', 'x', 'live').level, 'ok', 'tree RSS quintupled, no process grew 50%');
    h.push(treeSample(3, [proc(1, 1, 160), proc(2, 1, 400)]));
    assert.deepEqual(h.state('s', 'x', 'live').alerts.map((a) => a.message), ['memory growth 60% is over the 50% threshold']);
  });

  it('keeps a bounded history; average and peak cover every sample ever pushed', () => {
    const h = new GaugeHistory(1000, undefined, 3);
    for (let i = 1; i <= 5; i++) h.push(treeSample(i * 1000, [proc(1, i * 10, i)]));
    assert.deepEqual(h.samples().map((s) => s.at), [3000, 4000, 5000]);
    assert.equal(h.count, 5);
    assert.equal(h.avg()!.cpuPercent, 30);
    assert.equal(h.peak()!.rss, 5 * MiB);
    assert.equal(h.data().samples.length, 3);
  });

  it('sparklines scale bars to the highest value and keep spikes when shrinking', () => {
    assert.equal(sparkline([]), '');
    assert.equal(sparkline([0, 50, 100]), '▁▅█');
    assert.equal(sparkline([0, 0]), '▁▁');
    assert.equal(sparkline([5, 5]), '██', 'scaled from zero: a steady load is a full bar');
    assert.equal(sparkline([100, 101, 102], 30, true), '▁▅█', 'from the lowest value (memory)');
    const spiky = Array.from({ length: 60 }, (_, i) => (i === 31 ? 100 : 1));
    const shrunk = sparkline(spiky, 30);
    assert.equal(shrunk.length, 30);
    assert.equal([...shrunk].filter((c) => c === '█').length, 1);
  });

  it('tooltip: current / avg / peak table, last-minute sparklines, alerts and the note', () => {
    const h = new GaugeHistory(1000, { cpuPercent: 80, eventLoopDelayMs: 100, memoryGrowthPercent: 50 });
    for (let i = 0; i < 70; i++) h.push(treeSample(i * 1000, [proc(1, i < 69 ? 10 : 90, 100)]));
    h.note = 'CPU and memory of one process come from the runtime.';
    const state = h.state('s', 'main.js', 'live');
    assert.equal(state.recentCpu.length, 60, 'the last minute only');
    const md = gaugeTooltipMarkdown(state);
    assert.match(md, /\| CPU \| 90% \| 11% \| 90% \|/);
    assert.match(md, /\| RSS \| 100 MiB \| 100 MiB \| 100 MiB \|/);
    assert.match(md, /\| Event-loop utilisation \| 30% \| 30% \| 30% \|/);
    assert.match(md, /\| Processes \| 1 \| 1 \| 1 \|/);
    assert.match(md, /CPU, last minute: `▂{29}█`/);
    assert.match(md, /\$\(warning\) CPU 90% is over the 80% threshold/);
    assert.match(md, /_CPU and memory of one process come from the runtime\._/);
  });

  it('CSV: a tree row and one row per process per tick', () => {
    const csv = gaugeCsv([treeSample(Date.UTC(2026, 0, 1), [proc(7, 12.345, 1), proc(8, 1, 2, { source: 'runtime' })])]).trim().split('\n');
    assert.equal(csv[0], 'time,pid,cpuPercent,rss,heapUsed,eventLoopDelayP99Ms,eventLoopUtilization,activeHandles,source');
    assert.equal(csv[1], `2026-01-01T00:00:00.000Z,all,13.35,${3 * MiB},${1.5 * MiB},2,0.3,6,`);
    assert.equal(csv[2], `2026-01-01T00:00:00.000Z,7,12.35,${MiB},${0.5 * MiB},2,0.3,3,pidusage`);
    assert.equal(csv[3], `2026-01-01T00:00:00.000Z,8,1,${2 * MiB},${MiB},2,0.3,3,runtime`);
  });

  it('rebuilds a per-second history from runtime samples (runs without a gauge, e.g. from the CLI)', () => {
    const rt = (at: number, pid: number, threadId: number, rssMiB: number, cpuPercent: number) => ({
      at, pid, threadId, rss: rssMiB * MiB, heapUsed: MiB, cpuPercent, eventLoopDelayP99Ms: threadId + 1, eventLoopUtilization: 0.5, activeHandles: 1,
    });
    const d = historyFromRuntimeSamples([rt(1000, 1, 0, 10, 50), rt(1500, 1, 0, 11, 70), rt(1600, 1, 1, 11, 70), rt(1700, 2, 0, 5, 10), rt(2100, 1, 0, 12, 90)]);
    assert.deepEqual(d.samples.map((s) => [s.at, s.processCount, s.cpuPercent, s.rss / MiB, s.heapUsed / MiB, s.eventLoopDelayP99Ms]), [
      [2000, 2, 80, 16, 3, 2],
      [3000, 1, 90, 12, 1, 1],
    ]);
    assert.ok(d.samples.every((s) => s.processes.every((p) => p.source === 'runtime')));
    assert.match(d.note!, /no gauge samples/);
  });

  it('settings: perfLens.gauge.* validated, bad values fall back with one sentence each', () => {
    const ok = parseSettings({ perfLens: { gauge: { enable: false, intervalMs: 500, history: 50, thresholds: { cpuPercent: 0, eventLoopDelayMs: 20 } } } });
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.settings.gauge, { enable: false, intervalMs: 500, history: 50, thresholds: { cpuPercent: 0, eventLoopDelayMs: 20, memoryGrowthPercent: 50 } });
    const bad = parseSettings({ 'perfLens.gauge.intervalMs': 5, 'perfLens.gauge.thresholds.cpuPercent': -1, 'perfLens.gauge.enable': 'yes' });
    assert.equal(bad.settings.gauge.intervalMs, 1000);
    assert.equal(bad.settings.gauge.thresholds.cpuPercent, 80);
    assert.equal(bad.settings.gauge.enable, true);
    assert.deepEqual(bad.problems, [
      'perfLens.gauge.enable must be true or false; using true',
      'perfLens.gauge.intervalMs must be an integer from 200 to 60000; using 1000',
      'perfLens.gauge.thresholds.cpuPercent must be a number >= 0 (0 turns the check off); using 80',
    ]);
  });
});
