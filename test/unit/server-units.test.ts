/** Pure parts of the insight server: lens text, settings, anchors, run history, refresh throttling. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { bucketIndex } from '../../src/model/histogram';
import { ReportBuilder, type FunctionReport, type Report } from '../../src/model/report';
import { applyEdit, createAnchor, functionEnd, identOf, sourceHashAt, textHash, verifyAnchors, type Anchor, type TextEdit } from '../../src/server/anchors';
import { DEFAULT_LENS_FORMAT, parseSettings } from '../../src/server/config';
import { Documents } from '../../src/server/documents';
import { hoverMarkdown, lensText, textHistogram } from '../../src/server/lens-text';
import { RefreshThrottle, type Timers } from '../../src/server/refresh';
import { RunHistory, isRunId, runIdFor, runsToPrune } from '../../src/server/run-history';
import { wireDelta } from './wire-delta';

/** A function report built the real way: runtime messages through a ReportBuilder. */
function measured(durationsNs: number[], opts: { calls?: number; name?: string; errors?: number } = {}): FunctionReport {
  const b = new ReportBuilder();
  b.accept(1, { type: 'hello', protocol: 1, token: 't', pid: 10, ppid: 1, threadId: 0, argv: [], execArgv: [], cwd: '/w', node: 'v20', mode: 'full', startedAt: 0 });
  b.accept(1, { type: 'functions', defs: [{ id: 1, name: opts.name ?? 'work', file: '/w/a.js', line: 3, column: 1, kind: 'sync' }] });
  const hist = new Map<number, number>();
  for (const d of durationsNs) hist.set(bucketIndex(d), (hist.get(bucketIndex(d)) ?? 0) + 1);
  b.accept(1, wireDelta({
    type: 'delta',
    at: 0,
    fns: [{
      id: 1,
      calls: opts.calls ?? durationsNs.length,
      errors: opts.errors ?? 0,
      timed: durationsNs.length,
      totalNs: durationsNs.reduce((a, c) => a + c, 0),
      minNs: durationsNs.length ? Math.min(...durationsNs) : 0,
      maxNs: durationsNs.length ? Math.max(...durationsNs) : 0,
      hist: [...hist.entries()].sort((x, y) => x[0] - y[0]).flat(),
    }],
  }));
  return b.functionReports()[0];
}

describe('server: lens text', () => {
  it('reads like `avg 12.4 ms · p95 12.5 ms · 1,204 calls`, with units and separators', () => {
    const f = measured([...Array<number>(1203).fill(12.4e6), 31e6]);
    // p95 is a histogram bucket value: within 1.6% of 12.4 ms.
    assert.match(lensText(f, DEFAULT_LENS_FORMAT, { wallMs: 0, stale: false }), /^avg 12\.4 ms · p95 12\.[45] ms · 1,204 calls$/);
    const g = measured([850, 900, 1_500_000]);
    assert.equal(lensText(g, '{min}..{max} {count}x avg {avg} total {total}', { wallMs: 0, stale: false }), '850 ns..1.50 ms 3x avg 501 µs total 1.50 ms');
  });

  it('marks sampled timings, count-only functions, one call, stale text and unknown placeholders', () => {
    const sampled = measured([1000, 2000], { calls: 64 });
    assert.equal(lensText(sampled, DEFAULT_LENS_FORMAT, { wallMs: 0, stale: false }), 'avg 1.50 µs · p95 2.00 µs · 64 calls · sampled');
    const counted = measured([], { calls: 5 });
    assert.equal(lensText(counted, DEFAULT_LENS_FORMAT, { wallMs: 0, stale: false }), '5 calls · not timed');
    const once = measured([2e9]);
    assert.equal(lensText(once, DEFAULT_LENS_FORMAT, { wallMs: 0, stale: true }), '~ avg 2.00 s · p95 2.00 s · 1 call');
    assert.equal(lensText(once, '{percent} of run {nope}', { wallMs: 4000, stale: false }), '50% of run {nope}');
  });

  it('hover: all statistics, per-process split, other sessions, a text histogram', () => {
    const f = measured([1000, 1000, 1000, 8000, 64000], { errors: 1, name: 'a|b' });
    f.processes.push({ pid: 11, calls: 2, errors: 0, timedCalls: 2, totalMs: 0.001, meanMs: 0.0005 });
    const md = hoverMarkdown(f, { wallMs: 1, stale: true, sessionName: 'debug', otherSessions: [{ name: 'run 1', calls: 3, meanMs: 2, totalMs: 6 }], cwd: '/w' });
    assert.match(md, /^\*\*a\\\|b\*\* · sync · a\.js:3 · debug/);
    assert.match(md, /changed since measured/);
    assert.match(md, /5 calls · 1 errors/);
    assert.match(md, /\| 15\.0 µs \| 1\.00 µs \| 1\.00 µs \| 64\.0 µs \| 64\.0 µs \| 64\.0 µs \|/);
    assert.match(md, /total 75\.0 µs · self - · 7\.5% of run/);
    assert.match(md, /- pid 10: 5 calls/);
    assert.match(md, /- pid 11: 2 calls/);
    assert.match(md, /- run 1: 3 calls · avg 2\.00 ms/);
    const rows = textHistogram(f);
    assert.equal(rows.length, 8);
    assert.match(rows[0], /^1\.00 µs – 1\.68 µs │█{24} 3$/);
    assert.match(rows[rows.length - 1], /│█{8} +1$/);
    assert.equal(rows.reduce((n, r) => n + Number(r.split(' ').pop()), 0), 5, 'every timed call is in a row');
  });
});

describe('server: settings', () => {
  it('reads nested, inner and dotted forms; rejects bad values with a sentence', () => {
    assert.equal(parseSettings({ perfLens: { lens: { format: '{calls}', minCalls: 10 } } }).settings.lens.minCalls, 10);
    assert.equal(parseSettings({ lens: { format: '{calls}' } }).settings.lens.format, '{calls}');
    assert.equal(parseSettings({ 'perfLens.runs.maxHistory': 5 }).settings.runs.maxHistory, 5);
    const bad = parseSettings({ perfLens: { lens: { format: '', minCalls: -1 }, runs: { maxHistory: 0 } } });
    assert.deepEqual(bad.settings, parseSettings(undefined).settings);
    assert.equal(bad.problems.length, 3);
    assert.match(bad.problems[1], /perfLens\.lens\.minCalls must be a non-negative integer/);
  });
});

const SRC = [
  "'use strict';", //                                  0
  'function isPrime(n) {', //                          1
  '  if (n < 2) return false; // {', //                2
  "  const s = `}${'{'}`;", //                         3
  '  return true;', //                                 4
  '}', //                                              5
  '', //                                               6
  'const twice = (x = {}) => x * 2;', //               7
  'class A {', //                                      8
  '  get size() { return 1; }', //                     9
  '}', //                                              10
].join('\n');

function edit(sl: number, sc: number, el: number, ec: number, text: string): TextEdit {
  return { start: { line: sl, character: sc }, end: { line: el, character: ec }, text };
}

/** Applies an edit to text the way an editor would. */
function applyText(text: string, e: TextEdit): string {
  const lines = text.split('\n');
  const off = (l: number, c: number): number => lines.slice(0, l).reduce((n, s) => n + s.length + 1, 0) + c;
  return text.slice(0, off(e.start.line, e.start.character)) + e.text + text.slice(off(e.end.line, e.end.character));
}

class Doc {
  constructor(
    public text: string,
    readonly anchors: Anchor[],
  ) {}

  edit(e: TextEdit): void {
    applyEdit(this.anchors, e);
    this.text = applyText(this.text, e);
    verifyAnchors(this.text, this.anchors);
  }
}

describe('server: anchors', () => {
  it('finds function ends past braces in strings, comments, templates and parameter defaults', () => {
    const starts = SRC.split('\n').map((_, i) => SRC.split('\n').slice(0, i).join('\n').length + (i ? 1 : 0));
    assert.equal(SRC.slice(starts[1], functionEnd(SRC, starts[1])).split('\n').length, 5);
    assert.equal(SRC.slice(starts[7] + 14, functionEnd(SRC, starts[7] + 14)), '(x = {}) => x * 2;');
    assert.equal(SRC.slice(starts[9] + 2, functionEnd(SRC, starts[9] + 2)), 'get size() { return 1; }');
    const ts = 'function f<T extends { id: 1 }>(a: { x: number }): { y: number } {\n  return { y: a.x };\n}\nlater();';
    assert.equal(ts.slice(0, functionEnd(ts, 0)), ts.slice(0, ts.indexOf('\nlater')));
    const arrow = 'const g = (): { y: 1 } => {\n  return { y: 1 };\n}, h = 2;';
    assert.equal(arrow.slice(10, functionEnd(arrow, 10)), '(): { y: 1 } => {\n  return { y: 1 };\n}');
    // Regular expressions holding braces or quotes, and divisions, inside a body.
    const re = "function r(s) {\n  const a = s.replace(/[{'\"]/g, '');\n  if (/}/.test(a)) return a.split(/\\//);\n  return (a.length / 2) / [1][0] + x / y;\n}\nlater();";
    assert.equal(re.slice(0, functionEnd(re, 0)), re.slice(0, re.indexOf('\nlater')));
    const kw = 'function k(s) {\n  return /{/.test(s) ? typeof s : void /"/;\n}\nlater();';
    assert.equal(kw.slice(0, functionEnd(kw, 0)), kw.slice(0, kw.indexOf('\nlater')));
    const js = 'xs.map(function (x) { return x; }, self);';
    assert.equal(js.slice(7, functionEnd(js, 7)), 'function (x) { return x; }');
    assert.equal(identOf('get A.size'), 'size');
    assert.equal(identOf('<anonymous>@8:15'), null);
    assert.notEqual(textHash('ab'), textHash('ba'));
  });

  it('a saved run\'s recorded hash: the file changed on disk since the run is stale, one only moved is found', () => {
    const recorded = sourceHashAt(SRC, 2, 1)!;
    assert.equal(recorded, createAnchor('k', 'isPrime', 2, 1, SRC)!.hash);
    const changed = SRC.replace('n < 2', 'n <= 1');
    const stale = createAnchor('k', 'isPrime', 2, 1, changed, changed, recorded)!;
    assert.deepEqual([stale.stale, stale.lost, stale.line], [true, false, 1]);
    assert.equal(createAnchor('k', 'isPrime', 2, 1, changed)!.stale, false, 'without the recorded hash the changed file looks measured');
    const moved = `// one\n// two\n${SRC}`; // the run's line 2 now holds other text
    const found = createAnchor('k', 'isPrime', 2, 1, moved, moved, recorded)!;
    assert.deepEqual([found.stale, found.lost, found.line], [false, false, 3]);
    const arrow = sourceHashAt(SRC, 8, 15)!; // `(x = {}) => x * 2` of `const twice = ...`: it starts after its name
    const arrowFound = createAnchor('t', 'twice', 8, 15, moved, moved, arrow)!;
    assert.deepEqual([arrowFound.stale, arrowFound.line, arrowFound.character], [false, 9, 14]);
    const both = `// one\n// two\n${changed}`; // moved and changed: stale where it is now
    const there = createAnchor('k', 'isPrime', 2, 1, both, both, recorded)!;
    assert.deepEqual([there.stale, there.lost, there.line], [true, false, 3]);
    assert.equal(createAnchor('k', 'isPrime', 2, 1, SRC.replace(/isPrime/g, 'isOdd'), undefined, recorded), null, 'renamed: no lens');
    // The open text goes back to what the run measured: fresh again.
    verifyAnchors(SRC, [stale], true);
    assert.equal(stale.stale, false);
    const same = createAnchor('k', 'isPrime', 2, 1, SRC, SRC, recorded)!;
    assert.deepEqual([same.stale, same.touched], [false, false]);
    assert.equal(sourceHashAt(SRC, 99, 1), undefined);
  });

  it('a saved run gets each function\'s hash from the text it was measured in', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-hash-'));
    try {
      const file = path.join(dir, 'a.js');
      fs.writeFileSync(file, SRC);
      const docs = new Documents();
      const report = { functions: [{ ...measured([1000]), file, line: 2, column: 1, name: 'isPrime' }, { ...measured([1000]), file: path.join(dir, 'gone.js'), line: 1, column: 1 }] } as Report;
      const hashed = docs.withSourceHashes(report).functions;
      assert.equal(hashed[0].sourceHash, sourceHashAt(SRC, 2, 1));
      assert.equal(hashed[1].sourceHash, undefined, 'an unreadable file: no hash');
      // An open document's text as measured wins over the file on disk (saved since).
      const d = docs.open(pathToFileURL(file).href, 'javascript', 1, SRC);
      d.measured = SRC;
      fs.writeFileSync(file, SRC.replace('n < 2', 'n <= 1'));
      assert.equal(docs.withSourceHashes(report).functions[0].sourceHash, sourceHashAt(SRC, 2, 1));
      assert.equal(report.functions[0].sourceHash, undefined, 'the report itself is left as it was');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('moves with lines inserted or deleted above, and with text typed before the start on its line', () => {
    const a = createAnchor('k', 'isPrime', 2, 1, SRC)!;
    const m = createAnchor('m', 'A.size', 10, 3, SRC)!;
    const doc = new Doc(SRC, [a, m]);
    doc.edit(edit(0, 0, 0, 0, '// x\n// y\n// z\n'));
    assert.deepEqual([a.line, a.character, a.endLine, a.stale], [4, 0, 8, false]);
    assert.equal(m.line, 12);
    doc.edit(edit(0, 0, 2, 0, ''));
    assert.deepEqual([a.line, a.endLine, m.line], [2, 6, 10]);
    doc.edit(edit(2, 0, 2, 0, 'export '));
    assert.deepEqual([a.line, a.character, a.stale], [2, 7, false]);
    doc.edit(edit(6, 1, 6, 1, '\n\n'));
    assert.deepEqual([a.line, a.endLine, m.line], [2, 6, 12], 'lines added after it move only what follows');
  });

  it('is stale while its own text differs from what was measured, fresh again after an undo', () => {
    const a = createAnchor('k', 'isPrime', 2, 1, SRC)!;
    const other = createAnchor('t', 'twice', 8, 15, SRC)!;
    const doc = new Doc(SRC, [a, other]);
    doc.edit(edit(2, 8, 2, 9, '<='));
    assert.equal(a.stale, true);
    assert.equal(other.stale, false);
    doc.edit(edit(2, 8, 2, 10, '<'));
    assert.equal(a.stale, false);
    doc.edit(edit(4, 2, 4, 14, 'return n > 1;\n  // more'));
    assert.deepEqual([a.stale, a.endLine, other.line], [true, 6, 8]);
  });

  it('re-anchors by identity when the function moves as a whole, and gets lost when it is deleted', () => {
    const a = createAnchor('k', 'isPrime', 2, 1, SRC)!;
    const lines = SRC.split('\n');
    const moved = [lines[0], ...lines.slice(6), ...lines.slice(1, 6)].join('\n');
    verifyAnchors(moved, [a], true);
    assert.deepEqual([a.line, a.stale, a.lost], [6, false, false]);
    // Measured text differs from the open text: anchored in the open text at creation.
    const b = createAnchor('k', 'isPrime', 2, 1, SRC, `// new first line\n${SRC.replace('n < 2', 'n < 3')}`)!;
    assert.deepEqual([b.line, b.stale], [2, true]);
    const gone = createAnchor('k', 'isPrime', 2, 1, SRC, SRC.replace(/function isPrime[^]*?\n}\n/, ''))!;
    assert.equal(gone.lost, true);
    assert.equal(createAnchor('k', 'x', 99, 1, SRC), null);
  });
});

describe('server: run history', () => {
  it('names runs by time so they sort, and prunes all but the newest', () => {
    const id = runIdFor(new Date('2026-01-02T03:04:05.678Z'));
    assert.equal(id, '2026-01-02T03-04-05-678Z');
    assert.ok(isRunId(id) && isRunId(`${id}-2`) && !isRunId('../x'));
    const ids = ['2026-01-03T00-00-00-000Z', '2026-01-01T00-00-00-000Z', 'notes', '2026-01-02T00-00-00-000Z'];
    assert.deepEqual(runsToPrune(ids, 2), ['2026-01-01T00-00-00-000Z']);
    assert.deepEqual(runsToPrune(ids, 5), []);
  });

  it('saves, lists newest first, loads with validation, prunes on disk', () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-runs-'));
    try {
      const h = new RunHistory(ws);
      const b = new ReportBuilder();
      const report = b.build({ command: ['node', 'a.js'], cwd: ws, startedAt: 0, wallMs: 5, exitCode: 0, node: 'v20', pid: 1, mode: 'full' });
      const at = new Date('2026-01-01T00:00:00.000Z');
      const first = h.save(report, at);
      const second = h.save(report, at);
      assert.equal(path.basename(second.file), '2026-01-01T00-00-00-000Z-1.json');
      h.save(report, new Date('2026-01-02T00:00:00.000Z'));
      assert.deepEqual(h.list().map((r) => r.id), ['2026-01-02T00-00-00-000Z', second.id, first.id]);
      assert.deepEqual(h.load(first.id).run.command, ['node', 'a.js']);
      fs.writeFileSync(h.fileOf('2026-01-03T00-00-00-000Z'), '{"schemaVersion":1}');
      assert.throws(() => h.load('2026-01-03T00-00-00-000Z'), /is not a Perf Lens report: .*run/);
      assert.throws(() => h.fileOf('../../etc/passwd'), /not a run id/);
      assert.equal(h.prune(2).length, 2);
      assert.deepEqual(h.ids(), ['2026-01-02T00-00-00-000Z', '2026-01-03T00-00-00-000Z']);
    } finally {
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});

describe('server: refresh throttle', () => {
  function fakeTimers(): Timers & { advance(ms: number): void } {
    let now = 1000;
    let queue: { at: number; fn: () => void; id: number }[] = [];
    let next = 1;
    return {
      now: () => now,
      setTimeout: (fn, ms) => {
        queue.push({ at: now + ms, fn, id: next });
        return next++;
      },
      clearTimeout: (h) => {
        queue = queue.filter((q) => q.id !== h);
      },
      advance(ms: number) {
        const until = now + ms;
        for (;;) {
          queue.sort((a, b) => a.at - b.at);
          const q = queue[0];
          if (!q || q.at > until) break;
          queue.shift();
          now = q.at;
          q.fn();
        }
        now = until;
      },
    };
  }

  it('sends at most one refresh per second, soon after the first data, none without data', () => {
    const t = fakeTimers();
    let sent = 0;
    const r = new RefreshThrottle(() => sent++, 1000, 50, t);
    t.advance(5000);
    assert.equal(sent, 0);
    r.request(t.now());
    t.advance(49);
    assert.equal(sent, 0);
    t.advance(1);
    assert.equal(sent, 1);
    // Ten deltas a second: one refresh a second, each within a second of the data it covers.
    for (let i = 0; i < 30; i++) {
      t.advance(100);
      r.request(t.now());
    }
    t.advance(1000);
    assert.ok(r.sent >= 3 && r.sent <= 5, `sent ${r.sent}`);
    assert.ok(r.latenciesMs.every((l) => l <= 1000), JSON.stringify(r.latenciesMs));
    r.request(t.now());
    r.dispose();
    t.advance(2000);
    assert.equal(r.sent, sent, "disposed: nothing more");
  });
});
