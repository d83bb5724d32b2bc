import { strict as assert } from 'assert';
import Ajv from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import type { FunctionDef, FunctionDelta, HelloMessage, ResourceSample } from '../../src/protocol/runtime';
import { readDelta, type DeltaView } from '../../src/model/delta-columns';
import { BUCKET_COUNT, Histogram, bucketIndex, mergeSparse } from '../../src/model/histogram';
import { RecordStore } from '../../src/model/record-store';
import { TimingAgg, addRowsToRecords } from '../../src/model/timing-agg';
import { ReportBuilder, type FunctionReport, type Report, type RunInput } from '../../src/model/report';
import { parseReport, parseReportText, reportProblem, ReportFormatError } from '../../src/model/report-schema';
import { RingBuffer, SampleHistory } from '../../src/model/ring-buffer';
import { mean, quantile, stddev, variance, nsToMs } from '../../src/model/stats';
import { rng } from './random';
import { wireDelta } from './wire-delta';

const schemaPath = path.resolve(__dirname, '../../schema/report.schema.json');

function hello(pid: number, threadId = 0, ppid = 1): HelloMessage {
  return {
    type: 'hello', protocol: 1, token: 't', pid, ppid, threadId, argv: ['/usr/bin/node', `/app/p${pid}.js`],
    execArgv: [], cwd: '/app', node: 'v20.20.2', mode: 'full', startedAt: 1_700_000_000_000 + pid,
  };
}

/** A builder with process 100 connected (pid 100 on connection 1) and these functions announced. */
function builderWith(defs: FunctionDef[]): ReportBuilder {
  const b = new ReportBuilder();
  b.accept(1, hello(100));
  b.accept(1, { type: 'functions', defs });
  return b;
}

/** Builds a delta from raw durations, as the runtime would. */
function delta(id: number, durations: number[], extra: Partial<FunctionDelta> = {}): FunctionDelta {
  const h = new Histogram();
  for (const d of durations) h.record(d);
  return {
    id, calls: durations.length, errors: 0, timed: durations.length, totalNs: h.sum,
    minNs: h.min ?? 0, maxNs: h.max ?? 0, hist: h.toSparse(), ...extra,
  };
}

const RUN: RunInput = { command: ['node', 'app.js'], cwd: '/app', startedAt: 1_700_000_000_000, wallMs: 1000, exitCode: 0, node: 'v20.0.0', pid: 100, mode: 'full' };

function sample(at: number, rss: number, cpuUserUs: number): ResourceSample {
  return {
    at, rss, heapUsed: rss / 2, heapTotal: rss, external: 0, cpuUserUs, cpuSystemUs: 0, intervalMs: 100,
    eventLoopDelayP50Ms: 1, eventLoopDelayP99Ms: 2, eventLoopUtilization: 0.5, activeHandles: 3,
  };
}

let ajvValidate: ReturnType<Ajv['compile']>;
function assertValid(report: Report): void {
  const ok = ajvValidate(JSON.parse(JSON.stringify(report)));
  assert.ok(ok, `schema errors: ${JSON.stringify(ajvValidate.errors)}`);
}

describe('model/report', () => {
  before(() => {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    ajvValidate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as object);
  });

  it('a call counted in one delta and timed in a later one (async across a cut) keeps its timing', () => {
    const b = new ReportBuilder();
    b.accept('c1', hello(100));
    b.accept('c1', { type: 'functions', defs: [{ id: 0, name: 'slow', file: '/app/a.js', line: 1, column: 1, kind: 'async' }] });
    b.accept('c1', wireDelta({ type: 'delta', at: 1, fns: [{ id: 0, calls: 1, errors: 0, timed: 0, totalNs: 0, minNs: 0, maxNs: 0, hist: [], estTotalNs: 0 }] }));
    b.accept('c1', wireDelta({ type: 'delta', at: 2, fns: [delta(0, [350e6], { calls: 0, estTotalNs: 350e6 })] }));
    const report = b.build(RUN);
    const f = report.functions[0];
    assert.equal(f.calls, 1);
    assert.equal(f.timedCalls, 1);
    assert.equal(f.sampled, false);
    assert.ok(Math.abs(f.totalMs - 350) < 1e-6, `total ${f.totalMs}`);
    assert.ok(f.p50Ms !== null && Math.abs(f.p50Ms - 350) / 350 < 0.02, `p50 ${f.p50Ms}`);
    assertValid(report);
  });

  it('sums the runtime\'s weighted estimates when sampling changed over time', () => {
    const b = new ReportBuilder();
    b.accept('c1', hello(100));
    b.accept('c1', { type: 'functions', defs: [{ id: 0, name: 'tiny', file: '/app/a.js', line: 1, column: 1, kind: 'sync' }] });
    // 256 cold calls fully timed at 1 µs, then 64,000 calls of which 1,000 timed (1 in 64) at 100 ns.
    b.accept('c1', wireDelta({ type: 'delta', at: 1, fns: [delta(0, new Array<number>(256).fill(1000), { estTotalNs: 256_000 })] }));
    b.accept('c1', wireDelta({ type: 'delta', at: 2, fns: [delta(0, new Array<number>(1000).fill(100), { calls: 64_000, estTotalNs: 64 * 1000 * 100 })] }));
    const f = b.build(RUN).functions[0];
    assert.equal(f.calls, 64_256);
    assert.ok(Math.abs(f.totalMs - (0.256 + 6.4)) < 1e-9, `estimated total ${f.totalMs} ms`);
  });

  it('recursion: inclusiveMs sums the runtime\'s outermost-call totals (also weighted) and ranks by it; absent without them', () => {
    const b = builderWith([
      { id: 0, name: 'fib', file: '/app/a.js', line: 1, column: 1, kind: 'sync' },
      { id: 1, name: 'flat', file: '/app/a.js', line: 5, column: 1, kind: 'sync' },
      { id: 2, name: 'job', file: '/app/a.js', line: 9, column: 1, kind: 'async' },
    ]);
    // fib: 3 nested calls of 40, 20, 10 ms: the per-call sum is 70 ms, the run spent 40 ms in it.
    b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [delta(0, [10e6, 20e6, 40e6], { inclusiveNs: 40e6 }), delta(1, [50e6], { inclusiveNs: 50e6 }), delta(2, [30e6, 30e6])] }));
    // sampled later: 1 timed call weighted by 4 (outermost), from 4 calls.
    b.accept(1, wireDelta({ type: 'delta', at: 2, fns: [delta(0, [5e6], { calls: 4, estTotalNs: 20e6, inclusiveNs: 5e6, estInclusiveNs: 20e6 })] }));
    const r = b.build(RUN);
    assertValid(r);
    const [flat, fib, job] = [r.functions.find((f) => f.name === 'flat')!, r.functions.find((f) => f.name === 'fib')!, r.functions.find((f) => f.name === 'job')!];
    assert.equal(fib.totalMs, 90);
    assert.equal(fib.inclusiveMs, 60);
    assert.equal(flat.inclusiveMs, 50);
    assert.equal(job.inclusiveMs, undefined, 'async: overlapping calls are concurrency, totalMs stays the total');
    assert.equal(job.totalMs, 60);
    assert.deepEqual(r.functions.map((f) => f.name), ['fib', 'job', 'flat'], 'fib 60 (not 90), job 60 (more calls first), flat 50');
  });

  it('merges the same function from two processes exactly and keeps the per-process split', () => {
    const b = new ReportBuilder();
    const def = { id: 0, name: 'isPrime', file: '/app/lib.js', line: 4, column: 1, kind: 'sync' as const };
    const a1 = [1000, 1200, 900, 50_000];
    const a2 = [800, 810];
    const b1 = [2_000_000, 3000];
    b.accept('c1', hello(100));
    b.accept('c1', { type: 'functions', defs: [def] });
    b.accept('c1', wireDelta({ type: 'delta', at: 1, fns: [delta(0, a1)] }));
    b.accept('c2', hello(200, 0, 100));
    // Same function, different local id in the other process.
    b.accept('c2', { type: 'functions', defs: [{ ...def, id: 7 }] });
    b.accept('c2', wireDelta({ type: 'delta', at: 2, fns: [delta(7, b1, { errors: 1 })] }));
    b.accept('c1', wireDelta({ type: 'delta', at: 3, fns: [delta(0, a2)] }));
    b.accept('c1', { type: 'bye', reason: 'exit', exitCode: 0 });
    b.close('c1');
    b.close('c2');
    const r = b.build(RUN);
    assertValid(r);
    assert.equal(r.functions.length, 1);
    const f = r.functions[0];
    const all = [...a1, ...a2, ...b1];
    const whole = new Histogram();
    for (const d of all) whole.record(d);
    assert.equal(f.calls, 8);
    assert.equal(f.errors, 1);
    assert.equal(f.timedCalls, 8);
    assert.equal(f.sampled, false);
    assert.equal(f.totalMs, nsToMs(all.reduce((x, y) => x + y, 0)));
    assert.equal(f.meanMs, nsToMs(all.reduce((x, y) => x + y, 0) / all.length));
    assert.equal(f.minMs, nsToMs(800));
    assert.equal(f.maxMs, nsToMs(2_000_000));
    assert.deepEqual(f.histogram.buckets, whole.toSparse(), 'deltas merge exactly');
    assert.equal(f.p50Ms, nsToMs(whole.quantile(0.5)!));
    assert.deepEqual(f.processes.map((p) => [p.pid, p.calls, p.errors]), [[200, 2, 1], [100, 6, 0]]);
    assert.equal(f.processes[1].totalMs, nsToMs([...a1, ...a2].reduce((x, y) => x + y, 0)));
    assert.deepEqual(r.processes.map((p) => [p.pid, p.ppid, p.exitReason, p.exitCode]), [[100, 1, 'exit', 0], [200, 100, 'disconnected', null]]);
    assert.equal(r.run.node, 'v20.20.2', 'node version comes from the root process');
    assert.equal(r.run.startedAt, '2023-11-14T22:13:20.000Z');
  });

  it('keeps functions apart when file, line, column or name differ, and sorts by total time', () => {
    const b = builderWith([
      { id: 0, name: 'f', file: '/app/a.js', line: 1, column: 1, kind: 'sync' },
      { id: 1, name: 'f', file: '/app/a.js', line: 1, column: 20, kind: 'sync' },
      { id: 2, name: 'g', file: '/app/b.js', line: 1, column: 1, kind: 'async' },
      { id: 3, name: 'never', file: '/app/b.js', line: 9, column: 1, kind: 'sync' },
    ]);
    b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [delta(0, [10]), delta(1, [5000]), delta(2, [300, 300])] }));
    const r = b.build(RUN);
    assertValid(r);
    assert.deepEqual(r.functions.map((f) => `${f.name}@${f.column}`), ['f@20', 'g@1', 'f@1']);
    assert.equal(r.functions[1].kind, 'async');
    // One file's functions (what the lenses read) are the report's functions of that file.
    for (const file of ['/app/a.js', '/app/b.js', '/app/none.js']) {
      assert.deepEqual(b.functionReportsIn(file), r.functions.filter((f) => f.file === file), file);
    }
  });

  it("one file's reports: an untouched function keeps its report object, a touched one gets a new one, both equal the full report's", () => {
    const b = builderWith([
      { id: 0, name: 'a', file: '/app/a.js', line: 1, column: 1, kind: 'sync' },
      { id: 1, name: 'b', file: '/app/a.js', line: 5, column: 1, kind: 'sync' },
    ]);
    b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [delta(0, [10]), delta(1, [5000])] }));
    const before = b.functionReportsIn('/app/a.js');
    b.accept(1, wireDelta({ type: 'delta', at: 2, fns: [delta(0, [20, 30])] }));
    const after = b.functionReportsIn('/app/a.js');
    const byName = (rs: FunctionReport[], name: string) => rs.find((f) => f.name === name)!;
    assert.strictEqual(byName(after, 'b'), byName(before, 'b'), 'b was not touched: same object');
    assert.notStrictEqual(byName(after, 'a'), byName(before, 'a'));
    assert.equal(byName(after, 'a').calls, 3);
    assert.deepEqual(after, b.build(RUN).functions);
  });

  it('sampled and count-only functions: calls exact, totals extrapolated, mean = total / calls', () => {
    const b = builderWith([{ id: 0, name: 's', file: '/a.js', line: 1, column: 1, kind: 'sync' }, { id: 1, name: 'c', file: '/a.js', line: 2, column: 1, kind: 'sync' }]);
    b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [{ ...delta(0, [100, 300]), calls: 128, selfNs: 200 }, { id: 1, calls: 42, errors: 0, timed: 0, totalNs: 0, minNs: 0, maxNs: 0, hist: [] }] }));
    const r = b.build(RUN);
    assertValid(r);
    const s = r.functions.find((f) => f.name === 's')!;
    assert.equal(s.sampled, true);
    assert.equal(s.calls, 128);
    assert.equal(s.timedCalls, 2);
    assert.equal(s.meanMs, nsToMs(200));
    assert.equal(s.totalMs, nsToMs(200 * 128));
    assert.equal(s.selfMs, nsToMs(100 * 128));
    const c = r.functions.find((f) => f.name === 'c')!;
    assert.equal(c.calls, 42);
    assert.equal(c.sampled, true);
    assert.equal(c.meanMs, null);
    assert.equal(c.p95Ms, null);
    assert.equal(c.totalMs, 0);
    assert.equal(c.selfMs, null);
  });

  it('sampling: each delta is extrapolated on its own, and the runtime\'s weighted estimate wins', () => {
    const b = builderWith([{ id: 0, name: 'hot', file: '/a.js', line: 1, column: 1, kind: 'sync' }, { id: 1, name: 'w', file: '/a.js', line: 5, column: 1, kind: 'sync' }]);
    // Delta 1: 10 cold calls of 1000 ns, all timed. Delta 2: 1000 calls, 10 timed at 100 ns.
    b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [{ ...delta(0, Array<number>(10).fill(1000)), selfNs: 5000 }] }));
    b.accept(1, wireDelta({ type: 'delta', at: 2, fns: [{ ...delta(0, Array<number>(10).fill(100)), calls: 1000, selfNs: 500 }] }));
    // Delta 3: 500 calls, none timed: costed at the overall mean (11000 ns / 20).
    b.accept(1, wireDelta({ type: 'delta', at: 3, fns: [{ id: 0, calls: 500, errors: 0, timed: 0, totalNs: 0, minNs: 0, maxNs: 0, hist: [] }] }));
    // A delta that carries the runtime's weighted estimate.
    b.accept(1, wireDelta({ type: 'delta', at: 4, fns: [{ ...delta(1, [100, 100, 5000]), calls: 300, estTotalNs: 40_000, estSelfNs: 30_000, selfNs: 4000 }] }));
    const r = b.build(RUN);
    assertValid(r);
    const hot = r.functions.find((f) => f.name === 'hot')!;
    assert.equal(hot.calls, 1510);
    assert.equal(hot.timedCalls, 20);
    assert.equal(hot.totalMs, nsToMs(10_000 + 100 * 1000 + 500 * (11_000 / 20)));
    // Per call, not over the timed calls (550 ns: the 10 cold ones would count as half of them).
    assert.equal(hot.meanMs, nsToMs((10_000 + 100 * 1000 + 500 * (11_000 / 20)) / 1510));
    assert.equal(hot.selfMs, nsToMs(5000 + 50 * 1000 + 500 * (5500 / 20)));
    const w = r.functions.find((f) => f.name === 'w')!;
    assert.equal(w.totalMs, nsToMs(40_000));
    assert.equal(w.meanMs, nsToMs(40_000 / 300));
    assert.equal(w.selfMs, nsToMs(30_000));
    assert.equal(w.processes[0].totalMs, nsToMs(40_000));
  });

  it('worker threads count under their process; spans, memos and resources aggregate', () => {
    const b = new ReportBuilder({ maxResourceSamples: 3 });
    b.accept('main', hello(100));
    b.accept('worker', hello(100, 1));
    b.accept('main', { type: 'resources', samples: [sample(1, 100, 50_000), sample(2, 300, 100_000)] });
    b.accept('worker', { type: 'resources', samples: [sample(3, 200, 0), sample(4, 250, 0)] });
    const span = { ...delta(0, [1e6, 3e6]), name: 'load' } as const;
    b.accept('main', wireDelta({ type: 'delta', at: 1, fns: [], spans: [span], memos: [{ name: 'fib', file: '/a.js', line: 3, hits: 8, misses: 2, evictions: 0, size: 2 }] }));
    b.accept('worker', wireDelta({ type: 'delta', at: 2, fns: [], spans: [span], memos: [{ name: 'fib', file: '/a.js', line: 3, hits: 1, misses: 1, evictions: 1, size: 5 }] }));
    b.accept('main', wireDelta({ type: 'delta', at: 3, fns: [], memos: [{ name: 'fib', file: '/a.js', line: 3, hits: 0, misses: 0, evictions: 0, size: 4 }] }));
    b.accept('main', { type: 'warning', message: 'could not transform /app/x.js', file: '/app/x.js' });
    b.accept('worker', { type: 'warning', message: 'perf-lens: could not transform /app/x.js', file: '/app/x.js' });
    const r = b.build(RUN);
    assertValid(r);
    assert.deepEqual(r.processes.map((p) => [p.pid, p.threads]), [[100, [0, 1]]]);
    assert.equal(r.spans[0].name, 'load');
    assert.equal(r.spans[0].calls, 4);
    assert.equal(r.spans[0].totalMs, 8);
    assert.deepEqual(r.memos, [{ name: 'fib', file: '/a.js', line: 3, hits: 9, misses: 3, evictions: 1, size: 9, hitRate: 0.75 }]);
    assert.equal(r.resources.sampleCount, 4);
    assert.deepEqual(r.resources.samples.map((s) => s.at), [2, 3, 4], 'bounded to the most recent');
    assert.equal(r.resources.peak!.rss, 300);
    assert.equal(r.resources.avg!.rss, (100 + 300 + 200 + 250) / 4);
    assert.equal(r.resources.peak!.cpuPercent, 100, '100 ms CPU in a 100 ms interval');
    assert.deepEqual(r.resources.processes.map((p) => [p.threadId, p.sampleCount, p.peak.rss]), [[0, 2, 300], [1, 2, 250]]);
    assert.deepEqual(r.warnings, [{ pid: 100, message: 'could not transform /app/x.js', file: '/app/x.js' }], 'the same warning from one pid is kept once, without our prefix');
  });

  it('never throws on malformed runtime input: it becomes a warning', () => {
    const b = new ReportBuilder();
    b.accept(1, wireDelta({ type: 'delta', at: 0, fns: [delta(0, [1])] })); // before hello: ignored
    b.accept(1, hello(100));
    b.accept(1, { type: 'functions', defs: [{ id: 0, name: 'f', file: '/a.js', line: 1, column: 1, kind: 'sync' }] });
    b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [delta(99, [1])] }));
    b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [{ ...delta(0, [5]), hist: [5, 1, 1e9, 1] }] }));
    // Columns that do not fit together drop the whole delta.
    b.accept(1, { type: 'delta', at: 1, n: 1, cols: { id: 1, calls: 1, timed: 1, histLen: 3, hist: 'FBH' } });
    b.accept(1, { type: 'delta', at: 1, n: 2, cols: { id: [1], calls: 1 } });
    b.accept(1, { type: 'delta', at: 1, n: 1, cols: { id: 1, calls: ['1'] as never } });
    b.accept(1, { type: 'delta', at: 1, n: 1, cols: { id: 1, calls: 1, timed: 1, histLen: 2, hist: 'FBGB' } });
    b.accept(1, { type: 'delta', at: 1, n: 1, cols: { id: 1, calls: 1, timed: 1, histLen: 4, hist: 'FBG' } });
    b.accept(1, { type: 'delta', at: 1, n: 1, cols: { id: 1, calls: 1, timed: 1, histLen: 2, hist: 'F!' } });
    b.accept(1, { type: 'delta', at: 1, n: 1, cols: { id: 1, calls: 1, timed: 1, histLen: 2, hist: [5, 1] as never } }); // protocol 3
    b.accept(1, { type: 'delta', at: 1, n: -1 } as never);
    b.accept(1, { type: 'nonsense' } as never);
    const r = b.build(RUN);
    assertValid(r);
    assert.deepEqual(r.warnings.map((w) => w.message.replace(/: histogram .*/, '')), [
      'delta for unknown function id 99 (protocol error in the runtime)',
      'malformed delta for function f',
      'malformed delta (bad column histLen; protocol error in the runtime)',
      'malformed delta (bad column id; protocol error in the runtime)',
      'malformed delta (bad column calls; protocol error in the runtime)',
      'malformed delta (hist holds more than the 2 numbers histLen says; protocol error in the runtime)',
      'malformed delta (hist ends before the 4 numbers histLen says; protocol error in the runtime)',
      'malformed delta (bad column hist; protocol error in the runtime)',
      'malformed delta (bad function count -1; protocol error in the runtime)',
      'unknown runtime message type "nonsense"',
    ]);
    assert.equal(r.functions.length, 0, 'the rejected deltas were not half-applied');
  });

  it('an empty run (nothing connected) still makes a valid report', () => {
    const r = new ReportBuilder().build({ ...RUN, exitCode: 143, signal: 'SIGTERM', pid: null });
    assertValid(r);
    assert.equal(r.run.node, 'v20.0.0');
    assert.equal(r.resources.avg, null);
    assert.equal(parseReport(JSON.parse(JSON.stringify(r))).run.exitCode, 143);
  });

  describe('parseReport', () => {
    function good(): Record<string, unknown> {
      const b = new ReportBuilder();
      b.accept(1, hello(100));
      b.accept(1, { type: 'functions', defs: [0, 1, 2, 3].map((id) => ({ id, name: `f${id}`, file: '/a.js', line: id + 1, column: 1, kind: 'sync' as const })) });
      b.accept(1, wireDelta({ type: 'delta', at: 1, fns: [0, 1, 2, 3].map((id) => delta(id, [1000 * (4 - id)])) }));
      return JSON.parse(JSON.stringify(b.build(RUN))) as Record<string, unknown>;
    }
    type Loose = { schemaVersion?: unknown; run: Record<string, unknown>; functions: (Record<string, unknown> & { histogram: Record<string, unknown> })[] };
    const cases: [string, (r: Loose) => void, RegExp][] = [
      ['negative calls', (r) => (r.functions[3].calls = -1), /^functions\[3\]\.calls: must be a non-negative integer/],
      ['fractional calls', (r) => (r.functions[3].calls = 1.5), /^functions\[3\]\.calls: must be a non-negative integer/],
      ['missing p95', (r) => delete r.functions[0].p95Ms, /^functions\[0\]\.p95Ms: is missing/],
      ['line 0', (r) => (r.functions[1].line = 0), /^functions\[1\]\.line: must be a positive integer/],
      ['string total', (r) => (r.functions[2].totalMs = '3'), /^functions\[2\]\.totalMs: must be a non-negative number/],
      ['bad mode', (r) => (r.run.mode = 'turbo'), /^run\.mode: must be one of "adaptive"/],
      ['bad date', (r) => (r.run.startedAt = 'yesterday'), /^run\.startedAt: must be an ISO 8601 date-time/],
      ['no functions', (r) => delete (r as Partial<Loose>).functions, /^functions: is missing/],
      ['future version', (r) => (r.schemaVersion = 2), /^schemaVersion: 2 is not supported \(this perf-lens reads version 1\)/],
      ['not a report', (r) => delete r.schemaVersion, /^schemaVersion: is missing \(is this a Perf Lens report\?\)/],
      ['foreign histogram', (r) => (r.functions[0].histogram.subBuckets = 16), /^functions\[0\]\.histogram\.subBuckets: must be 32/],
      ['more timed than calls', (r) => (r.functions[2].timedCalls = 9), /^functions\[2\]\.timedCalls: must not exceed calls \(9 > 1\)/],
      ['sampled flag contradicts counts', (r) => (r.functions[1].sampled = true), /^functions\[1\]\.sampled: must be false/],
      ['odd histogram', (r) => ((r.functions[0].histogram.buckets as number[]).push(3)), /^functions\[0\]\.histogram\.buckets: must hold \[bucketIndex, count\] pairs/],
      ['histogram out of range', (r) => (r.functions[0].histogram.buckets = [99999, 1]), /^functions\[0\]\.histogram\.buckets\[0\]: bucket index 99999 is out of range/],
      ['histogram count mismatch', (r) => (r.functions[0].histogram.buckets = [40, 2]), /^functions\[0\]\.histogram: holds 2 values but timedCalls is 1/],
    ];
    for (const [name, mutate, want] of cases) {
      it(`names the problem: ${name}`, () => {
        const r = good() as unknown as Loose;
        assert.equal(reportProblem(r), null);
        mutate(r);
        assert.throws(() => parseReport(r), (err: Error) => err instanceof ReportFormatError && want.test(err.message) ? true : assert.fail(err.message));
      });
    }
    it('rejects non-objects and bad JSON text', () => {
      assert.match(reportProblem([]) ?? '', /must be a JSON object \(got an array\)/);
      assert.match(reportProblem(null) ?? '', /must be a JSON object/);
      assert.throws(() => parseReportText('{"schemaVersion": 1,'), /not valid JSON/);
    });
  });
});

describe('model/report: rows straight into the records (the server\'s hot path)', () => {
  it('gives exactly what adding each row through TimingAgg.add gives: window moves, outliers, sampling, a second process, a bad row', () => {
    const r = rng(42);
    const FNS = 549; // two blocks of rows and part of a third (addRowsToRecords merges 256 at a time)
    const defs = Array.from({ length: FNS }, (_, k) => ({ id: k, name: `f${k}`, file: `/app/m${k % 4}.js`, line: k + 1, column: 1, kind: 'sync' as const }));
    const b = new ReportBuilder();
    b.accept(1, hello(100));
    b.accept(1, { type: 'functions', defs });
    const ref = new Map<number, TimingAgg>(); // function k -> the same rows added one object at a time
    const add = (pid: number, k: number, row: FunctionDelta): void => {
      let agg = ref.get(k);
      if (!agg) ref.set(k, (agg = new TimingAgg()));
      try {
        agg.add(pid, row);
      } catch {
        // refused whole, as the builder refuses it (with a warning)
      }
    };
    let rowsSent = 0;
    for (let d = 0; d < 200; d++) {
      const fns: FunctionDelta[] = [];
      const other: FunctionDelta[] = [];
      for (let k = 0; k < FNS; k++) {
        if (r() < 0.2 && !(k === 7 && d === 150)) continue; // not called in this delta
        // Slow first calls, then 2-8x faster, with rare outliers 100x slower: the window is placed,
        // moved, and counts fall outside it.
        const base = 2000 * (k + 1) * (d < 20 ? 4 : 2 ** (-r() * 1.5));
        const durations = Array.from({ length: 1 + Math.floor(r() * 3) }, () => Math.round(base * (k % 3 === 0 && r() < 0.03 ? 100 : 1 + r() * 0.2)));
        const extra: Partial<FunctionDelta> = { selfNs: Math.round(durations[0] / 2), errors: r() < 0.05 ? 1 : 0 };
        let row = delta(k, durations, extra);
        if (k % 5 === 0 && d > 100) {
          // sampled: more calls than timed, with the runtime's weighted estimate
          row = { ...row, calls: row.calls * 8, estTotalNs: row.totalNs * 8, estSelfNs: extra.selfNs! * 8 };
        }
        if (k === 7 && d === 150) row = { ...row, hist: [BUCKET_COUNT, 1] }; // malformed: refused whole
        fns.push(row);
        add(100, k, row);
        if (d >= 60 && k % 2 === 0 && r() < 0.5) {
          // A second process reports the even functions under other ids (from here on they are split).
          const theirs = delta(k + 1000, [Math.round(base * 3)]);
          other.push(theirs);
          add(200, k, { ...theirs, id: k });
        }
      }
      if (d === 60) {
        b.accept(2, hello(200));
        b.accept(2, { type: 'functions', defs: defs.map((f) => ({ ...f, id: f.id + 1000 })) });
      }
      b.accept(1, wireDelta({ type: 'delta', at: d, fns }));
      if (other.length > 0) b.accept(2, wireDelta({ type: 'delta', at: d, fns: other }));
      rowsSent += fns.length + other.length;
    }
    // Every row counted; the per-row path took each function's first row of each process, the
    // split functions' rows, window moves and outliers, and not most rows.
    assert.equal(b.rowStats.rows, rowsSent);
    assert.ok(b.rowStats.perRow >= FNS && b.rowStats.perRow < rowsSent / 2, JSON.stringify([b.rowStats, rowsSent]));
    const report = b.build(RUN);
    assert.equal(report.functions.length, FNS);
    assert.ok(report.warnings.some((w) => /malformed delta for function f7: histogram bucket index out of range/.test(w.message)), JSON.stringify(report.warnings));
    for (const f of report.functions) {
      const agg = ref.get(Number(f.name.slice(1)))!;
      const h = agg.hist;
      assert.deepEqual(
        [f.calls, f.errors, f.timedCalls, f.totalMs, f.selfMs, f.minMs, f.maxMs, f.histogram.buckets],
        [agg.calls, agg.all.errors, agg.all.timed, nsToMs(agg.all.estimatedTotalNs()), nsToMs(agg.all.estimatedSelfNs()), nsToMs(h.min!), nsToMs(h.max!), h.toSparse()],
        f.name,
      );
      assert.deepEqual(
        f.processes.map((p) => [p.pid, p.calls, p.totalMs]).sort(),
        agg.processes().map(([pid, t]) => [pid, t.calls, nsToMs(t.estimatedTotalNs())]).sort(),
        `${f.name}: per-process split`,
      );
    }
    assert.ok(report.functions.some((f) => f.processes.length === 2) && report.functions.some((f) => f.sampled));
  });

  it('addRowsToRecords takes in-window rows and leaves the others, unchanged, to the caller', () => {
    const store = new RecordStore();
    const aggs = [new TimingAgg(store), new TimingAgg(store), new TimingAgg(store), new TimingAgg(store)];
    const first = wireDelta({ type: 'delta', at: 0, fns: aggs.map((_, k) => delta(k, [10_000])) });
    const v0 = readDelta(first) as DeltaView;
    aggs.forEach((agg, k) => agg.addFromView(100, v0, k)); // places each window around 10 µs
    aggs[2].add(200, delta(2, [10_000])); // a second process: split
    const recordOf = new Int32Array([aggs[0].recordFor(100), aggs[1].recordFor(100), aggs[2].recordFor(100), aggs[3].recordFor(100), -1]);
    assert.equal(aggs[2].recordFor(100), -1, 'a split aggregate has no record for the fast path');
    recordOf[2] = aggs[2].all.offset; // even if a caller still holds its offset, the record says it is split
    const before = aggs.map((agg) => [agg.calls, agg.version, agg.hist.toSparse()]);
    const rows = [delta(0, [11_000, 12_000]), delta(1, [10_000_000]), delta(2, [10_000]), { ...delta(3, [10_000]), hist: [BUCKET_COUNT, 1] }, delta(4, [10_000]), { ...delta(0, []), id: 0.5 }];
    const v = readDelta(wireDelta({ type: 'delta', at: 1, fns: rows })) as DeltaView;
    const rest: number[] = [];
    addRowsToRecords(store.a, recordOf, v, rest);
    assert.deepEqual(rest, [1, 2, 3, 4, 5], 'outside the window, split, malformed, unknown, not an integer');
    assert.deepEqual(aggs.slice(1).map((agg) => [agg.calls, agg.version, agg.hist.toSparse()]), before.slice(1), 'left rows unchanged');
    assert.deepEqual([aggs[0].calls, aggs[0].version, aggs[0].hist.count], [3, 2, 3]);
    assert.deepEqual(aggs[0].hist.toSparse(), mergeSparse([bucketIndex(10_000), 1], [bucketIndex(11_000), 1, bucketIndex(12_000), 1]));
  });
});

describe('model/ring-buffer', () => {
  it('keeps the newest items, oldest first', () => {
    const r = new RingBuffer<number>(3);
    assert.deepEqual(r.toArray(), []);
    assert.equal(r.last(), undefined);
    for (let i = 1; i <= 5; i++) r.push(i);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.equal(r.length, 3);
    assert.equal(r.pushed, 5);
    assert.equal(r.last(), 5);
    assert.equal(new RingBuffer().capacity, 1000);
    assert.throws(() => new RingBuffer(0), /positive integer/);
  });

  it('tracks average and peak per field over every sample, not only the held ones', () => {
    const h = new SampleHistory<{ a: number; b: number; label: string }>(['a', 'b'], 2);
    assert.equal(h.avg(), undefined);
    h.push({ a: 10, b: 1, label: 'x' });
    h.push({ a: 2, b: 5, label: 'y' });
    h.push({ a: 3, b: NaN, label: 'z' });
    assert.deepEqual(h.samples().map((s) => s.label), ['y', 'z']);
    assert.deepEqual(h.avg(), { a: 5, b: 2 });
    assert.deepEqual(h.peak(), { a: 10, b: 5 });
    assert.equal(h.count, 3);
  });
});

describe('model/stats', () => {
  it('mean, variance, stddev, nearest-rank quantile', () => {
    assert.equal(mean([]), undefined);
    assert.equal(mean([1, 2, 3, 4]), 2.5);
    assert.equal(variance([1]), undefined);
    assert.equal(variance([2, 4, 4, 4, 5, 5, 7, 9]), 32 / 7);
    assert.equal(stddev([1, 1, 1]), 0);
    assert.equal(quantile([5, 1, 4, 2, 3], 0.5), 3);
    assert.equal(quantile([5, 1, 4, 2, 3], 0.95), 5);
    assert.equal(quantile([5, 1, 4, 2, 3], 0), 1);
    assert.equal(quantile([], 0.5), undefined);
    assert.equal(nsToMs(1_234_567.4), 1.234567);
  });

});
