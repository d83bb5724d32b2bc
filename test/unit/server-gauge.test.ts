/**
 * The resource gauge of the insight server end to end: the built server over stdio with a plain
 * LSP client, examples/primes/resources.js (a parent that burns ~90% of a core and grows its
 * memory, plus a forked child) measured for real (the OS figures read from /proc by src/server/process-usage.ts).
 */
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { GaugeState } from '../../src/model/gauge';
import { parseReportText } from '../../src/model/report-schema';
import type * as P from '../../src/protocol/lsp';
import { ROOT, TestClient } from './server-client';

const RESOURCES = path.join(ROOT, 'examples/primes/resources.js');

function runNode(file: string, env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

function gaugeStates(client: TestClient, sessionId: string): GaugeState[] {
  return client.notifications
    .filter((n) => n.method === 'perfLens/resources')
    .map((n) => n.params as GaugeState)
    .filter((s) => s.sessionId === sessionId);
}

const timeouts = (stats: P.DebugStatsResult): number => stats.activeResources.filter((r) => r === 'Timeout').length;

describe('insight server: resource gauge (real server, real processes, OS figures)', function () {
  this.timeout(120_000);
  let workspace: string;
  let client: TestClient | undefined;

  beforeEach(() => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-gauge-'));
  });

  afterEach(async () => {
    await client?.stop();
    client = undefined;
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('samples the whole process tree, crosses the CPU and memory thresholds, ends cleanly and saves avg/peak in the run', async () => {
    client = TestClient.start();
    // Event-loop delay check off: on a loaded machine the example's p99 can cross it too, and the
    // crossed thresholds are compared exactly below.
    await client.initialize(workspace, { settings: { perfLens: { gauge: { intervalMs: 250, thresholds: { cpuPercent: 20, memoryGrowthPercent: 30, eventLoopDelayMs: 0 } } } } });
    const before = await client.request<P.DebugStatsResult>('perfLens/debugStats');
    assert.equal(before.gaugeTimers, 0, 'no gauge before a session');
    const session = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'resources' });
    const code = await runNode(RESOURCES, { ...session.env, PERF_LENS_EXAMPLE_SECONDS: '3' });
    assert.equal(code, 0);

    const live = gaugeStates(client, session.sessionId).filter((s) => s.state === 'live');
    assert.ok(live.length >= 5, `several ticks at 250 ms in 3 s (got ${live.length})`);
    const both = live.filter((s) => s.current?.processCount === 2);
    assert.ok(both.length >= 3, 'parent and child are both in the tree');
    const tick = both[both.length - 1].current!;
    assert.ok(tick.processes.every((p) => p.source === 'pidusage' && p.rss > 10 * 2 ** 20), JSON.stringify(tick.processes));
    assert.ok(both.some((s) => s.current!.processes.every((p) => p.heapUsed > 0 && p.activeHandles > 0)), 'runtime figures of both processes');
    assert.equal(tick.rss, tick.processes[0].rss + tick.processes[1].rss, 'tree RSS is the sum');
    // The parent burns ~90 ms of every 100 ms: even on a loaded machine the tree is over 20%.
    const cpuPeak = Math.max(...live.map((s) => s.current!.cpuPercent));
    assert.ok(cpuPeak > 25 && cpuPeak < 250, `CPU peak ${cpuPeak}%`);
    const alerted = live.flatMap((s) => s.alerts);
    assert.ok(alerted.some((a) => a.metric === 'cpu' && /^CPU \d+% is over the 20% threshold$/.test(a.message)), JSON.stringify(alerted.slice(0, 3)));
    assert.ok(alerted.some((a) => a.metric === 'memoryGrowth'), 'the parent doubles its memory');
    assert.ok(live.some((s) => s.level !== 'ok'));
    const last = live[live.length - 1];
    assert.ok(last.recentCpu.length >= 5 && last.recentCpu.length === last.recentRss.length);
    assert.ok(last.peak!.cpuPercent >= last.avg!.cpuPercent && last.peak!.rss >= last.avg!.rss);

    const end = await client.request<P.EndSessionResult>('perfLens/endSession', { sessionId: session.sessionId, exitCode: code });
    const ended = await client.waitFor('the final gauge state', () => gaugeStates(client!, session.sessionId).find((s) => s.state === 'ended'));
    assert.equal(ended.sampleCount, gaugeStates(client, session.sessionId).filter((s) => s.state === 'live').length);
    assert.equal(gaugeStates(client, session.sessionId).at(-1), ended, 'nothing after the end');

    // No timer of the gauge outlives the session (pidusage's own cleanup timer is unref'd).
    const after = await client.request<P.DebugStatsResult>('perfLens/debugStats');
    assert.equal(after.gaugeTimers, 0);
    // Every delta received was merged by the end (the benchmark's mergeMsPerDelta reads these).
    const deltas = after.deltasReceived - before.deltasReceived;
    assert.ok(deltas > 0 && after.merge.deltas - before.merge.deltas >= deltas && after.merge.ms > before.merge.ms, JSON.stringify([before.merge, after.merge, deltas]));
    // ... and their rows counted, those of the per-row path among them (every function the first time it is seen).
    const rows = after.merge.rows - before.merge.rows;
    const perRow = after.merge.perRowRows - before.merge.perRowRows;
    assert.ok(rows > 0 && perRow >= 1 && perRow <= rows, JSON.stringify([before.merge, after.merge]));
    await client.waitFor('timers back to the baseline', async () => {
      const s = await client!.request<P.DebugStatsResult>('perfLens/debugStats');
      return timeouts(s) <= timeouts(before) ? true : undefined;
    }, 5000);

    // The run file carries the gauge: samples, avg, peak, crossed thresholds; it reads back as a report.
    assert.ok(end.runFile);
    const report = parseReportText(fs.readFileSync(end.runFile, 'utf8'));
    const gauge = report.resources.gauge!;
    assert.equal(gauge.sampleCount, ended.sampleCount);
    assert.equal(gauge.samples.length, gauge.sampleCount);
    assert.deepEqual(gauge.peak, ended.peak);
    assert.deepEqual(gauge.crossed.map((a) => a.metric).sort(), ['cpu', 'memoryGrowth']);
    assert.equal(gauge.intervalMs, 250);

    // The resource view's request: the ended session, then the saved run by id (loaded on demand).
    const history = await client.request<P.ResourceHistoryResult>('perfLens/resourceHistory', { sessionId: session.sessionId });
    assert.equal(history.origin, 'gauge');
    assert.equal(history.samples.length, gauge.samples.length);
    const runs = await client.request<P.ListRunsResult>('perfLens/listRuns');
    const saved = await client.request<P.ResourceHistoryResult>('perfLens/resourceHistory', { sessionId: runs.runs[0].id });
    assert.equal(saved.sampleCount, gauge.sampleCount);
  });

  it("falls back to the runtime's own figures when the OS figures cannot be read, and says so once", async () => {
    // pidusage told to use `ps`, with no `ps` on PATH: every OS reading fails, as on a platform it cannot read.
    client = TestClient.start({ ...process.env, PIDUSAGE_USE_PS: 'true', PATH: '/nonexistent' });
    await client.initialize(workspace, { settings: { perfLens: { gauge: { intervalMs: 250 } } } });
    const session = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'no ps' });
    assert.equal(await runNode(RESOURCES, { ...session.env, PERF_LENS_EXAMPLE_SECONDS: '2' }), 0);
    const live = gaugeStates(client, session.sessionId).filter((s) => s.current && s.current.processes.length > 0);
    assert.ok(live.length >= 3, `ticks (got ${live.length})`);
    const later = live.filter((s) => s.current!.processes.every((p) => p.rss > 0));
    assert.ok(later.length >= 2, 'runtime samples give RSS once the first ones arrived');
    assert.ok(later.every((s) => s.current!.processes.every((p) => p.source === 'runtime')));
    assert.ok(later.some((s) => s.current!.cpuPercent > 20), 'runtime CPU figures');
    const note = live[live.length - 1].note;
    assert.match(note ?? '', /come from the runtime's own samples \(the OS figures could not be read: pid \d+: .*ENOENT/);
    assert.ok(!client.stderr.join('').includes('Error'), 'no error loop in the server log');
    await client.request('perfLens/endSession', { sessionId: session.sessionId });
    assert.equal((await client.request<P.DebugStatsResult>('perfLens/debugStats')).gaugeTimers, 0);
  });
});
