// Live CodeLens from debug sessions: js-debug launches examples/primes programs (CommonJS, ES module,
// TypeScript through tsx) with the runtime injected by Perf Lens; the insight server's lenses and
// saved runs, as the real extension host sees them.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FunctionDetailsResult, ListSessionsResult, ShowDetailsArgs } from '../../../src/protocol/lsp';
import { LENS_TITLE, closeEverything, debugToEnd, examplePath, launch, nextEvent, openInEditor, runFiles, runsDir, waitFor, waitForLens, workspaceFolder } from './helpers';

describe('Live CodeLens from debug sessions', function () {
  this.timeout(180_000);
  beforeEach(closeEverything);
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await closeEverything();
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
  });

  it('debugging main.js (CommonJS) shows isPrime timings, saves the run, and lenses follow edits', async () => {
    const editor = await openInEditor(examplePath('main.js'));
    const uri = editor.document.uri;
    const before = runFiles();
    const session = await debugToEnd(launch('Perf Lens IT: main.js', 'main.js'));
    assert.equal(session.configuration.showAsyncStacks, false, 'showAsyncStacks turned off for the measured launch');
    assert.match(String((session.configuration.env as Record<string, string>).NODE_OPTIONS), /preload\.js/);
    await waitForLens(uri, 3, LENS_TITLE);
    // The run is saved when the session ends (EndSession).
    const deadline = Date.now() + 20_000;
    while (runFiles().filter((f) => !before.includes(f)).length === 0) {
      assert.ok(Date.now() < deadline, `no new run file in ${runsDir()} (had ${before.join(', ')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const saved = JSON.parse(fs.readFileSync(path.join(runsDir(), runFiles().filter((f) => !before.includes(f)).pop()!), 'utf8')) as { functions?: { name: string; calls: number }[] };
    assert.equal(saved.functions?.find((f) => f.name === 'isPrime')?.calls, 199_998, 'isPrime calls in the saved run');

    // Two lines inserted above: the lens moves down with the function.
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), '// one\n// two\n'));
    await waitForLens(uri, 5, LENS_TITLE, 20_000);
    // The function's own text changes: its numbers are marked stale.
    const body = editor.document.lineAt(6); // `  if (n < 2) return false;`
    assert.match(body.text, /n < 2/);
    await editor.edit((b) => b.replace(body.range, '  if (n < 3) return n === 2;'));
    await waitForLens(uri, 5, /^~ avg .* · 199,998 calls/, 20_000);
  });

  it('Stop in the debugger: the saved run says the program was stopped, not that it crashed', async () => {
    const name = 'Perf Lens IT: stopped';
    const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === name && !s.parentSession, 'the debug session to start');
    assert.ok(await vscode.debug.startDebugging(workspaceFolder(), launch(name, 'resources.js', { env: { PERF_LENS_EXAMPLE_SECONDS: '120' } })));
    const session = await started;
    const serverId = session.configuration.__perfLensSession as string;
    assert.ok(serverId, 'Perf Lens injected into the launch');
    const sessionInfo = async () => (await vscode.commands.executeCommand<ListSessionsResult>('perfLens.selectSession', null)).sessions.find((s) => s.id === serverId);
    await waitFor('the program to be measured', async () => ((await sessionInfo())?.processes.some((p) => p.state === 'running') ? true : undefined));
    const ended = nextEvent(vscode.debug.onDidTerminateDebugSession, (s) => s.id === session.id, 'the debug session to end');
    await vscode.debug.stopDebugging(session);
    await ended;
    const run = await waitFor('the run to be saved', async () => {
      const info = await sessionInfo();
      return info?.state === 'ended' && info.runFile ? info : undefined;
    });
    const states = run.processes.map((p) => `${p.state} (${p.reason})`);
    assert.ok(states.includes('exited (stopped)'), `the processes of a stopped session: ${JSON.stringify(states)}`);
    assert.ok(!states.some((s) => s.startsWith('crashed')), `a Stop saved as a crash: ${JSON.stringify(states)}`);
    const saved = JSON.parse(fs.readFileSync(run.runFile!, 'utf8')) as { processes: { exitReason: string | null }[] };
    assert.ok(saved.processes.some((p) => p.exitReason === 'stopped'), `saved: ${JSON.stringify(saved.processes.map((p) => p.exitReason))}`);
  });

  it('debugging main.mjs (ES module) shows isPrime timings', async () => {
    const { document } = await openInEditor(examplePath('main.mjs'));
    await debugToEnd(launch('Perf Lens IT: main.mjs', 'main.mjs'));
    await waitForLens(document.uri, 3, LENS_TITLE);
  });

  it('debugging main.ts through tsx (runtimeExecutable) shows isPrime timings in the TypeScript source', async () => {
    const { document } = await openInEditor(examplePath('main.ts'));
    const tsx = path.resolve(workspaceFolder().uri.fsPath, '..', '..', 'node_modules', '.bin', 'tsx');
    await debugToEnd(launch('Perf Lens IT: main.ts', 'main.ts', { runtimeExecutable: tsx }));
    await waitForLens(document.uri, 3, LENS_TITLE);
  });

  it('"Debug with Perf Lens" debugs the active file without a launch.json entry (TypeScript through tsx)', async () => {
    const { document } = await openInEditor(examplePath('main.ts'));
    await vscode.commands.executeCommand('perfLens.clear'); // the lens must come from this session
    const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === 'Perf Lens: main.ts' && !s.parentSession, 'the "Perf Lens: main.ts" session');
    assert.equal(await vscode.commands.executeCommand('perfLens.debugCurrentFile'), true);
    const session = await started;
    await nextEvent(vscode.debug.onDidTerminateDebugSession, (s) => s.id === session.id, 'the "Perf Lens: main.ts" session to end', 90_000);
    await waitForLens(document.uri, 3, LENS_TITLE);
  });

  it('the lens click (perfLens.showDetails) returns and shows the full details', async () => {
    const { document } = await openInEditor(examplePath('main.js'));
    await debugToEnd(launch('Perf Lens IT: details', 'main.js'));
    const lens = await waitForLens(document.uri, 3, LENS_TITLE);
    assert.equal(lens.command?.command, 'perfLens.showDetails');
    const details = await vscode.commands.executeCommand<FunctionDetailsResult & { document: string }>('perfLens.showDetails', ...(lens.command?.arguments as [ShowDetailsArgs]));
    assert.equal(details.function?.name, 'isPrime');
    assert.equal(details.function?.calls, 199_998);
    assert.match(details.markdown, /isPrime/);
    const shown = await vscode.workspace.openTextDocument(vscode.Uri.parse(details.document));
    assert.equal(shown.uri.scheme, 'perf-lens-details');
    assert.match(shown.getText(), /\| calls \| 199,998 \|/);
    assert.ok(vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => /isPrime/.test(t.label))), 'a preview tab for isPrime');
  });

  it('time stopped at a breakpoint does not count: a 2 s pause inside `get mean` leaves its max < 1 s', async () => {
    const { document } = await openInEditor(examplePath('main.js'));
    const meanLine = document.getText().split('\n').findIndex((l) => l.includes('return this.values.reduce'));
    assert.ok(meanLine > 0);
    // Only the first of the two calls stops; the second is timed normally.
    const bp = new vscode.SourceBreakpoint(new vscode.Location(document.uri, new vscode.Position(meanLine, 0)), true, undefined, '==1');
    vscode.debug.addBreakpoints([bp]);
    let stops = 0;
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', {
      createDebugAdapterTracker: (s) => ({
        onDidSendMessage: (m: { type: string; event?: string; body?: { threadId: number } }) => {
          if (m.type !== 'event' || m.event !== 'stopped') return;
          stops++;
          setTimeout(() => void s.customRequest('continue', { threadId: m.body?.threadId }), 2_000);
        },
      }),
    });
    try {
      await debugToEnd(launch('Perf Lens IT: pause', 'main.js'));
    } finally {
      tracker.dispose();
    }
    assert.equal(stops, 1, 'stopped once at the breakpoint');
    const lens = await waitForLens(document.uri, meanLine - 1, /· 2 calls/);
    const details = await vscode.commands.executeCommand<FunctionDetailsResult & { document: string }>('perfLens.showDetails', ...(lens.command?.arguments as [ShowDetailsArgs]));
    assert.equal(details.function?.calls, 2);
    const max = details.function?.maxMs ?? 0;
    assert.ok(max < 1_000, `max of mean is ${max} ms: the 2 s pause was counted`);
  });
});
