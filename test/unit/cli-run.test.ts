/**
 * End-to-end `perf-lens run` with the real runtime (dist/runtime/preload.js): real child
 * processes, real sockets, reports validated against the published JSON Schema with ajv.
 */
import { strict as assert } from 'assert';
import Ajv from 'ajv';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import type { Report } from '../../src/model/report';
import { cleanEnv, cli, cliPath, exec, fixtures, root } from './cli-helpers';

const preload = path.join(root, 'dist/runtime/preload.js');
const primes = path.join(root, 'examples/primes/main.js');
const env = cleanEnv();

let validate: ReturnType<Ajv['compile']>;
let tmp: string;

function readReport(file: string): Report {
  const json: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(validate(json), `report does not match schema/report.schema.json: ${JSON.stringify(validate.errors)}`);
  return json as Report;
}

function fn(report: Report, name: string): Report['functions'][number] {
  const f = report.functions.find((x) => x.name === name);
  assert.ok(f, `function ${name} in the report (have: ${report.functions.map((x) => x.name).join(', ')})`);
  return f;
}

describe('cli: run end to end with the real runtime', function () {
  before(function () {
    if (!fs.existsSync(preload)) {
      this.skip(); // the runtime bundle is built by `node esbuild.js` from src/runtime/node/preload.ts
    }
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(root, 'schema/report.schema.json'), 'utf8')) as object);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-run-'));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('examples/primes: exact call counts, right file:line:column, valid report, output untouched', async () => {
    const out = path.join(tmp, 'primes.json');
    const bare = await exec(process.execPath, [primes], { env });
    const r = await cli(['run', '--quiet', '--out', out, '--', 'node', primes], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, bare.stdout);
    assert.equal(r.stderr, '', '--quiet adds nothing');
    const report = readReport(out);
    const isPrime = fn(report, 'isPrime');
    assert.equal(isPrime.calls, 199_998);
    assert.equal(isPrime.file, primes);
    assert.deepEqual([isPrime.line, isPrime.column], [4, 1]);
    assert.ok(isPrime.timedCalls > 0 && isPrime.timedCalls <= isPrime.calls);
    assert.equal(isPrime.sampled, isPrime.timedCalls < isPrime.calls);
    const primesBelow = fn(report, 'primesBelow');
    assert.equal(primesBelow.calls, 1);
    assert.deepEqual([primesBelow.line, primesBelow.column], [12, 1]);
    assert.equal(primesBelow.sampled, false);
    assert.ok(primesBelow.meanMs! > 0);
    assert.equal(fn(report, 'Stats.gaps').line, 29);
    assert.equal(fn(report, 'get Stats.mean').calls, 2);
    assert.equal(report.run.exitCode, 0);
    assert.deepEqual(report.run.command, ['node', primes]);
    assert.equal(report.run.mode, 'adaptive');
    assert.equal(report.processes.length, 1);
    assert.equal(report.processes[0].pid, report.run.pid);
    assert.equal(report.processes[0].exitReason, 'exit');
    assert.ok(report.run.wallMs > 0);
  });

  it('without --quiet the table goes to stderr, and --format json prints the same report', async () => {
    const out = path.join(tmp, 'json.json');
    const table = await cli(['run', '--', 'node', primes], { env });
    assert.equal(table.code, 0);
    assert.match(table.stderr, /^perf-lens: node .*main\.js — exit 0 — wall /m);
    assert.match(table.stderr, /^isPrime\*?\s+examples\/primes\/main\.js:4\s+199,998\s/m);
    const json = await cli(['run', '--format', 'json', '--mode', 'full', '--out', out, '--', 'node', primes], { env });
    assert.equal(json.code, 0);
    const printed = JSON.parse(json.stderr.slice(0, json.stderr.lastIndexOf('}') + 1)) as Report;
    assert.deepEqual(printed, readReport(out));
    assert.match(json.stderr, /report written to /);
    const full = fn(printed, 'isPrime');
    assert.equal(full.timedCalls, 199_998, '--mode full times every call');
    assert.equal(full.sampled, false);
  });

  it('--mode count counts without timing', async () => {
    const out = path.join(tmp, 'count.json');
    const r = await cli(['run', '--quiet', '--mode', 'count', '--out', out, '--', 'node', primes], { env });
    assert.equal(r.code, 0);
    const f = fn(readReport(out), 'isPrime');
    assert.equal(f.calls, 199_998);
    assert.equal(f.timedCalls, 0);
    assert.equal(f.meanMs, null);
  });

  it('merges a function from a parent and its child process, keeping the per-process split', async () => {
    const out = path.join(tmp, 'two.json');
    const script = path.join(fixtures, 'two-processes.js');
    const r = await cli(['run', '--quiet', '--out', out, '--', 'node', script], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'child done\nchild exited 0\nparent done\n');
    const report = readReport(out);
    const work = fn(report, 'work');
    assert.equal(work.calls, 15);
    assert.deepEqual(work.processes.map((p) => p.calls).sort((a, b) => a - b), [5, 10]);
    assert.equal(report.processes.length, 2);
    const parent = report.processes.find((p) => p.pid === report.run.pid)!;
    const child = report.processes.find((p) => p.pid !== report.run.pid)!;
    assert.equal(child.ppid, parent.pid);
    assert.equal(report.functions.filter((f) => f.name === 'work').length, 1);
  });

  it('measures through npm run (the node process npm starts inherits the runtime)', async () => {
    const out = path.join(tmp, 'npm.json');
    const r = await cli(['run', '--quiet', '--out', out, '--', 'npm', 'run', '--silent', 'go'], { env, cwd: path.join(fixtures, 'npm-project') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'total 328350\n');
    const square = fn(readReport(out), 'square');
    assert.equal(square.calls, 100);
    assert.equal(square.file, path.join(fixtures, 'npm-project/main.js'));
  });

  it('keeps the user\'s NODE_OPTIONS (prepends ours) and works from a path with spaces', async () => {
    const spaced = path.join(tmp, 'dir with spaces', 'dist');
    fs.mkdirSync(path.join(spaced, 'runtime'), { recursive: true });
    fs.copyFileSync(cliPath, path.join(spaced, 'cli.js'));
    for (const f of fs.readdirSync(path.dirname(preload))) fs.copyFileSync(path.join(path.dirname(preload), f), path.join(spaced, 'runtime', f));
    const out = path.join(tmp, 'spaces.json');
    const userOptions = `--require ${path.join(fixtures, 'user-preload.js')} --max-old-space-size=200`;
    const r = await exec(process.execPath, [path.join(spaced, 'cli.js'), 'run', '--quiet', '--out', out, '--', 'node', path.join(fixtures, 'show-node-options.js')], {
      env: { ...env, NODE_OPTIONS: userOptions },
    });
    assert.equal(r.code, 0, r.stderr);
    // Once in the CLI's own node (it inherits NODE_OPTIONS too), at least once in the command.
    // (Node 20 also runs --require preloads in the ESM hooks thread the runtime starts.)
    assert.ok(r.stderr.split('\n').filter((l) => l === 'user preload ran').length >= 2, r.stderr);
    const seen = JSON.parse(r.stdout) as string;
    assert.ok(seen.startsWith(`--require "${path.join(spaced, 'runtime', 'preload.js')}"`), seen);
    assert.ok(seen.endsWith(userOptions), seen);
    assert.equal(fn(readReport(out), 'show').calls, 1);
  });

  it('--exclude and --include pick the measured files', async () => {
    const script = path.join(fixtures, 'two-processes.js');
    const excluded = path.join(tmp, 'excluded.json');
    await cli(['run', '--quiet', '--exclude', '**/two-processes.js', '--out', excluded, '--', 'node', script], { env });
    assert.deepEqual(readReport(excluded).functions, []);
    const included = path.join(tmp, 'included.json');
    await cli(['run', '--quiet', '--include', 'test/fixtures/cli/*.js', '--out', included, '--', 'node', script], { env });
    assert.equal(fn(readReport(included), 'work').calls, 15);
  });

  it('settings inherited from an outer perf-lens session do not leak into this one', async () => {
    const out = path.join(tmp, 'outer.json');
    const r = await cli(['run', '--quiet', '--out', out, '--', 'node', path.join(fixtures, 'two-processes.js')], {
      env: { ...env, PERF_LENS_EXCLUDE: '["**"]', PERF_LENS_MODE: 'count', PERF_LENS_SOCKET: '/nonexistent/outer.sock', PERF_LENS_TOKEN: 'outer' },
    });
    assert.equal(r.code, 0, r.stderr);
    const work = fn(readReport(out), 'work');
    assert.equal(work.calls, 15);
    assert.equal(work.timedCalls, 15, 'adaptive (the default), not the outer count mode');
  });

  it('the user\'s own transform cache dir (PERF_LENS_CACHE_DIR) reaches the measured program', async () => {
    const cacheDir = path.join(tmp, 'user-cache');
    const out = path.join(tmp, 'cache.json');
    const r = await cli(['run', '--quiet', '--out', out, '--', 'node', path.join(fixtures, 'two-processes.js')], {
      env: { ...env, PERF_LENS_CACHE_DIR: cacheDir },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fn(readReport(out), 'work').calls, 15);
    assert.ok(fs.readdirSync(cacheDir, { recursive: true }).length > 0, 'transformed files were cached in the given dir');
  });

  it('Ctrl-C (SIGINT to the whole process group): the CLI survives, exits 130 and writes the report', async function () {
    if (process.platform === 'win32') this.skip();
    const out = path.join(tmp, 'sigint.json');
    const code = await new Promise<number | null>((resolve, reject) => {
      // detached: a new process group, like a shell job; the "terminal" signals the group.
      const c = spawn(process.execPath, [cliPath, 'run', '--quiet', '--out', out, '--', 'node', path.join(fixtures, 'wait-forever.js')], {
        env, detached: true, stdio: ['ignore', 'pipe', 'inherit'],
      });
      c.stdout.on('data', (d: Buffer) => {
        if (String(d).includes('ready')) setTimeout(() => process.kill(-c.pid!, 'SIGINT'), 300);
      });
      c.once('error', reject);
      c.once('exit', (exitCode) => resolve(exitCode));
    });
    assert.equal(code, 130);
    const report = readReport(out);
    assert.equal(report.run.signal, 'SIGINT');
    assert.ok(fn(report, 'tick').calls >= 3, 'the data sent before the interrupt is in the report');
  });

  it('the report records a failing exit code and a death by signal', async () => {
    const failed = path.join(tmp, 'exit3.json');
    const r3 = await cli(['run', '--quiet', '--out', failed, '--', 'node', path.join(fixtures, 'exit-three.js')], { env });
    assert.equal(r3.code, 3);
    const rep3 = readReport(failed);
    assert.equal(rep3.run.exitCode, 3);
    const fail = fn(rep3, 'fail');
    assert.deepEqual([fail.calls, fail.errors], [1, 1]);
    const killed = path.join(tmp, 'term.json');
    const r143 = await cli(['run', '--quiet', '--out', killed, '--', 'node', path.join(fixtures, 'self-term.js')], { env });
    assert.equal(r143.code, 143);
    const rep = readReport(killed);
    assert.equal(rep.run.exitCode, 143);
    assert.equal(rep.run.signal, 'SIGTERM');
  });
});
