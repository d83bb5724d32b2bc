import { strict as assert } from 'assert';
import { GaugeHistory, treeSample, type ProcessGaugeSample } from '../../src/model/gauge';
import { avgLabelBelow, buildCharts, processesOf } from '../../src/webview/resource-view/charts';

const MiB = 2 ** 20;
const proc = (pid: number, cpuPercent: number, rssMiB: number, heapMiB: number, delay = 1, elu = 0.5): ProcessGaugeSample =>
  ({ pid, cpuPercent, rss: rssMiB * MiB, heapUsed: heapMiB * MiB, eventLoopDelayP99Ms: delay, eventLoopUtilization: elu, activeHandles: 1, source: 'pidusage' });

describe('resource view charts', () => {
  // A parent alone, then a child joins; the parent leaves before the child.
  const h = new GaugeHistory(1000);
  h.push(treeSample(1_000, [proc(10, 50, 100, 40)]));
  h.push(treeSample(2_000, [proc(10, 90, 120, 60, 30), proc(11, 10, 50, 20, 2, 0.1)]));
  h.push(treeSample(3_000, [proc(11, 20, 60, 25)]));
  const charts = buildCharts(h.samples(), h.avg(), h.peak());
  const byId = new Map(charts.map((c) => [c.id, c]));

  it('lists processes in the order they appeared', () => {
    assert.deepEqual(processesOf(h.samples()), [10, 11]);
  });

  it('CPU: the tree total and one line per process, null where a process was absent', () => {
    const cpu = byId.get('cpu')!;
    assert.deepEqual(cpu.series.map((s) => [s.label, s.slot]), [['all processes', 0], ['pid 10', 1], ['pid 11', 2]]);
    assert.deepEqual(cpu.columns, [[1, 2, 3], [50, 100, 20], [50, 90, null], [null, 10, 20]]);
    assert.equal(cpu.points, 3);
    assert.equal(cpu.avg, Math.round((170 / 3) * 100) / 100);
    assert.equal(cpu.peak, 100);
  });

  it('memory in MiB: RSS solid and heap dashed per process, total RSS for the markers', () => {
    const mem = byId.get('memory')!;
    assert.deepEqual(mem.series.map((s) => `${s.label}${s.dashed ? ' (dashed)' : ''}`),
      ['RSS, all processes', 'pid 10 RSS', 'pid 10 heap (dashed)', 'pid 11 RSS', 'pid 11 heap (dashed)']);
    assert.deepEqual(mem.columns.slice(1), [[100, 170, 60], [100, 120, null], [40, 60, null], [null, 50, 60], [null, 20, 25]]);
    assert.equal(mem.peak, 170);
  });

  it('event-loop delay (ms) and utilisation (%) per process, worst-process markers', () => {
    const delay = byId.get('delay')!;
    assert.deepEqual(delay.columns.slice(1), [[1, 30, null], [null, 2, 1]]);
    assert.equal(delay.peak, 30);
    const elu = byId.get('utilisation')!;
    assert.deepEqual(elu.columns.slice(1), [[50, 50, null], [null, 10, 50]]);
    assert.equal(elu.peak, 50);
    assert.equal(elu.markerUnit, '%');
  });

  it('the avg label goes under its line only when it would overlap the peak label', () => {
    assert.equal(avgLabelBelow(20, 60, 15), false);
    assert.equal(avgLabelBelow(20, 30, 15), true);
    assert.equal(avgLabelBelow(20, 20, 15), true); // avg = peak (a flat line)
  });

  it('an empty history gives empty charts without markers', () => {
    const empty = buildCharts([], null, null);
    assert.deepEqual(empty.map((c) => [c.id, c.points, c.avg, c.columns.length]), [['cpu', 0, null, 2], ['memory', 0, null, 2], ['delay', 0, null, 1], ['utilisation', 0, null, 1]]);
  });
});
