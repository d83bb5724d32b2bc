/**
 * `perf-lens run` with PERF_LENS_ATTACH_FILE: the built CLI relays its measurements to the built
 * insight server (real processes, real sockets) while still writing its own report; every broken
 * attach setup costs one warning and nothing else.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { parseAttachFile, relayedHello } from '../../src/cli/attach-relay';
import type { Report } from '../../src/model/report';
import type * as P from '../../src/protocol/lsp';
import type { RuntimeMessage } from '../../src/protocol/runtime';
import { cleanEnv, cli, exec, root } from './cli-helpers';
import { TestClient } from './server-client';

const PRIMES = path.join(root, 'examples/primes/main.js');
const PRIMES_URI = `file://${PRIMES}`;
const RELAY_WARNING = /PERF_LENS_ATTACH_FILE|relay the run/;

interface Lens {
  command: { title: string; arguments: [P.ShowDetailsArgs] };
}

function isPrimeCalls(reportFile: string): number | undefined {
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
  return report.functions.find((f) => f.name === 'isPrime')?.calls;
}

function relayWarnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => RELAY_WARNING.test(l));
}

/** A pid that surely names no process: one of a child that has exited. */
async function deadPid(): Promise<number> {
  let pid = 0;
  await exec(process.execPath, ['-e', ''], { onSpawn: (c) => (pid = c.pid!) });
  return pid;
}

describe('cli: run relays to the editor (PERF_LENS_ATTACH_FILE)', function () {
  this.timeout(120_000);
  let tmp: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-attach-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('attach file parsing', () => {
    const good = { version: 1, socket: '/tmp/s.sock', token: 'a'.repeat(64), session: 'attach', pid: 42 };

    it('accepts a well-formed file and names what is wrong otherwise', () => {
      assert.deepEqual(parseAttachFile(JSON.stringify(good)), good);
      assert.equal(parseAttachFile('{oops'), 'it is not JSON');
      assert.match(parseAttachFile('[1]') as string, /^version undefined is not supported/);
      assert.match(parseAttachFile(JSON.stringify({ ...good, version: 2 })) as string, /version 2 is not supported/);
      assert.equal(parseAttachFile(JSON.stringify({ ...good, token: 7 })), '"token" is missing');
      assert.equal(parseAttachFile(JSON.stringify({ ...good, pid: -1 })), '"pid" is missing');
      assert.equal(parseAttachFile('null'), 'it is not a JSON object');
    });

    it('puts the server token and session in the hello only', () => {
      const attach = good as P.AttachFile;
      const hello = { type: 'hello', protocol: 1, token: 'mine', session: 'cli', pid: 9 } as unknown as RuntimeMessage;
      assert.deepEqual(relayedHello(hello, attach), { ...hello, token: attach.token, session: 'attach' });
      const other = { type: 'bye' } as unknown as RuntimeMessage;
      assert.equal(relayedHello(other, attach), other);
    });
  });

  it('shows the run live in the insight server and still writes the same report', async () => {
    const ws = fs.mkdtempSync(path.join(tmp, 'ws-'));
    const store = path.join(ws, 'private');
    const attachFile = path.join(store, 'attach.json');
    const client = TestClient.start();
    try {
      await client.initialize(ws, { storageDir: store });
      await client.notify('textDocument/didOpen', { textDocument: { uri: PRIMES_URI, languageId: 'javascript', version: 1, text: fs.readFileSync(PRIMES, 'utf8') } });
      await client.waitFor('the attach file', () => (fs.existsSync(attachFile) ? true : undefined));

      const out = path.join(ws, 'r.json');
      const run = await cli(['run', '--quiet', '--out', out, '--', process.execPath, PRIMES], { env: cleanEnv({ PERF_LENS_ATTACH_FILE: attachFile }) });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '', 'nothing of ours with --quiet');

      const title = await client.waitFor('the isPrime lens', async () => {
        const lenses = await client.request<Lens[] | null>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
        const lens = (lenses ?? []).find((l) => l.command.arguments[0].key.name === 'isPrime');
        return lens && /199,998 calls/.test(lens.command.title) ? lens.command.title : undefined;
      });
      assert.match(title, /199,998 calls/);
      assert.equal(isPrimeCalls(out), 199_998, 'the CLI report is unchanged');
    } finally {
      await client.stop();
    }
  });

  it('a stale attach file (dead server pid): one warning, a normal run; none with --quiet', async () => {
    const file = path.join(tmp, 'stale.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, socket: path.join(tmp, 'gone.sock'), token: 'a'.repeat(64), session: 'attach', pid: await deadPid() }));
    const out = path.join(tmp, 'stale-r.json');
    const env = cleanEnv({ PERF_LENS_ATTACH_FILE: file });
    const run = await cli(['run', '--out', out, '--', process.execPath, PRIMES], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(relayWarnings(run.stderr).length, 1, run.stderr);
    assert.match(relayWarnings(run.stderr)[0], /^perf-lens: PERF_LENS_ATTACH_FILE=.* is ignored: it is stale: its server \(pid \d+\) is not running/);
    assert.equal(isPrimeCalls(out), 199_998);

    const quiet = await cli(['run', '--quiet', '--', process.execPath, PRIMES], { env });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');
  });

  it('a garbage or missing attach file: one warning, a normal run', async () => {
    const file = path.join(tmp, 'garbage.json');
    fs.writeFileSync(file, 'not { json');
    const out = path.join(tmp, 'garbage-r.json');
    const run = await cli(['run', '--out', out, '--', process.execPath, PRIMES], { env: cleanEnv({ PERF_LENS_ATTACH_FILE: file }) });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(relayWarnings(run.stderr), [`perf-lens: PERF_LENS_ATTACH_FILE=${file} is ignored: it is not JSON; the run is not shown in the editor`]);
    assert.equal(isPrimeCalls(out), 199_998);

    const missing = await cli(['run', '--', process.execPath, '-e', ''], { env: cleanEnv({ PERF_LENS_ATTACH_FILE: path.join(tmp, 'nope.json') }) });
    assert.equal(missing.code, 0);
    assert.equal(relayWarnings(missing.stderr).length, 1, missing.stderr);
    assert.match(missing.stderr, /it does not exist/);
  });

  it('a socket nobody listens on, or a server that hangs up mid-run: one warning, the same report', async () => {
    const token = 'b'.repeat(64);
    const refusedFile = path.join(tmp, 'refused.json');
    fs.writeFileSync(refusedFile, JSON.stringify({ version: 1, socket: path.join(tmp, 'nobody.sock'), token, session: 'attach', pid: process.pid }));
    const out = path.join(tmp, 'refused-r.json');
    const refused = await cli(['run', '--out', out, '--', process.execPath, PRIMES], { env: cleanEnv({ PERF_LENS_ATTACH_FILE: refusedFile }) });
    assert.equal(refused.code, 0, refused.stderr);
    assert.equal(relayWarnings(refused.stderr).length, 1, refused.stderr);
    assert.match(refused.stderr, /perf-lens: cannot relay the run to the editor \(nothing listens on .*nobody\.sock\)/);
    assert.equal(isPrimeCalls(out), 199_998);

    // A server that reads the hello (with its own token in it) and then drops the connection. The
    // program waits for that before it does its work, so the drop is mid-run however loaded the
    // machine is (had the server read the whole run in its first chunk, it would not have dropped
    // anything: no warning is due then).
    const sock = path.join(tmp, 'rude.sock');
    const dropped = path.join(tmp, 'rude-dropped');
    const hellos: string[] = [];
    const server = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        hellos.push(d.toString().split('\n')[0]);
        s.destroy();
        fs.writeFileSync(dropped, '');
      });
    });
    const afterTheDrop = `const fs = require('fs'); const until = Date.now() + 20000;
      (function wait() { if (fs.existsSync(${JSON.stringify(dropped)}) || Date.now() > until) setTimeout(() => require(${JSON.stringify(PRIMES)}), 50); else setTimeout(wait, 10); })();`;
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const rudeFile = path.join(tmp, 'rude.json');
      fs.writeFileSync(rudeFile, JSON.stringify({ version: 1, socket: sock, token, session: 'attach', pid: process.pid }));
      const rudeOut = path.join(tmp, 'rude-r.json');
      const rude = await cli(['run', '--out', rudeOut, '--', process.execPath, '-e', afterTheDrop], { env: cleanEnv({ PERF_LENS_ATTACH_FILE: rudeFile }) });
      assert.equal(rude.code, 0, rude.stderr);
      assert.equal(relayWarnings(rude.stderr).length, 1, rude.stderr);
      assert.match(rude.stderr, /cannot relay the run to the editor \((the insight server closed the connection|.*EPIPE|.*ECONNRESET)/);
      assert.equal(isPrimeCalls(rudeOut), 199_998);
      const hello = JSON.parse(hellos[0]) as { type: string; token: string; session: string };
      assert.deepEqual([hello.type, hello.token, hello.session], ['hello', token, 'attach']);
    } finally {
      server.close();
    }
  });
});
