import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cleanEnv, cli, cliPath, exec, fixtures, root } from './cli-helpers';
import { nodeVersionProblem } from '../../src/cli/node-version';
import { exitStatus } from '../../src/cli/run';
import { planSpawn, resolveOnWindowsPath } from '../../src/cli/command-line';

const reportFixture = path.join(fixtures, 'primes-report.json');
const env = cleanEnv();

function tmpFile(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-cli-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('cli: arguments, help, version', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await cli(['--version'], { env });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('--help lists the commands; run --help shows the -- <command> usage', async () => {
    const r = await cli(['--help'], { env });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: perf-lens \[options\] \[command\]/);
    assert.match(r.stdout, /run \[options\] <command\.\.\.>/);
    assert.match(r.stdout, /report \[options\] <report\.json>/);
    const run = await cli(['run', '--help'], { env });
    assert.equal(run.code, 0);
    assert.match(run.stdout, /Usage: perf-lens run \[options\] -- <command> \[args\.\.\.\]/);
    for (const flag of ['--out', '--quiet', '--format', '--mode', '--include-node-modules', '--include', '--exclude']) {
      assert.ok(run.stdout.includes(flag), `run --help mentions ${flag}`);
    }
  });

  const bad: [string, string[], RegExp][] = [
    ['no command at all', [], /Usage: perf-lens/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['run without a command', ['run'], /missing required argument 'command'/],
    ['run with a bad --format', ['run', '--format', 'xml', '--', 'node', '-e', '0'], /argument 'xml' is invalid\. Allowed choices are table, json, csv, md/],
    ['run with a bad --mode', ['run', '--mode', 'fast', '--', 'node', '-e', '0'], /Allowed choices are adaptive, full, sampled, count/],
    ['run with --top 0', ['run', '--top', '0', '--', 'node', '-e', '0'], /--top must be a positive integer/],
    ['an unknown option', ['run', '--bogus', '--', 'node', '-e', '0'], /unknown option '--bogus'/],
    ['report without a file', ['report'], /missing required argument 'report\.json'/],
  ];
  for (const [name, args, want] of bad) {
    it(`${name}: exit 2 with a usage message`, async () => {
      const r = await cli(args, { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, want);
      assert.match(r.stderr, /perf-lens/);
      assert.equal(r.stdout, '');
    });
  }

  it('the Node.js version check names the requirement', () => {
    assert.equal(nodeVersionProblem('20.20.2'), null);
    assert.equal(nodeVersionProblem('18.19.0'), null);
    assert.equal(nodeVersionProblem('v22.0.0'), null);
    assert.match(nodeVersionProblem('18.18.2') ?? '', /Node\.js 18\.19\.0 or newer is required to run perf-lens; this is v18\.18\.2/);
    assert.match(nodeVersionProblem('v16.20.0') ?? '', /this is v16\.20\.0/);
  });

  it('maps a death by signal to 128 + the signal number', () => {
    assert.equal(exitStatus(3, null), 3);
    assert.equal(exitStatus(null, 'SIGTERM'), 143);
    assert.equal(exitStatus(null, 'SIGKILL'), 137);
    assert.equal(exitStatus(null, 'SIGINT'), 130);
  });
});

describe('cli: report', () => {
  for (const format of ['table', 'json', 'csv', 'md'] as const) {
    it(`re-renders a saved report as ${format} on stdout`, async () => {
      const r = await cli(['report', reportFixture, '--format', format], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const saved = JSON.parse(fs.readFileSync(reportFixture, 'utf8')) as { functions: { name: string; calls: number }[] };
      if (format === 'json') {
        assert.deepEqual(JSON.parse(r.stdout), saved);
      } else if (format === 'csv') {
        const lines = r.stdout.trimEnd().split('\r\n');
        assert.equal(lines.length, saved.functions.length + 1);
        assert.ok(lines.some((l) => l.startsWith('isPrime,') && l.includes(',199998,')));
      } else {
        assert.match(r.stdout, /isPrime/);
        assert.match(r.stdout, /199,998/);
        assert.match(r.stdout, format === 'md' ? /^\| Function \| Location \|/m : /^Function\s+Location\s+Calls/m);
        assert.equal(r.stdout.includes('\x1b['), false, 'no colours when stdout is not a TTY');
      }
    });
  }

  it('the table is the default format', async () => {
    const r = await cli(['report', reportFixture], { env });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Function\s+Location\s+Calls\s+Avg\s+p50\s+p95\s+p99\s+Max\s+Total\s+% run$/m);
  });

  it('a missing report: exit 2 naming the file', async () => {
    const r = await cli(['report', '/nonexistent/perf.json'], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read \/nonexistent\/perf\.json: no such file/);
  });

  it('a report that is not JSON: exit 2', async () => {
    const r = await cli(['report', tmpFile('bad.json', '{"schemaVersion": 1, "run": ')], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a valid Perf Lens report: not valid JSON/);
  });

  it('a malformed report: exit 2 naming the property', async () => {
    const saved = JSON.parse(fs.readFileSync(reportFixture, 'utf8')) as { functions: { calls: number }[] };
    saved.functions[3].calls = -5;
    const r = await cli(['report', tmpFile('neg.json', JSON.stringify(saved))], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /functions\[3\]\.calls: must be a non-negative integer \(got -5\)/);
  });

  it('a report of another schema version: exit 2 saying so', async () => {
    const r = await cli(['report', tmpFile('v9.json', '{"schemaVersion": 9}')], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /schemaVersion: 9 is not supported \(this perf-lens reads version 1\)/);
  });
});

describe('cli: run passes the program through untouched', () => {
  it('exit codes pass through (exit 3)', async () => {
    const r = await cli(['run', '--quiet', '--', 'node', '-e', 'process.exit(3)'], { env });
    assert.equal(r.code, 3);
  });

  it('a command that kills itself with SIGTERM: exit 143', async () => {
    const r = await cli(['run', '--quiet', '--', 'node', path.join(fixtures, 'self-term.js')], { env });
    assert.equal(r.code, 143);
    assert.equal(r.signal, null, 'the CLI exits normally with the mapped code');
    assert.equal(r.stdout, 'about to die\n');
  });

  it('stdin reaches the command and its stdout comes back byte for byte', async () => {
    const input = Buffer.concat([Buffer.from('line 1\nünïcödé ✓\n'), Buffer.from([0, 1, 2, 255, 10]), Buffer.alloc(200_000, 'x')]);
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath, 'run', '--quiet', '--', 'node', path.join(fixtures, 'stdin-echo.js')], { env });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => chunks.push(d));
      child.once('error', reject);
      child.once('close', () => resolve(Buffer.concat(chunks)));
      child.stdin.end(input);
    });
    assert.ok(raw.equals(input), 'stdout bytes equal stdin bytes');
  });

  it('--quiet: stdout and stderr are identical to a bare run (including a stack trace)', async () => {
    const script = path.join(fixtures, 'both-streams.js');
    const bare = await exec(process.execPath, [script, '4'], { env });
    const measured = await cli(['run', '--quiet', '--', 'node', script, '4'], { env });
    assert.equal(bare.code, 4);
    assert.equal(measured.code, 4);
    assert.equal(measured.stdout, bare.stdout);
    assert.equal(measured.stderr, bare.stderr);
    assert.match(bare.stderr, /both-streams\.js:5:15\)/, 'the stack trace is in the compared output');
  });

  it('when the collector cannot start, the command still runs (unmeasured) with one warning', async function () {
    if (process.platform === 'win32') this.skip();
    const loud = await cli(['run', '--', 'node', '-e', 'console.log("ran"); process.exitCode = 5'], { env: { ...env, TMPDIR: '/nonexistent-perf-lens-dir' } });
    assert.equal(loud.code, 5);
    assert.equal(loud.stdout, 'ran\n');
    assert.match(loud.stderr, /^perf-lens: cannot open the collector socket \(.*\); the command runs unmeasured$/m);
    const quiet = await cli(['run', '--quiet', '--', 'node', '-e', 'console.log("ran")'], { env: { ...env, TMPDIR: '/nonexistent-perf-lens-dir' } });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');
  });

  it('a command that does not exist: exit 127 with a clear message', async () => {
    const r = await cli(['run', '--quiet', '--', 'no-such-program-perf-lens'], { env });
    assert.equal(r.code, 127);
    assert.match(r.stderr, /perf-lens: cannot run "no-such-program-perf-lens": command not found/);
  });

  it('an unwritable --out fails before the command runs (exit 2)', async () => {
    const r = await cli(['run', '--out', '/dev/null/report.json', '--', 'node', '-e', 'console.log("ran")'], { env });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '', 'the command did not run');
    assert.match(r.stderr, /cannot write the report to \/dev\/null\/report\.json/);
  });

  it('a SIGTERM sent only to the CLI is forwarded to the command (exit 143); SIGINT to the CLI alone is ignored', async function () {
    if (process.platform === 'win32') this.skip();
    let sawReady!: () => void;
    const ready = new Promise<void>((r) => (sawReady = r));
    const result = cli(['run', '--quiet', '--', 'node', path.join(fixtures, 'wait-forever.js')], {
      env,
      onSpawn: (child) => {
        child.stdout!.on('data', (d: Buffer) => {
          if (String(d).includes('ready')) sawReady();
        });
        void ready.then(async () => {
          child.kill('SIGINT'); // only the CLI: it must survive and keep waiting
          await new Promise((r) => setTimeout(r, 200));
          child.kill('SIGTERM');
        });
      },
    });
    const r = await result;
    assert.equal(r.signal, null, `the CLI was not killed by a signal (${r.signal})`);
    assert.equal(r.code, 143);
  });
});

describe('cli: spawning on Windows (pure planning, checked on every OS)', () => {
  const env = { PATH: 'C:\\Program Files\\nodejs;C:\\Windows', PATHEXT: '.COM;.EXE;.BAT;.CMD' };
  const files = new Set(['C:\\Program Files\\nodejs\\npm.cmd', 'C:\\Program Files\\nodejs\\node.exe']);
  const exists = (p: string): boolean => files.has(p);

  it('runs programs directly everywhere else, and .exe files directly on Windows', () => {
    assert.deepEqual(planSpawn(['npm', 'run', 'x'], 'linux', env, exists), { file: 'npm', args: ['run', 'x'], shell: false });
    assert.deepEqual(planSpawn(['node', 'a.js'], 'win32', env, exists), { file: 'node', args: ['a.js'], shell: false });
  });

  it('runs .cmd shims such as npm through cmd.exe with every argument escaped', () => {
    const plan = planSpawn(['npm', 'run', 'a b', 'x&y', '%PATH%'], 'win32', env, exists);
    assert.equal(plan.shell, true);
    assert.equal(plan.file, 'C:\\Program^ Files\\nodejs\\npm.cmd');
    assert.deepEqual(plan.args, ['^^^"run^^^"', '^^^"a^^^ b^^^"', '^^^"x^^^&y^^^"', '^^^"^^^%PATH^^^%^^^"']);
    assert.equal(resolveOnWindowsPath('nope', env, exists), undefined);
    assert.equal(resolveOnWindowsPath('C:\\Program Files\\nodejs\\npm', env, exists), 'C:\\Program Files\\nodejs\\npm.cmd');
  });
});
