// Attaching js-debug to a process Perf Lens already measures: a long-running program started with
// "Run Current File with Perf Lens" (perf-lens run relays it to the insight server's attach socket),
// then "Attach Debugger to a Measured Process" or a user-written attach configuration.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FunctionDetailsResult, ListSessionsResult, ProcessInfo, SessionInfo, ShowDetailsArgs } from '../../../src/protocol/lsp';
import { COMMAND, LENS_TITLE, closeEverything, debugToEnd, examplePath, launch, nextEvent, openInEditor, waitFor, waitForLens, workspaceFolder } from './helpers';

/** `work` runs every 2 ms, `slow` every 100 ms (rare enough to be timed on every call), until killed. */
const FIXTURE = `// Perf Lens attach fixture: runs until killed.
function work(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; }
function slow() {
  return work(10);
}
setInterval(() => work(1000), 2);
setInterval(() => slow(), 100);
`;
const WORK_LINE = 1;
const SLOW_LINE = 2;
const SLOW_BODY_LINE = 3;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const select = (sessionId: string | null) => vscode.commands.executeCommand<ListSessionsResult>('perfLens.selectSession', sessionId);

/** The session the lenses of `line` were computed from, once a lens is there. */
async function lensSession(uri: vscode.Uri, line: number, title: RegExp): Promise<string> {
  const lens = await waitForLens(uri, line, title);
  return (lens.command?.arguments?.[0] as ShowDetailsArgs).sessionId;
}

describe('Attach the debugger to a measured process', function () {
  this.timeout(180_000);
  let dir: string;
  let fixture: string;
  /** An ended debug session of main.js: explicitly selected before attaching, so a switch is visible. */
  let other: string;
  let pid: number | undefined;
  let terminal: vscode.Terminal | undefined;
  /** Debug sessions started and not yet ended. */
  const live = new Set<string>();
  const subscriptions: vscode.Disposable[] = [];

  /** Starts the fixture in the "Perf Lens" terminal; resolves with its measured process and live session. */
  async function startMeasured(): Promise<{ process: ProcessInfo; session: SessionInfo }> {
    // The terminal passes the attach file only once the server wrote it (with its "attached processes" session).
    await waitFor('the insight server\'s attach session', async () => ((await select(other)).sessions.some((s) => s.name === 'attached processes' && s.state === 'live') ? true : undefined));
    await openInEditor(fixture);
    terminal = await vscode.commands.executeCommand<vscode.Terminal | undefined>(COMMAND);
    assert.ok(terminal, `${COMMAND} refused to run the fixture`);
    const found = await waitFor(`a measured process running ${fixture}`, async () => {
      for (const session of (await select(other)).sessions) {
        const p = session.processes.find((x) => x.state === 'running' && x.argv.includes(fixture));
        if (p && session.state === 'live') return { process: p, session };
      }
      return undefined;
    }, 90_000);
    pid = found.process.pid;
    return found;
  }

  before(async () => {
    subscriptions.push(
      vscode.debug.onDidStartDebugSession((s) => live.add(s.id)),
      vscode.debug.onDidTerminateDebugSession((s) => live.delete(s.id)),
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-attach-'));
    fixture = path.join(dir, 'spin.js');
    fs.writeFileSync(fixture, FIXTURE);
    await closeEverything();
    const main = (await openInEditor(examplePath('main.js'))).document.uri;
    await debugToEnd(launch('Perf Lens IT: before attach', 'main.js'));
    other = await lensSession(main, 3, LENS_TITLE);
  });
  beforeEach(closeEverything);
  afterEach(async () => {
    // Every debug session a test started ends before its process is killed.
    await vscode.debug.stopDebugging();
    await waitFor('the debug sessions to end', () => (live.size === 0 ? true : undefined), 30_000);
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    const running = pid;
    pid = undefined;
    if (running !== undefined) {
      if (isAlive(running)) process.kill(running, 'SIGKILL');
      await waitFor(`process ${running} to exit`, () => (isAlive(running) ? undefined : true), 10_000);
    }
    terminal?.dispose();
    terminal = undefined;
    await closeEverything();
    await select(null);
  });
  after(() => {
    for (const d of subscriptions) d.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('"Attach Debugger to a Measured Process" ({ pid }) attaches js-debug and the lenses switch to that process', async () => {
    const { process: measured, session } = await startMeasured();
    const { document } = await openInEditor(fixture);
    const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === `Attach to ${measured.pid} (Perf Lens)` && !s.parentSession, `the attach session for pid ${measured.pid}`);
    const result = await vscode.commands.executeCommand<{ pid: number; sessionId: string; started: boolean }>('perfLens.attachToProcess', { pid: measured.pid });
    assert.deepEqual(result, { pid: measured.pid, sessionId: session.id, started: true });
    const debug = await started;
    assert.equal(debug.type, 'pwa-node');
    assert.equal(debug.configuration.request, 'attach');
    // js-debug really attached: its session for the process evaluates in the program.
    const child = await waitFor('js-debug\'s session of the attached process', () => {
      const s = vscode.debug.activeDebugSession;
      return s && s.parentSession?.id === debug.id ? s : undefined;
    }, 30_000);
    const evaluated = (await child.customRequest('evaluate', { expression: 'process.pid', context: 'repl' })) as { result: string };
    assert.equal(evaluated.result, String(measured.pid));
    // The lenses of the fixture come from the process's live session (main.js's was selected before).
    assert.equal(await lensSession(document.uri, WORK_LINE, /· [\d,]+ calls/), session.id);
    assert.ok(isAlive(measured.pid), 'the program still runs while attached');
  });

  it('a user-written attach configuration for a measured pid is linked, and time stopped at a breakpoint does not count', async () => {
    const { process: measured, session } = await startMeasured();
    const { document } = await openInEditor(fixture);
    const name = 'Perf Lens IT: attach by processId';
    const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === name && !s.parentSession, 'the attach configuration to start');
    const config = { type: 'node', request: 'attach', name, processId: String(measured.pid) };
    assert.equal(await vscode.debug.startDebugging(workspaceFolder(), config), true, 'startDebugging');
    const debug = await started;
    const env = (debug.configuration.env ?? {}) as Record<string, string | null>;
    assert.doesNotMatch(String(env.NODE_OPTIONS ?? ''), /preload/, 'nothing injected into an attach configuration');
    assert.equal(debug.configuration.__perfLensSession, undefined);
    assert.equal(await lensSession(document.uri, WORK_LINE, /· [\d,]+ calls/), session.id, 'the lenses switched to the attached process');

    // One stop in `slow`, continued after 2 s: the runtime is told about the pause (the same DAP hook as launches).
    const bp = new vscode.SourceBreakpoint(new vscode.Location(document.uri, new vscode.Position(SLOW_BODY_LINE, 0)), true, undefined, '==1');
    let stopped = false;
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', {
      createDebugAdapterTracker: (s) => ({
        onDidSendMessage: (m: { type: string; event?: string; body?: { threadId: number } }) => {
          if (m.type !== 'event' || m.event !== 'stopped' || stopped) return;
          stopped = true;
          setTimeout(() => void s.customRequest('continue', { threadId: m.body?.threadId }), 2_000);
        },
      }),
    });
    try {
      vscode.debug.addBreakpoints([bp]);
      await waitFor('the program to stop at the breakpoint in slow()', () => (stopped ? true : undefined), 30_000);
    } finally {
      tracker.dispose();
    }
    vscode.debug.removeBreakpoints([bp]);
    const callsOf = (lens: vscode.CodeLens) => Number(/· ([\d,]+) calls/.exec(lens.command?.title ?? '')?.[1]?.replace(/,/g, '') ?? 0);
    const atStop = callsOf(await waitForLens(document.uri, SLOW_LINE, /· [\d,]+ calls/));
    // 3 s of calls after the stop (10 a second): the stopped call has ended and been reported.
    const lens = await waitFor('slow() calls after the pause to be reported', async () => {
      const l = await waitForLens(document.uri, SLOW_LINE, /· [\d,]+ calls/);
      return callsOf(l) >= atStop + 30 ? l : undefined;
    }, 60_000);
    const after = await vscode.commands.executeCommand<FunctionDetailsResult>('perfLens.showDetails', ...(lens.command?.arguments as [ShowDetailsArgs]));
    assert.ok(after.function, 'details of slow()');
    assert.ok(after.function.maxMs !== null && after.function.maxMs < 1_000, `max of slow() is ${after.function.maxMs} ms: the 2 s pause was counted`);
  });

  it('detaching leaves the program running and measured; when it then crashes, the data received so far stays and its run is saved', async () => {
    const { process: measured } = await startMeasured();
    const { document } = await openInEditor(fixture);
    const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === `Attach to ${measured.pid} (Perf Lens)` && !s.parentSession, `the attach session for pid ${measured.pid}`);
    await vscode.commands.executeCommand('perfLens.attachToProcess', { pid: measured.pid });
    const debug = await started;
    const callsOf = (lens: vscode.CodeLens) => Number(/· ([\d,]+) calls/.exec(lens.command?.title ?? '')?.[1]?.replace(/,/g, '') ?? 0);
    const workCalls = async () => callsOf(await waitForLens(document.uri, WORK_LINE, /· [\d,]+ calls/));
    const attached = await workCalls();

    // Stopping an attach session detaches js-debug; the program is not the debugger's to end.
    const ended = nextEvent(vscode.debug.onDidTerminateDebugSession, (s) => s.id === debug.id, 'the attach session to end');
    await vscode.debug.stopDebugging(debug);
    await ended;
    const detached = await waitFor('work() calls to go on being reported after the detach', async () => {
      const n = await workCalls();
      return n > attached ? n : undefined;
    });
    assert.ok(isAlive(measured.pid), 'the program runs on after the detach');

    // The program dies without a word (no exit, no bye): the server keeps what it received.
    process.kill(measured.pid, 'SIGKILL');
    pid = undefined;
    const run = await waitFor('the attached run to be saved', async () =>
      (await select(null)).sessions.find((s) => s.id.startsWith('run:') && s.processes.some((p) => p.pid === measured.pid)));
    const proc = run.processes.find((p) => p.pid === measured.pid)!;
    assert.equal(proc.state, 'crashed', `the killed process is reported as ${proc.state} (${proc.reason ?? 'no reason'})`);
    assert.ok(run.runFile && fs.existsSync(run.runFile), `run file ${run.runFile}`);
    const saved = JSON.parse(fs.readFileSync(run.runFile, 'utf8')) as { functions: { name: string; calls: number }[] };
    const work = saved.functions.find((f) => f.name === 'work');
    assert.ok(work && work.calls >= detached, `work() in the saved run: ${work?.calls} calls, ${detached} were shown after the detach`);
    // The lenses still show the program's numbers, now from its saved run.
    assert.ok((await workCalls()) >= detached);
  });

  it('without an argument it opens a quick pick of the measured processes; accepting it attaches to the picked one', async () => {
    const { process: measured, session } = await startMeasured();
    const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === `Attach to ${measured.pid} (Perf Lens)` && !s.parentSession, `the attach session for pid ${measured.pid}`);
    const command = Promise.resolve(vscode.commands.executeCommand<{ pid: number; sessionId: string; started: boolean } | undefined>('perfLens.attachToProcess'));
    let settled = false;
    void command.finally(() => { settled = true; });
    // The picker opens asynchronously (after the server lists the sessions): accept its selected
    // (first) item until the command returns; accepting with no picker open does nothing.
    await waitFor('the command to return after its quick pick is accepted', async () => {
      if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      return settled ? true : undefined;
    }, 30_000);
    assert.deepEqual(await command, { pid: measured.pid, sessionId: session.id, started: true });
    const debug = await started;
    assert.equal(debug.configuration.request, 'attach');
  });

  it('without an argument and no measured process running, it says so and starts nothing', async () => {
    const running = (await select(null)).sessions.filter((s) => s.state === 'live' && s.processes.some((p) => p.state === 'running'));
    assert.deepEqual(running.map((s) => s.name), [], 'precondition: no measured process runs (else the picker would open)');
    let starts = 0;
    const sub = vscode.debug.onDidStartDebugSession(() => starts++);
    try {
      assert.equal(await vscode.commands.executeCommand('perfLens.attachToProcess'), undefined);
    } finally {
      sub.dispose();
    }
    assert.equal(starts, 0);
  });

  it('refuses a pid that Perf Lens does not measure', async () => {
    let starts = 0;
    const sub = vscode.debug.onDidStartDebugSession(() => starts++);
    try {
      // Errors are shown to the user; the command returns undefined.
      assert.equal(await vscode.commands.executeCommand('perfLens.attachToProcess', { pid: process.pid }), undefined);
    } finally {
      sub.dispose();
    }
    assert.equal(starts, 0);
  });
});
