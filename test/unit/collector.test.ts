import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Collector, type CollectorConnection } from '../../src/collector/collector';
import { ReportBuilder } from '../../src/model/report';
import { ENV, PROTOCOL_VERSION, type RuntimeMessage } from '../../src/protocol/runtime';
import { connect as connectTo, hello, line, until } from './runtime-socket';
import { wireDelta } from './wire-delta';

const connect = (c: Collector): Promise<net.Socket> => connectTo(c.socketPath);

interface Seen {
  messages: [number, RuntimeMessage][];
  closed: CollectorConnection[];
  logs: string[];
}

async function startCollector(extra: Partial<Parameters<typeof Collector.start>[0]> = {}): Promise<{ c: Collector; seen: Seen }> {
  const seen: Seen = { messages: [], closed: [], logs: [] };
  const c = await Collector.start({
    onMessage: (conn, msg) => seen.messages.push([conn.id, msg]),
    onClose: (conn) => seen.closed.push(conn),
    log: (m) => seen.logs.push(m),
    ...extra,
  });
  return { c, seen };
}

/** Resolves when the server side closes the socket. */
function closedByServer(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    s.on('error', () => undefined);
    s.once('close', () => resolve());
  });
}

describe('collector (real Unix socket / named pipe)', () => {
  const toClose: Collector[] = [];
  afterEach(async () => {
    for (const c of toClose.splice(0)) await c.close();
  });

  it('listens in a private 0700 directory, hands out env vars, and removes everything on close', async function () {
    if (process.platform === 'win32') this.skip(); // named pipes have no directory
    const { c } = await startCollector();
    const dir = path.dirname(c.socketPath);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.ok(fs.statSync(c.socketPath).isSocket());
    assert.match(c.token, /^[0-9a-f]{64}$/);
    assert.deepEqual(c.env(), { [ENV.socket]: c.socketPath, [ENV.token]: c.token, [ENV.session]: c.session });
    const other = await startCollector();
    toClose.push(other.c);
    assert.notEqual(other.c.token, c.token, 'a fresh token per session');
    await c.close();
    assert.equal(fs.existsSync(dir), false);
  });

  it('delivers messages after a valid hello, reassembling lines split anywhere (even inside UTF-8)', async () => {
    const { c, seen } = await startCollector();
    toClose.push(c);
    const s = await connect(c);
    const text =
      line(hello(c.token)) +
      line({ type: 'functions', defs: [{ id: 0, name: 'größe→λ', file: '/tmp/ü.js', line: 1, column: 1, kind: 'sync' }] }) +
      line({ type: 'bye', reason: 'exit', exitCode: 0 });
    const bytes = Buffer.from(text);
    // One byte at a time, with pauses, so chunks split JSON and multi-byte characters.
    for (let i = 0; i < bytes.length; i += 7) {
      s.write(bytes.subarray(i, i + 7));
      if (i % 70 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    s.end();
    await until(() => seen.closed.length === 1, 'close');
    assert.deepEqual(seen.messages.map(([, m]) => m.type), ['hello', 'functions', 'bye']);
    const fns = seen.messages[1][1] as Extract<RuntimeMessage, { type: 'functions' }>;
    assert.equal(fns.defs[0].name, 'größe→λ');
    assert.equal(seen.closed[0].hello.pid, 4242);
    assert.deepEqual(seen.logs, []);
  });

  for (const [name, first, why] of [
    // The last hex digit changed to a different one (appending a fixed digit would equal the token 1 time in 16).
    ['a wrong token', (t: string) => line(hello(`${t.slice(0, -1)}${t.endsWith('0') ? '1' : '0'}`)), /wrong token/],
    ['a missing token', () => line({ ...hello(''), token: undefined }), /wrong token/],
    ['an unknown protocol version', (t: string) => line(hello(t, 1, { protocol: 99 })), /protocol 99 is not supported/],
    ['a runtime of the previous protocol', (t: string) => line(hello(t, 1, { protocol: PROTOCOL_VERSION - 1 })), new RegExp(`protocol ${PROTOCOL_VERSION - 1} is not supported \\(expected ${PROTOCOL_VERSION}\\): the program loaded the runtime of another Perf Lens version`)],
    ['garbage instead of hello', () => 'GET / HTTP/1.1\r\n\r\n', /not a JSON object/],
    ['a non-hello first message', (t: string) => line({ type: 'delta', token: t, fns: [] }), /"delta", not "hello"/],
    ['a hello without pid', (t: string) => line({ ...hello(t), pid: 'x' }), /valid pid/],
  ] as const) {
    it(`drops a connection that starts with ${name}, logs it, and delivers nothing`, async () => {
      const { c, seen } = await startCollector();
      toClose.push(c);
      const s = await connect(c);
      const closed = closedByServer(s);
      s.write(first(c.token));
      s.write(line({ type: 'warning', message: 'should never arrive' }));
      await closed;
      assert.equal(seen.messages.length, 0);
      assert.equal(seen.closed.length, 0, 'never authenticated, so no onClose');
      assert.equal(seen.logs.length, 1);
      assert.match(seen.logs[0], /dropped runtime connection #1/);
      assert.match(seen.logs[0], why);
      await until(() => c.openConnections === 0, 'socket bookkeeping');
    });
  }

  it('tolerates garbage after the hello: skips it, logs once, keeps the connection', async () => {
    const { c, seen } = await startCollector();
    toClose.push(c);
    const s = await connect(c);
    s.write(line(hello(c.token)));
    s.write('{not json\n');
    s.write('42\n\n   \n');
    s.write('{"no":"type"}\n');
    s.write(line({ type: 'warning', message: 'still here' }));
    s.end();
    await until(() => seen.closed.length === 1, 'close');
    assert.deepEqual(seen.messages.map(([, m]) => m.type), ['hello', 'warning']);
    assert.equal(seen.logs.length, 1);
    assert.match(seen.logs[0], /ignored a malformed line from pid 4242/);
  });

  it('keeps every message of a large burst, in order (many lines per chunk, lines across chunks)', async () => {
    const { c, seen } = await startCollector();
    toClose.push(c);
    const s = await connect(c);
    const n = 20_000;
    let text = line(hello(c.token));
    for (let i = 0; i < n; i++) text += line({ type: 'warning', message: `m${i}`, file: 'x'.repeat(i % 300) });
    s.end(text);
    await until(() => seen.closed.length === 1, 'close', 10_000);
    assert.equal(seen.messages.length, n + 1);
    assert.ok(seen.messages.every(([, m], i) => i === 0 || (m as { message: string }).message === `m${i - 1}`), 'in order');
    assert.deepEqual(seen.logs, []);
  });

  it('survives abrupt disconnects and keeps a final line that lost its newline', async () => {
    const { c, seen } = await startCollector();
    toClose.push(c);
    const a = await connect(c);
    a.write(line(hello(c.token, 1)) + line({ type: 'warning', message: 'one' }) + '{"type":"warning","mess');
    await until(() => seen.messages.length === 2, 'first messages');
    a.destroy(); // mid-line, no FIN handshake from our side
    const b = await connect(c);
    b.end(line(hello(c.token, 2)) + JSON.stringify({ type: 'bye', reason: 'SIGTERM' }));
    await until(() => seen.closed.length === 2, 'both closes');
    assert.deepEqual(seen.messages.map(([id, m]) => `${id}:${m.type}`), ['1:hello', '1:warning', '2:hello', '2:bye']);
  });

  it('drops connections that never say hello, or send an endless line', async () => {
    const { c, seen } = await startCollector({ helloTimeoutMs: 100, maxLineBytes: 1000 });
    toClose.push(c);
    const silent = await connect(c);
    await closedByServer(silent);
    assert.match(seen.logs[0], /no hello message in time/);
    const flood = await connect(c);
    const closed = closedByServer(flood);
    flood.write(line(hello(c.token)));
    flood.write('x'.repeat(5000));
    await closed;
    assert.match(seen.logs[1], /a line longer than 1000 bytes/);
  });

  it('waitForIdle: true once every connection closed, false after the timeout while one stays open', async () => {
    const { c } = await startCollector();
    toClose.push(c);
    assert.equal(await c.waitForIdle(1000), true, 'idle from the start');
    const s = await connect(c);
    s.write(line(hello(c.token)));
    await until(() => c.openConnections === 1, 'accept');
    const t0 = Date.now();
    assert.equal(await c.waitForIdle(150), false);
    assert.ok(Date.now() - t0 >= 140);
    const idle = c.waitForIdle(5000);
    setTimeout(() => s.end(), 50);
    assert.equal(await idle, true);
  });

  it('feeds a ReportBuilder from two real clients', async () => {
    const builder = new ReportBuilder();
    const c = await Collector.start({ onMessage: (conn, m) => builder.accept(conn.id, m), onClose: (conn) => builder.close(conn.id) });
    toClose.push(c);
    for (const pid of [11, 12]) {
      const s = await connect(c);
      s.end(
        line(hello(c.token, pid)) +
          line({ type: 'functions', defs: [{ id: 3, name: 'f', file: '/a.js', line: 2, column: 5, kind: 'sync' }] }) +
          line(wireDelta({ type: 'delta', at: 1, fns: [{ id: 3, calls: pid, errors: 0, timed: pid, totalNs: pid * 100, minNs: 100, maxNs: 100, hist: [35, pid] }] })) +
          line({ type: 'bye', reason: 'exit', exitCode: 0 }),
      );
    }
    assert.equal(await c.waitForIdle(3000), true);
    const r = builder.build({ command: ['x'], cwd: '/', startedAt: 0, wallMs: 1, exitCode: 0, node: 'v', pid: 11, mode: 'full' });
    assert.equal(r.functions.length, 1);
    assert.equal(r.functions[0].calls, 23);
    assert.deepEqual(r.functions[0].processes.map((p) => p.pid).sort(), [11, 12]);
    assert.deepEqual(r.processes.map((p) => p.exitReason), ['exit', 'exit']);
  });
});
