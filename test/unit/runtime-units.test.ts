import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import { buildNodeOptions, injectEnv, quoteNodeOption, runtimeEnv } from '../../src/runtime/inject';
import { readConfig } from '../../src/runtime/node/config';
import { createScope } from '../../src/runtime/node/scope';
import { unsupportedNodeMessage } from '../../src/runtime/node/version';
import { ADAPT_FIRST, MAX_SAMPLE_EVERY, OUTLIER_FACTOR, Recorder, adaptiveEvery, weighted } from '../../src/runtime/node/recorder';
import { bucketIndex } from '../../src/model/histogram';
import { FIXTURES } from './runtime-harness';

describe('runtime: inject.ts (NODE_OPTIONS and env)', () => {
  it('prepends --require to the user\'s NODE_OPTIONS, never replacing it', () => {
    assert.equal(buildNodeOptions(undefined, '/opt/pl/preload.js'), '--require /opt/pl/preload.js');
    assert.equal(buildNodeOptions('  ', '/opt/pl/preload.js'), '--require /opt/pl/preload.js');
    assert.equal(buildNodeOptions('--max-old-space-size=4096 --import tsx', '/p.js'), '--require /p.js --max-old-space-size=4096 --import tsx');
  });
  it('does not inject twice', () => {
    const once = buildNodeOptions('--inspect', '/p.js');
    assert.equal(buildNodeOptions(once, '/p.js'), once);
  });
  it('quotes paths with spaces, quotes and backslashes the way Node parses NODE_OPTIONS', () => {
    assert.equal(quoteNodeOption('/a/b.js'), '/a/b.js');
    assert.equal(quoteNodeOption('/my dir/p.js'), '"/my dir/p.js"');
    assert.equal(quoteNodeOption('C:\\Program Files\\p.js'), '"C:\\\\Program Files\\\\p.js"');
    assert.equal(quoteNodeOption('/a"b/p.js'), '"/a\\"b/p.js"');
  });
  it('a quoted path with a space really loads in node', () => {
    const file = `${FIXTURES}/dir with space/announce.js`;
    const out = execFileSync(process.execPath, ['-e', 'console.log("main")'], {
      env: { ...process.env, NODE_OPTIONS: buildNodeOptions('--no-warnings', file) }, encoding: 'utf8',
    });
    assert.equal(out, 'preloaded\nmain\n');
  });
  it('runtimeEnv sets only what is given, with the protocol\'s names', () => {
    assert.deepEqual(runtimeEnv({}), {});
    assert.deepEqual(runtimeEnv({ socket: '/s', token: 't', mode: 'sampled', sampleEvery: 8, includeNodeModules: true, include: ['src/**'], quiet: true, cacheDir: null }), {
      PERF_LENS_SOCKET: '/s', PERF_LENS_TOKEN: 't', PERF_LENS_MODE: 'sampled', PERF_LENS_SAMPLE_EVERY: '8',
      PERF_LENS_INCLUDE_NODE_MODULES: '1', PERF_LENS_INCLUDE: '["src/**"]', PERF_LENS_QUIET: '1', PERF_LENS_CACHE_DIR: 'off',
    });
    const env = injectEnv({ PATH: '/bin', NODE_OPTIONS: '--trace-warnings' }, '/p.js', { socket: '/s' });
    assert.deepEqual(env, { PATH: '/bin', NODE_OPTIONS: '--require /p.js --trace-warnings', PERF_LENS_SOCKET: '/s' });
  });
});

describe('runtime: config, scope and version check', () => {
  it('reads defaults and values, reporting bad ones', () => {
    const d = readConfig({}, '/cwd');
    assert.equal(d.mode, 'adaptive');
    assert.equal(d.sampleEvery, 64);
    assert.equal(d.root, '/cwd');
    assert.equal(d.cacheDir, undefined);
    assert.deepEqual(d.problems, []);
    assert.equal(d.spreadMs, 1000);
    const c = readConfig({ PERF_LENS_MODE: 'count', PERF_LENS_INCLUDE: '["a/**"]', PERF_LENS_EXCLUDE: 'nope', PERF_LENS_CACHE_DIR: 'off', PERF_LENS_RESOURCE_INTERVAL_MS: '0', PERF_LENS_SPREAD_MS: '0' }, '/cwd');
    assert.equal(c.mode, 'count');
    assert.deepEqual(c.include, ['a/**']);
    assert.deepEqual(c.exclude, []);
    assert.equal(c.cacheDir, null);
    assert.equal(c.resourceIntervalMs, 0);
    assert.equal(c.spreadMs, 0);
    assert.equal(c.problems.length, 1);
    assert.match(c.problems[0], /PERF_LENS_EXCLUDE must be a JSON array/);
    assert.deepEqual(readConfig({ PERF_LENS_SPREAD_MS: '-5' }, '/cwd').problems, ['PERF_LENS_SPREAD_MS=-5 is not an integer >= 0; using 1000']);
  });
  it('scope: user code only by default, never our own bundles, globs relative to the root', () => {
    const base = { includeNodeModules: false, include: [], exclude: [], root: '/proj', ownDirs: ['/opt/perf-lens/dist'] };
    const s = createScope(base);
    assert.equal(s('/proj/src/a.js'), true);
    assert.equal(s('file:///proj/src/a.mjs'), true);
    assert.equal(s('/proj/node_modules/x/index.js'), false);
    assert.equal(s('/opt/perf-lens/dist/api.js'), false);
    assert.equal(s('node:fs'), false);
    assert.equal(s('data:text/javascript,1'), false);
    assert.equal(s('relative/a.js'), false);
    assert.equal(createScope({ ...base, includeNodeModules: true })('/proj/node_modules/x/index.js'), true);
    const g = createScope({ ...base, include: ['src/**'], exclude: ['**/*.test.js'] });
    assert.equal(g('/proj/src/deep/a.js'), true);
    assert.equal(g('/proj/src/a.test.js'), false);
    assert.equal(g('/proj/lib/a.js'), false);
  });
  it('unsupported Node versions get a clear message', () => {
    assert.equal(unsupportedNodeMessage('20.20.2'), undefined);
    assert.equal(unsupportedNodeMessage('18.19.0'), undefined);
    assert.equal(unsupportedNodeMessage('v22.1.0'), undefined);
    assert.match(unsupportedNodeMessage('18.18.2')!, /Node\.js 18\.18\.2 is not supported \(needs 18\.19\.0 or newer\); running unmeasured/);
    assert.match(unsupportedNodeMessage('16.20.0')!, /not supported/);
    assert.match(unsupportedNodeMessage('banana')!, /cannot read the Node\.js version/);
  });
});

describe('runtime: recorder (with a fake clock)', () => {
  function fake(): { rec: Recorder; advance: (ms: number) => void } {
    let now = 1000;
    return { rec: new Recorder({ mode: 'full', sampleEvery: 64, now: () => now }), advance: (ms) => { now += ms; } };
  }
  it('times calls into the shared histogram indexing; self time excludes callees', () => {
    const { rec, advance } = fake();
    const f = rec.file(['/a.js'], [['outer', 0, 1, 1, 0], ['inner', 0, 5, 3, 0]]);
    const t0 = f.s(0);
    advance(0.001); // 1 µs of outer's own work
    const t1 = f.s(1);
    advance(0.004);
    f.r(1, t1, 1);
    advance(0.002);
    f.r(0, t0, 1);
    const cut = rec.cut();
    assert.deepEqual(cut.defs.map((d) => [d.id, d.name, d.line, d.column, d.kind]), [[0, 'outer', 1, 1, 'sync'], [1, 'inner', 5, 3, 'sync']]);
    const [outer, inner] = cut.fns;
    assert.equal(outer.totalNs, 7000);
    assert.equal(outer.selfNs, 3000);
    assert.equal(inner.totalNs, 4000);
    assert.equal(inner.selfNs, 4000);
    assert.deepEqual(inner.hist, [bucketIndex(4000), 1]);
    assert.deepEqual([outer.minNs, outer.maxNs], [7000, 7000]);
    assert.deepEqual(rec.cut().fns, [], 'a cut only has what changed since the previous one');
  });
  it('counts errors: sync throws (ok=0), async rejections, generator throws via e()', () => {
    const { rec } = fake();
    const f = rec.file(['/a.js'], [['s', 0, 1, 1, 0], ['a', 0, 2, 1, 1], ['g', 0, 3, 1, 2]]);
    f.r(0, f.s(0), 0);
    f.ra(1, f.sa(1), 0);
    f.ra(2, f.sa(2), 0); // an early .return() of a generator is no error
    f.e(2);
    const fns = rec.cut().fns;
    assert.deepEqual(fns.map((d) => [d.calls, d.errors]), [[1, 1], [1, 1], [1, 1]]);
    assert.equal(fns[1].selfNs, undefined, 'async: no self time');
  });
  it('adaptive rule: N = ceil(500 ns / (1.5% of the mean self time)), capped', () => {
    assert.equal(adaptiveEvery(34000), 1);
    assert.equal(adaptiveEvery(33000), 2);
    assert.equal(adaptiveEvery(10000), 4);
    assert.equal(adaptiveEvery(2000), 17);
    assert.equal(adaptiveEvery(100), 334);
    assert.equal(adaptiveEvery(1), MAX_SAMPLE_EVERY);
    assert.equal(MAX_SAMPLE_EVERY, 4096);
    let clock = 1;
    const r = new Recorder({ mode: 'adaptive', sampleEvery: 64, now: () => (clock += 0.00005) }); // every call takes 50 ns
    const f = r.file(['/a.js'], [['tiny', 0, 1, 1, 0]]);
    for (let i = 0; i < 20000; i++) f.r(0, f.s(0), 1);
    const [d] = r.cut().fns;
    assert.equal(d.calls, 20000);
    // 256 timed, then 1 in ceil(500 / 0.75) = 667 of the remaining 19744 (randomised gaps, mean 667): ~30.
    assert.equal(adaptiveEvery(50), 667);
    assert.ok(d.timed > ADAPT_FIRST + 15 && d.timed < ADAPT_FIRST + 50, `timed ${d.timed}`);
  });
  it('a sampled outlier counts its excess over OUTLIER_FACTOR x the mean once, not once per call it stands for', () => {
    assert.equal(weighted(900, 10, 100, 1000), 9000, 'below the bound: weighted');
    assert.equal(weighted(5000, 10, 100, 1000), OUTLIER_FACTOR * 100 * 10 + (5000 - OUTLIER_FACTOR * 100));
    assert.equal(weighted(5000, 1, 100, 1000), 5000, 'a fully timed call is exact');
    assert.equal(weighted(5000, 10, 100, 5), 50_000, 'no bound before the mean has enough calls');
    assert.equal(weighted(-50, 10, 0, 1000), -500, 'a negative self time (no mean yet) is left alone');
    // 100,000 calls of 1 µs sampled 1 in 10, one timed call of them held up 20 ms (a GC pause).
    let now = 0;
    const r = new Recorder({ mode: 'sampled', sampleEvery: 10, now: () => now });
    const f = r.file(['/a.js'], [['f', 0, 1, 1, 0]]);
    let timed = 0;
    for (let i = 0; i < 100_000; i++) {
      const t = f.s(0);
      now += t >= 0 && ++timed === 500 ? 20 : 0.001; // ms
      f.r(0, t, 1);
    }
    const [d] = r.cut().fns;
    const plain = d.totalNs * (d.calls / d.timed); // the estimate if the 20 ms counted ~10 times
    assert.ok(plain > 250e6, `the outlier dominates the plain extrapolation: ${plain}`);
    const expected = 100_000 * 1000 + 20e6; // every call's 1 µs plus the pause, once
    assert.ok(Math.abs(d.estTotalNs! - expected) < 0.1 * expected, `estimate ${d.estTotalNs} ~ ${expected}`);
  });
  it('count mode times nothing and sampled mode about 1 in N', () => {
    const c = new Recorder({ mode: 'count', sampleEvery: 64 });
    const fc = c.file(['/a.js'], [['f', 0, 1, 1, 0]]);
    for (let i = 0; i < 1000; i++) fc.r(0, fc.s(0), 1);
    assert.deepEqual([c.cut().fns[0].calls, c.cut().fns.length], [1000, 0]);
    const s = new Recorder({ mode: 'sampled', sampleEvery: 10 });
    const fs = s.file(['/a.js'], [['f', 0, 1, 1, 0]]);
    for (let i = 0; i < 10000; i++) fs.r(0, fs.s(0), 1);
    const d = s.cut().fns[0];
    assert.equal(d.calls, 10000);
    assert.ok(d.timed > 800 && d.timed < 1200, `timed ${d.timed}`);
  });
});

describe('runtime: a cut\'s row budget (many busy functions spread over several cuts)', () => {
  /** 100 functions in three files; function k takes k + 1 calls of (k + 1) µs per round. */
  function busy(): { rec: Recorder; round: () => void; advance: (ms: number) => void } {
    let now = 1000;
    const rec = new Recorder({ mode: 'full', sampleEvery: 64, now: () => now });
    const tuples = (n: number, from: number): [string, number, number, number, number][] => Array.from({ length: n }, (_, i) => [`f${from + i}`, 0, from + i + 1, 1, 0]);
    const files = [rec.file(['/a.js'], tuples(40, 0)), rec.file(['/b.js'], tuples(30, 40)), rec.file(['/c.js'], tuples(30, 70))];
    const where = (k: number): [typeof files[number], number] => (k < 40 ? [files[0], k] : k < 70 ? [files[1], k - 40] : [files[2], k - 70]);
    const round = (): void => {
      for (let k = 0; k < 100; k++) {
        const [f, i] = where(k);
        for (let c = 0; c <= k; c++) {
          const t = f.s(i);
          now += (k + 1) / 1000;
          f.r(i, t, 1);
        }
      }
    };
    return { rec, round, advance: (ms) => { now += ms; } };
  }

  it('carries at most max(minRows, changed / spreadCuts) rows, round-robin in ascending id order, and loses nothing', () => {
    const { rec, round } = busy();
    const budget = { minRows: 8, spreadCuts: 5 }; // 100 changed: 20 rows a cut
    const sums = new Map<number, { calls: number; timed: number; totalNs: number; histCount: number }>();
    const lastSeen = new Map<number, number>();
    const cuts = 12;
    for (let c = 0; c < cuts; c++) {
      round();
      const { fns } = rec.cut(budget);
      assert.equal(fns.length, 20, `cut ${c}`);
      assert.deepEqual(fns.map((f) => f.id), [...fns.map((f) => f.id)].sort((x, y) => x - y), 'ascending ids');
      for (const f of fns) {
        const gap = c - (lastSeen.get(f.id) ?? -1);
        assert.ok(gap <= budget.spreadCuts, `function ${f.id} waited ${gap} cuts`);
        lastSeen.set(f.id, c);
        const t = sums.get(f.id) ?? { calls: 0, timed: 0, totalNs: 0, histCount: 0 };
        t.calls += f.calls;
        t.timed += f.timed;
        t.totalNs += f.totalNs;
        for (let k = 1; k < f.hist.length; k += 2) t.histCount += f.hist[k];
        sums.set(f.id, t);
      }
    }
    // The last cut (the runtime's at exit) takes everything left.
    for (const f of rec.cut().fns) {
      const t = sums.get(f.id)!;
      t.calls += f.calls;
      t.timed += f.timed;
      t.totalNs += f.totalNs;
      for (let k = 1; k < f.hist.length; k += 2) t.histCount += f.hist[k];
    }
    assert.equal(sums.size, 100);
    for (const [id, t] of sums) {
      const calls = cuts * (id + 1);
      assert.deepEqual(t, { calls, timed: calls, totalNs: calls * (id + 1) * 1000, histCount: calls }, `function ${id}`);
    }
    assert.deepEqual(rec.cut(budget).fns, []);
  });

  it('a few changed functions all go at once; minRows bounds a cut when more changed', () => {
    const { rec, round } = busy();
    round();
    assert.equal(rec.cut({ minRows: 100, spreadCuts: 10 }).fns.length, 100);
    round();
    const first = rec.cut({ minRows: 30, spreadCuts: 10 }).fns;
    assert.deepEqual(first.map((f) => f.id), Array.from({ length: 30 }, (_, i) => i));
    // The next cut goes on where this one stopped, wraps around, and still lists ids in order.
    round();
    const second = rec.cut({ minRows: 80, spreadCuts: 10 }).fns.map((f) => f.id);
    assert.deepEqual(second, [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 70 }, (_, i) => 30 + i)]);
    // Left: the third round's calls of 10..29.
    assert.deepEqual(rec.cut({ minRows: 80, spreadCuts: 10 }).fns.map((f) => [f.id, f.calls]), Array.from({ length: 20 }, (_, i) => [10 + i, 11 + i]));
  });
});

describe('runtime: published types of perf-lens/api', () => {
  it('dist/api.d.ts type-checks a typical use (strict)', () => {
    const tsc = `${FIXTURES}/../../../node_modules/typescript/bin/tsc`;
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'ES2022', '--module', 'node16', '--moduleResolution', 'node16',
      '--lib', 'ES2022,ESNext.Disposable', '--types', 'node', `${FIXTURES}/api-types.ts`], { encoding: 'utf8' });
  });
});

describe('runtime: recursion-aware totals (recorder)', () => {
  it('only the outermost timed call of a function adds to inclusiveNs; totalNs sums every call', () => {
    let now = 0;
    const rec = new Recorder({ mode: 'full', sampleEvery: 64, now: () => now });
    const f = rec.file(['/a.js'], [['walk', 0, 1, 1, 0], ['visit', 0, 2, 1, 0]]);
    // walk (0-10 ms) > walk (2-8) > walk (3-5); then visit (10-11) > walk (10.25-10.5)
    const a = f.s(0);
    now = 2;
    const b = f.s(0);
    now = 3;
    const c = f.s(0);
    now = 5;
    f.r(0, c, 1);
    now = 8;
    f.r(0, b, 1);
    now = 10;
    f.r(0, a, 1);
    const v = f.s(1);
    now = 10.25;
    const d = f.s(0);
    now = 10.5;
    f.r(0, d, 1);
    now = 11;
    f.r(1, v, 1);
    const [walk, visit] = rec.cut().fns;
    assert.equal(walk.calls, 4);
    assert.equal(walk.totalNs, 18.25e6);
    assert.equal(walk.inclusiveNs, 10.25e6);
    assert.equal(walk.estInclusiveNs, 10.25e6);
    assert.equal(walk.selfNs, 10.25e6, 'recursion does not change self time');
    assert.equal(visit.inclusiveNs, 1e6);
    assert.equal(visit.selfNs, 0.75e6);
  });

  it('a nested call whose outer call of the same function never returned (lost frame) is outermost again later', () => {
    let now = 0;
    const rec = new Recorder({ mode: 'full', sampleEvery: 64, now: () => now });
    const f = rec.file(['/a.js'], [['f', 0, 1, 1, 0], ['g', 0, 2, 1, 0]]);
    const g = f.s(1);
    f.s(0); // its end is never reported
    now = 1;
    f.r(1, g, 1); // g's frame pops f's with it
    const h = f.s(0);
    now = 3;
    f.r(0, h, 1);
    const fd = rec.cut().fns.find((x) => x.id === 0)!;
    assert.equal(fd.inclusiveNs, 2e6);
  });
});

describe('runtime: debugger pauses', () => {
  it('calls in progress at a pause are counted but not timed; later calls are timed again', () => {
    let now = 1;
    const rec = new Recorder({ mode: 'full', sampleEvery: 64, now: () => now });
    const f = rec.file(['/a.js'], [['handler', 0, 1, 1, 0], ['job', 0, 2, 1, 1]]);
    const t = f.s(0);
    const a = f.sa(1);
    now += 1;
    rec.pause(); // stopped at a breakpoint inside both
    now += 5000; // the user looks around for 5 s
    f.r(0, t, 1);
    f.ra(1, a, 1);
    now += 1;
    f.r(0, f.s(0), 1);
    const [h, j] = rec.cut().fns;
    assert.deepEqual([h.calls, h.timed, j.calls, j.timed], [2, 1, 1, 0]);
    assert.ok(h.maxNs < 1e9, 'the paused call is not in the histogram');
  });
});
