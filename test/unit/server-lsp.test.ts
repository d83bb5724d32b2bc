/**
 * The insight server end to end: the built server over stdio, a plain JSON-RPC LSP client, a real
 * program run with the env the server hands out, real sockets, real files.
 */
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { parseReportText } from '../../src/model/report-schema';
import type * as P from '../../src/protocol/lsp';
import { ROOT, TestClient } from './server-client';

const PRIMES = path.join(ROOT, 'examples/primes/main.js');
const PRIMES_URI = `file://${PRIMES}`;
const CRASH = path.join(ROOT, 'test/fixtures/server/crash.js');

interface Lens {
  range: { start: { line: number; character: number } };
  command: { title: string; command: string; arguments: [P.ShowDetailsArgs] };
}
interface HoverResult {
  contents: { kind: string; value: string };
}

function runNode(file: string, env: Record<string, string>): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function lensOn(lenses: Lens[] | null, name: string): Lens | undefined {
  return (lenses ?? []).find((l) => l.command.arguments[0].key.name === name);
}

function notificationsOf(client: TestClient, kind: P.SessionChangeKind): P.SessionChangedParams[] {
  return client.notifications
    .filter((n) => n.method === 'perfLens/sessionChanged')
    .map((n) => n.params as P.SessionChangedParams)
    .filter((p) => p.kind === kind);
}

describe('insight server over LSP (real server process, real program)', function () {
  this.timeout(120_000);
  let workspace: string;
  let storage: string;
  let client: TestClient | undefined;

  before(() => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-ws-'));
    storage = path.join(workspace, 'storage');
  });

  afterEach(async () => {
    await client?.stop();
    client = undefined;
  });

  after(() => fs.rmSync(workspace, { recursive: true, force: true }));

  it('live lenses over isPrime, hover, edits move them, changed text is stale, the run is saved and comes back after a restart', async () => {
    client = TestClient.start();
    const init = await client.initialize(workspace, { storageDir: storage, settings: { perfLens: { lens: { minCalls: 1 } } } });
    assert.deepEqual((init.capabilities as { experimental: unknown }).experimental, { perfLens: { protocol: 1 } });
    const text = fs.readFileSync(PRIMES, 'utf8');
    await client.notify('textDocument/didOpen', { textDocument: { uri: PRIMES_URI, languageId: 'javascript', version: 1, text } });

    const session = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'primes', nodeOptions: '--max-old-space-size=512' });
    assert.equal(fs.statSync(path.dirname(session.socketPath)).mode & 0o777, 0o700, 'private socket directory');
    assert.match(session.env.NODE_OPTIONS, /^--require \S+dist\/runtime\/preload\.js --max-old-space-size=512$/);
    assert.equal(session.env.PERF_LENS_TOKEN, session.token);
    assert.equal(session.env.PERF_LENS_SOCKET, session.socketPath);

    // A connection with a wrong token is dropped, and the client hears about it.
    const intruder = net.connect({ path: session.socketPath });
    await new Promise<void>((resolve) => intruder.once('connect', () => resolve()));
    intruder.write(`${JSON.stringify({ type: 'hello', protocol: 1, token: 'wrong', pid: 1234, ppid: 1, threadId: 0, argv: [], execArgv: [], cwd: '/', node: 'v20', mode: 'full', startedAt: Date.now() })}\n`);
    await new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    const rejected = await client.waitFor('connectionRejected', () => notificationsOf(client!, 'connectionRejected')[0]);
    assert.match(rejected.message, /wrong token/);

    const run = await runNode(PRIMES, session.env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'primes below 200000: 17984\nmean prime: 95062.3, mean gap: 11.12\n');

    // Like an editor: wait for the server to ask for a refresh, then ask for lenses.
    await client.waitFor('workspace/codeLens/refresh', () => (client!.refreshes > 0 ? true : undefined));
    const lenses = await client.waitFor('a lens over isPrime with every call counted', async () => {
      const ls = await client!.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
      return lensOn(ls, 'isPrime')?.command.title.includes('199,998 calls') ? ls : undefined;
    });
    const isPrime = lensOn(lenses, 'isPrime')!;
    assert.deepEqual(isPrime.range.start, { line: 3, character: 0 }, 'line 4 of the file');
    assert.match(isPrime.command.title, /^avg \d[\d.,]* (ns|µs|ms) · p95 \d[\d.,]* (ns|µs|ms) · 199,998 calls( · sampled)?$/);
    assert.equal(isPrime.command.command, 'perfLens.showDetails');
    assert.deepEqual(isPrime.command.arguments[0].key, { file: PRIMES, line: 4, column: 1, name: 'isPrime' });
    assert.equal(isPrime.command.arguments[0].sessionId, session.sessionId);
    assert.equal(lensOn(lenses, 'primesBelow')?.range.start.line, 11);
    assert.match(lensOn(lenses, 'primesBelow')!.command.title, / · 1 call$/);

    const hover = await client.request<HoverResult>('textDocument/hover', { textDocument: { uri: PRIMES_URI }, position: { line: 3, character: 12 } });
    assert.equal(hover.contents.kind, 'markdown');
    for (const part of ['**isPrime**', '199,998 calls', '| avg | min | p50 | p95 | p99 | max |', 'total ', 'self ', 'of run', '```text', '│']) {
      assert.ok(hover.contents.value.includes(part), `hover has ${part}:\n${hover.contents.value}`);
    }
    assert.equal(await client.request('textDocument/hover', { textDocument: { uri: PRIMES_URI }, position: { line: 5, character: 4 } }), null, 'no hover inside the body');

    const details = await client.request<P.FunctionDetailsResult>('perfLens/functionDetails', { key: isPrime.command.arguments[0].key });
    assert.equal(details.function?.calls, 199_998);
    assert.equal(details.sessionId, session.sessionId);

    // Two lines inserted above: every lens moves down by two, none is stale.
    await client.notify('textDocument/didChange', {
      textDocument: { uri: PRIMES_URI, version: 2 },
      contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// one\n// two\n' }],
    });
    let ls = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
    assert.equal(lensOn(ls, 'isPrime')?.range.start.line, 5);
    assert.equal(lensOn(ls, 'primesBelow')?.range.start.line, 13);
    assert.ok(!lensOn(ls, 'isPrime')!.command.title.startsWith('~'));

    // isPrime's own text changes (`n < 2` -> `n <= 1` on its first body line): stale; its neighbours are not.
    await client.notify('textDocument/didChange', {
      textDocument: { uri: PRIMES_URI, version: 3 },
      contentChanges: [{ range: { start: { line: 6, character: 6 }, end: { line: 6, character: 11 } }, text: 'n <= 1' }],
    });
    ls = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
    assert.match(lensOn(ls, 'isPrime')!.command.title, /^~ avg .* 199,998 calls/);
    assert.equal(lensOn(ls, 'isPrime')!.range.start.line, 5);
    assert.ok(!lensOn(ls, 'primesBelow')!.command.title.startsWith('~'));
    const staleHover = await client.request<HoverResult>('textDocument/hover', { textDocument: { uri: PRIMES_URI }, position: { line: 5, character: 10 } });
    assert.match(staleHover.contents.value, /changed since measured/);

    // Undo: the text matches what ran again.
    await client.notify('textDocument/didChange', {
      textDocument: { uri: PRIMES_URI, version: 4 },
      contentChanges: [{ range: { start: { line: 6, character: 6 }, end: { line: 6, character: 12 } }, text: 'n < 2' }],
    });
    ls = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
    assert.ok(!lensOn(ls, 'isPrime')!.command.title.startsWith('~'));

    // The attach file: 0600 in a 0700 directory, naming a listening socket.
    const attachFile = path.join(storage, 'attach.json');
    assert.equal(fs.statSync(storage).mode & 0o777, 0o700);
    assert.equal(fs.statSync(attachFile).mode & 0o777, 0o600);
    const attach = JSON.parse(fs.readFileSync(attachFile, 'utf8')) as P.AttachFile;
    assert.equal(attach.version, 1);
    assert.equal(attach.pid, client.proc.pid);
    assert.match(attach.token, /^[0-9a-f]{64}$/);

    const ended = await client.request<P.EndSessionResult>('perfLens/endSession', { sessionId: session.sessionId, exitCode: 0 });
    assert.ok(ended.runFile, 'a run file was written');
    assert.equal(path.dirname(ended.runFile), path.join(workspace, '.perf-lens', 'runs'));
    const saved = parseReportText(fs.readFileSync(ended.runFile, 'utf8'));
    assert.equal(saved.functions.find((f) => f.name === 'isPrime')?.calls, 199_998);
    assert.equal(saved.run.exitCode, 0);
    assert.equal(notificationsOf(client, 'ended')[0].runFile, ended.runFile);
    assert.ok(!fs.existsSync(session.socketPath), 'the session socket is gone');

    const runs = await client.request<P.ListRunsResult>('perfLens/listRuns');
    assert.equal(runs.runs.length, 1);
    assert.equal(runs.runs[0].file, ended.runFile);
    const csv = await client.request<P.ExportResult>('perfLens/export', { format: 'csv' });
    assert.match(csv.content, /^name,file,line,column,kind,calls/);
    assert.match(csv.content, /isPrime,\S+main\.js,4,1,sync,199998,/);
    const md = await client.request<P.ExportResult>('perfLens/export', { format: 'md', path: path.join(workspace, 'out', 'run.md') });
    assert.equal(fs.readFileSync(path.join(workspace, 'out', 'run.md'), 'utf8'), md.content);
    await assert.rejects(client.request('perfLens/export', { format: 'xml' }), /export format must be json, csv or md/);

    await client.stop();
    assert.ok(!fs.existsSync(attachFile), 'the attach file is removed at shutdown');

    // A new server on the same workspace shows the last run's lenses at once.
    client = TestClient.start();
    await client.initialize(workspace, { storageDir: storage });
    await client.notify('textDocument/didOpen', { textDocument: { uri: PRIMES_URI, languageId: 'javascript', version: 1, text } });
    const again = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
    assert.match(lensOn(again, 'isPrime')!.command.title, /199,998 calls/);
    assert.equal(lensOn(again, 'isPrime')!.range.start.line, 3);
    const list = await client.request<P.ListSessionsResult>('perfLens/listSessions');
    assert.equal(list.selected, `run:${path.basename(ended.runFile, '.json')}`);
    assert.equal(list.automatic, true);

    // The run recorded the text it measured, so a run whose file changed since says so. (The
    // example must stay as it is: the run's record of isPrime is changed instead.)
    assert.match(saved.functions.find((f) => f.name === 'isPrime')?.sourceHash ?? '', /^[0-9a-f]{8}:\d+$/);
    assert.ok(!lensOn(again, 'isPrime')!.command.title.startsWith('~'), 'the file is as it was measured');
    await client.stop();
    const runJson = JSON.parse(fs.readFileSync(ended.runFile, 'utf8')) as { functions: { name: string; sourceHash?: string }[] };
    runJson.functions.find((f) => f.name === 'isPrime')!.sourceHash = '00000000:1';
    fs.writeFileSync(ended.runFile, JSON.stringify(runJson));
    client = TestClient.start();
    await client.initialize(workspace, { storageDir: storage });
    await client.notify('textDocument/didOpen', { textDocument: { uri: PRIMES_URI, languageId: 'javascript', version: 1, text } });
    const changed = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
    assert.match(lensOn(changed, 'isPrime')!.command.title, /^~ avg .* 199,998 calls/);
    assert.equal(lensOn(changed, 'isPrime')!.range.start.line, 3);
    assert.ok(!lensOn(changed, 'primesBelow')!.command.title.startsWith('~'));
  });

  it('at shutdown removes the private socket of every live session, measured or not', async () => {
    client = TestClient.start();
    await client.initialize(workspace);
    const idle = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'nothing ran' });
    const measured = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'primes' });
    assert.equal((await runNode(PRIMES, measured.env)).code, 0);
    for (const s of [idle, measured]) assert.ok(fs.existsSync(s.socketPath));
    await client.stop();
    client = undefined;
    for (const s of [idle, measured]) assert.equal(fs.existsSync(path.dirname(s.socketPath)), false, `${s.socketPath} left behind`);
  });

  it('keeps the data of a killed program, says so, and keeps sessions apart', async () => {
    client = TestClient.start();
    await client.initialize(workspace);
    const crashUri = `file://${CRASH}`;
    await client.notify('textDocument/didOpen', { textDocument: { uri: crashUri, languageId: 'javascript', version: 1, text: fs.readFileSync(CRASH, 'utf8') } });
    await client.notify('textDocument/didOpen', { textDocument: { uri: PRIMES_URI, languageId: 'javascript', version: 1, text: fs.readFileSync(PRIMES, 'utf8') } });

    const a = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'crashing' });
    const b = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'primes again' });
    assert.notEqual(a.socketPath, b.socketPath);
    assert.notEqual(a.token, b.token);

    const crashed = await runNode(CRASH, a.env);
    assert.equal(crashed.signal, 'SIGKILL');
    const note = await client.waitFor('processCrashed', () => notificationsOf(client!, 'processCrashed')[0]);
    assert.equal(note.sessionId, a.sessionId);
    assert.match(note.message, /ended abruptly .*data received so far is kept/);
    const spin = await client.waitFor('lens over spin', async () => lensOn(await client!.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: crashUri } }), 'spin'));
    assert.equal(spin.range.start.line, 4);
    assert.equal(spin.command.arguments[0].sessionId, a.sessionId);

    const run = await runNode(PRIMES, b.env);
    assert.equal(run.code, 0, run.stderr);
    // The most recent live session with data is shown by default...
    await client.waitFor('lenses from the second session', async () => {
      const l = lensOn(await client!.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } }), 'isPrime');
      return l?.command.title.includes('199,998 calls') ? l : undefined;
    });
    assert.deepEqual(await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: crashUri } }), []);
    // ...and the user can pick the other one.
    const sel = await client.request<P.ListSessionsResult>('perfLens/selectSession', { sessionId: a.sessionId });
    assert.equal(sel.selected, a.sessionId);
    assert.equal(sel.automatic, false);
    const crashInfo = sel.sessions.find((s) => s.id === a.sessionId)!;
    assert.equal(crashInfo.processes[0].state, 'crashed');
    assert.equal(crashInfo.processes[0].reason, 'disconnected');
    assert.ok(lensOn(await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: crashUri } }), 'spin'));
    assert.deepEqual(await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } }), []);

    const endA = await client.request<P.EndSessionResult>('perfLens/endSession', { sessionId: a.sessionId, graceMs: 100 });
    assert.ok(endA.runFile && fs.existsSync(endA.runFile));
    // The saved run says how the process ended, as the live session did.
    const saved = JSON.parse(fs.readFileSync(endA.runFile, 'utf8')) as { processes: { pid: number; exitReason: string | null }[] };
    assert.deepEqual(saved.processes.map((p) => p.exitReason), ['disconnected']);
    await assert.rejects(client.request('perfLens/endSession', { sessionId: a.sessionId }), /no live session/);
  });

  it('a program the user stopped is saved as stopped; one that died before the stop stays a crash', async () => {
    client = TestClient.start();
    await client.initialize(workspace);
    // The client (the extension) knows when the user pressed Stop; the server only sees connections drop.
    const crashed = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'died, then stopped' });
    assert.equal((await runNode(CRASH, crashed.env)).signal, 'SIGKILL');
    const stopped = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'stopped while running' });
    const stoppedAt = Date.now();
    assert.equal((await runNode(CRASH, stopped.env)).signal, 'SIGKILL'); // as js-debug kills it after a Stop
    const reasons = async (session: P.StartSessionResult, at: number) => {
      const end = await client!.request<P.EndSessionResult>('perfLens/endSession', { sessionId: session.sessionId, graceMs: 100, stoppedAt: at });
      assert.ok(end.runFile);
      const saved = JSON.parse(fs.readFileSync(end.runFile, 'utf8')) as { processes: { exitReason: string | null }[] };
      const info = (await client!.request<P.ListSessionsResult>('perfLens/listSessions')).sessions.find((x) => x.id === session.sessionId)!;
      return { saved: saved.processes.map((x) => x.exitReason), listed: info.processes.map((x) => `${x.state} (${x.reason})`) };
    };
    assert.deepEqual(await reasons(crashed, Date.now()), { saved: ['disconnected'], listed: ['crashed (disconnected)'] });
    assert.deepEqual(await reasons(stopped, stoppedAt), { saved: ['stopped'], listed: ['exited (stopped)'] });
  });

  it('measures a process started outside the editor through the attach file; settings change the lenses live', async () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-ws-attach-'));
    try {
      const store = path.join(ws, 'private');
      client = TestClient.start();
      await client.initialize(ws, { storageDir: store, settings: { perfLens: { lens: { format: '{count}x avg {avg}' } } } });
      await client.notify('textDocument/didOpen', { textDocument: { uri: PRIMES_URI, languageId: 'javascript', version: 1, text: fs.readFileSync(PRIMES, 'utf8') } });
      const attach = await client.waitFor('the attach file', () => (fs.existsSync(path.join(store, 'attach.json')) ? (JSON.parse(fs.readFileSync(path.join(store, 'attach.json'), 'utf8')) as P.AttachFile) : undefined));
      // What `perf-lens run` (or a user) does with it: point the runtime at the server's socket.
      const run = await runNode(PRIMES, {
        NODE_OPTIONS: `--require ${path.join(ROOT, 'dist/runtime/preload.js')}`,
        PERF_LENS_SOCKET: attach.socket,
        PERF_LENS_TOKEN: attach.token,
        PERF_LENS_SESSION: attach.session,
      });
      assert.equal(run.code, 0, run.stderr);
      const saved = await client.waitFor('runSaved', () => notificationsOf(client!, 'runSaved')[0]);
      assert.equal(path.dirname(saved.runFile!), path.join(ws, '.perf-lens', 'runs'));
      let lenses = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
      assert.match(lensOn(lenses, 'isPrime')!.command.title, /^199,998x avg \d/);
      assert.ok(lensOn(lenses, 'primesBelow'));

      await client.notify('workspace/didChangeConfiguration', { settings: { perfLens: { lens: { minCalls: 2, format: 'n={count}' } } } });
      lenses = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
      assert.equal(lensOn(lenses, 'isPrime')!.command.title, 'n=199,998');
      assert.equal(lensOn(lenses, 'primesBelow'), undefined, 'below minCalls');

      // A new session with no data yet: the finished run's lenses stay instead of blinking away.
      const fresh = await client.request<P.StartSessionResult>('perfLens/startSession', { name: 'fresh' });
      await client.request('perfLens/selectSession', { sessionId: fresh.sessionId });
      lenses = await client.request<Lens[]>('textDocument/codeLens', { textDocument: { uri: PRIMES_URI } });
      assert.equal(lensOn(lenses, 'isPrime')!.command.title, 'n=199,998');

      const pruned = await client.request<P.PruneRunsResult>('perfLens/pruneRuns', { keep: 0 });
      assert.deepEqual(pruned.deleted, [saved.runFile]);
    } finally {
      await client?.stop();
      client = undefined;
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});
