import { strict as assert } from 'assert';
import { Histogram } from '../../src/model/histogram';
import { ReportBuilder, type Report } from '../../src/model/report';
import { displayPath, formatBytes, formatDuration, formatReport, withSeparators } from '../../src/model/format';
import { wireDelta } from './wire-delta';

function report(): Report {
  const b = new ReportBuilder();
  b.accept(1, {
    type: 'hello', protocol: 1, token: 't', pid: 10, ppid: 1, threadId: 0, argv: ['node', 'main.js'], execArgv: [],
    cwd: '/work/app', node: 'v20.20.2', mode: 'adaptive', startedAt: 0,
  });
  b.accept(1, {
    type: 'functions',
    defs: [
      { id: 0, name: 'isPrime', file: '/work/app/main.js', line: 4, column: 1, kind: 'sync' },
      { id: 1, name: 'primesBelow', file: '/work/app/main.js', line: 12, column: 1, kind: 'sync' },
      { id: 2, name: 'weird, "name" | pipe', file: '/elsewhere/x.js', line: 1, column: 1, kind: 'sync' },
    ],
  });
  const h = new Histogram();
  for (let i = 0; i < 100; i++) h.record(1500);
  b.accept(1, wireDelta({
    type: 'delta', at: 1,
    fns: [
      { id: 0, calls: 199_998, errors: 0, timed: 100, totalNs: h.sum, minNs: 1500, maxNs: 1500, hist: h.toSparse() },
      { id: 1, calls: 1, errors: 0, timed: 1, totalNs: 250_000_000, minNs: 250_000_000, maxNs: 250_000_000, hist: [bucketOf(250_000_000), 1] },
      { id: 2, calls: 3, errors: 0, timed: 3, totalNs: 30, minNs: 10, maxNs: 10, hist: [10, 3] },
    ],
  }));
  b.accept(1, { type: 'warning', message: 'could not transform', file: '/work/app/bad.js' });
  return b.build({ command: ['node', 'main.js'], cwd: '/work/app', startedAt: 0, wallMs: 500, exitCode: 0, node: 'v20', pid: 10, mode: 'adaptive' });
}

function bucketOf(ns: number): number {
  const h = new Histogram();
  h.record(ns);
  return h.toSparse()[0];
}

describe('model/format', () => {
  it('human units with thousands separators', () => {
    assert.equal(formatDuration(0.000_000_4), '0 ns');
    assert.equal(formatDuration(0.000_85), '850 ns');
    assert.equal(formatDuration(0.000_9996), '1.00 µs');
    assert.equal(formatDuration(0.0123), '12.3 µs');
    assert.equal(formatDuration(4.561), '4.56 ms');
    assert.equal(formatDuration(999.4), '999 ms');
    assert.equal(formatDuration(1234), '1.23 s');
    assert.equal(formatDuration(3_600_000), '3,600 s');
    assert.equal(formatDuration(null), '-');
    assert.equal(withSeparators(1234567.891, 1), '1,234,567.9');
    assert.equal(withSeparators(-1000), '-1,000');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(47_400_000), '45.2 MiB');
    assert.equal(displayPath('/work/app/src/a.js', '/work/app'), 'src/a.js');
    assert.equal(displayPath('/work/apple/a.js', '/work/app'), '/work/apple/a.js');
    assert.equal(displayPath('C:\\p\\a.js', 'C:\\p'), 'a.js');
  });

  it('table: top functions by total time, relative paths, sampled marker, no colours unless asked', () => {
    const out = formatReport(report(), 'table');
    const lines = out.split('\n');
    assert.match(lines[0], /^perf-lens: node main\.js — exit 0 — wall 500 ms — 3 functions called in 1 process \(mode adaptive\)$/);
    const header = lines.find((l) => l.startsWith('Function'))!;
    assert.match(header, /Function\s+Location\s+Calls\s+Avg\s+p50\s+p95\s+p99\s+Max\s+Total\s+% run/);
    const rows = lines.slice(lines.indexOf(header) + 1, lines.indexOf(header) + 4);
    assert.match(rows[0], /^isPrime\*\s+main\.js:4\s+199,998\s+1\.50 µs\s+1\.50 µs\s+1\.50 µs\s+1\.50 µs\s+1\.50 µs\s+300 ms\s+60%$/);
    assert.match(rows[1], /^primesBelow\s+main\.js:12\s+1\s+250 ms .* 250 ms\s+50%$/);
    assert.match(rows[2], /^weird, "name" \| pipe\s+\/elsewhere\/x\.js:1\s+3\s+10 ns/);
    assert.match(out, /\* timed on a sample of calls/);
    assert.match(out, /warning: could not transform \(bad\.js\)/);
    assert.equal(out.includes('\x1b['), false, 'no ANSI escapes');
    assert.ok(formatReport(report(), 'table', { colors: true }).startsWith('\x1b[1mperf-lens:'));
    assert.equal(formatReport(report(), 'table', { top: 1 }).includes('primesBelow'), false);
    assert.match(formatReport(report(), 'table', { top: 1 }), /2 more functions in the report/);
  });

  it('csv: every function, RFC 4180 quoting, numbers in ms', () => {
    const lines = formatReport(report(), 'csv').split('\r\n');
    assert.equal(lines[0], 'name,file,line,column,kind,calls,errors,timedCalls,sampled,meanMs,p50Ms,p95Ms,p99Ms,minMs,maxMs,totalMs,selfMs,percentOfRun,inclusiveMs');
    assert.equal(lines[1], 'isPrime,/work/app/main.js,4,1,sync,199998,0,100,true,0.0015,0.0015,0.0015,0.0015,0.0015,0.0015,299.997,,60,', 'no recursion-aware total: empty inclusiveMs');
    assert.equal(lines[3].split(',')[0] + ',' + lines[3].split(',')[1], '"weird, "name" | pipe"'.replace('"name"', '""name""'));
    assert.equal(lines.length, 5, 'header + 3 rows + final newline');
  });

  it('json is the report itself; md is a table with escaped pipes', () => {
    const r = report();
    assert.deepEqual(JSON.parse(formatReport(r, 'json')), JSON.parse(JSON.stringify(r)));
    const md = formatReport(r, 'md');
    assert.match(md, /^\| Function \| Location \| Calls \| Avg \| p50 \| p95 \| p99 \| Max \| Total \| % run \|$/m);
    assert.match(md, /^\| --- \| --- \| ---: \|/m);
    assert.match(md, /^\| `isPrime\*` \| main\.js:4 \| 199,998 \|/m);
    assert.match(md, /`weird, "name" \\\| pipe`/);
  });

  it('Total and % run use the recursion-aware total when the report has one', () => {
    const r = report();
    const prime = r.functions.find((f) => f.name === 'isPrime')!;
    prime.inclusiveMs = 100; // as if its 300 ms counted nested calls twice
    const row = formatReport(r, 'table').split('\n').find((l) => l.startsWith('isPrime'))!;
    assert.match(row, /\s100 ms\s+20%$/);
    const csvRow = formatReport(r, 'csv').split('\r\n').find((l) => l.startsWith('isPrime'))!;
    assert.ok(csvRow.endsWith(',299.997,,20,100'), csvRow);
    const mdRow = formatReport(r, 'md').split('\n').find((l) => l.startsWith('| `isPrime'))!;
    assert.match(mdRow, /\| 100 ms \| 20% \|$/);
  });

  it('a run without functions says so', () => {
    const empty = new ReportBuilder().build({ command: ['node', '-e', '1'], cwd: '/', startedAt: 0, wallMs: 30, exitCode: 0, node: 'v20', pid: 1, mode: 'full' });
    assert.match(formatReport(empty, 'table'), /No instrumented function was called/);
    assert.match(formatReport(empty, 'md'), /_No instrumented function was called\._/);
    assert.throws(() => formatReport(empty, 'xml' as never), /unknown format "xml"/);
  });
});
