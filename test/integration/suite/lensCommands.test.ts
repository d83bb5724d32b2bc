// The Perf Lens palette commands around debug sessions, runs and lenses, in a real extension host
// (dialog-free argument forms where the command would ask: export path, session id, run id).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExportResult, ListSessionsResult, PruneRunsResult, ShowDetailsArgs } from '../../../src/protocol/lsp';
import { LENS_TITLE, closeEverything, debugToEnd, examplePath, launch, lensesOf, nextEvent, openInEditor, runFiles, waitForLens } from './helpers';

/** Resolves when no Perf Lens lens is left on the file (other providers' lenses are ignored). */
async function waitForNoPerfLens(uri: vscode.Uri, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ours = (await lensesOf(uri)).filter((l) => l.command?.command === 'perfLens.showDetails');
    if (ours.length === 0) return;
    if (Date.now() > deadline) throw new Error(`Perf Lens lenses still shown after ${ms} ms: ${ours.map((l) => l.command?.title).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Perf Lens commands', function () {
  this.timeout(180_000);
  let main: vscode.Uri;

  before(async () => {
    await closeEverything();
    main = (await openInEditor(examplePath('main.js'))).document.uri;
    await debugToEnd(launch('Perf Lens IT: commands', 'main.js'));
    await waitForLens(main, 3, LENS_TITLE);
  });
  afterEach(async () => {
    const config = vscode.workspace.getConfiguration('perfLens');
    await config.update('debug.enable', undefined, vscode.ConfigurationTarget.Global);
    await config.update('runs.maxHistory', undefined, vscode.ConfigurationTarget.Global);
  });

  it('Toggle Lenses hides every Perf Lens lens and shows them again', async () => {
    await openInEditor(main.fsPath);
    assert.equal(await vscode.commands.executeCommand('perfLens.toggleLenses'), false, 'now hidden');
    await waitForNoPerfLens(main);
    assert.equal(await vscode.commands.executeCommand('perfLens.toggleLenses'), true, 'now shown');
    await waitForLens(main, 3, LENS_TITLE);
  });

  it('Clear forgets finished sessions (lenses go), Show Last Run brings the saved run back', async () => {
    await openInEditor(main.fsPath);
    const cleared = await vscode.commands.executeCommand<ListSessionsResult>('perfLens.clear');
    assert.equal(cleared.sessions.filter((s) => s.state !== 'live').length, 0);
    await waitForNoPerfLens(main);
    const id = await vscode.commands.executeCommand<string | null>('perfLens.showLastRun');
    assert.ok(id, 'a run was selected');
    await waitForLens(main, 3, LENS_TITLE);
  });

  it('Select Session switches the lenses to another session, and back to automatic', async () => {
    await openInEditor(main.fsPath);
    // A second measured session, in count mode: its lens has no timings.
    await vscode.workspace.getConfiguration('perfLens').update('mode', 'count', vscode.ConfigurationTarget.Global);
    try {
      await debugToEnd(launch('Perf Lens IT: count mode', 'main.js'));
    } finally {
      await vscode.workspace.getConfiguration('perfLens').update('mode', undefined, vscode.ConfigurationTarget.Global);
    }
    const countLens = await waitForLens(main, 3, /199,998 calls · not timed/);
    const countSession = (countLens.command?.arguments as [ShowDetailsArgs])[0].sessionId;
    const list = await vscode.commands.executeCommand<ListSessionsResult>('perfLens.selectSession', null);
    const other = list.sessions.find((s) => s.id !== countSession && s.functions > 0);
    assert.ok(other, `another session to pick: ${JSON.stringify(list.sessions.map((s) => [s.id, s.name, s.state]))}, count session ${countSession}`);
    const picked = await vscode.commands.executeCommand<ListSessionsResult>('perfLens.selectSession', other.id);
    assert.equal(picked.selected, other.id);
    assert.equal(picked.automatic, false);
    const lens = await waitForLens(main, 3, LENS_TITLE);
    assert.equal((lens.command?.arguments as [ShowDetailsArgs])[0].sessionId, other.id);
    const back = await vscode.commands.executeCommand<ListSessionsResult>('perfLens.selectSession', null);
    assert.equal(back.automatic, true);
  });

  it('Export writes the shown run as JSON, CSV and Markdown', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-export-'));
    try {
      for (const format of ['json', 'csv', 'md'] as const) {
        const file = path.join(dir, `report.${format}`);
        const result = await vscode.commands.executeCommand<ExportResult>('perfLens.export', { format, path: file });
        assert.equal(result.path, file);
        const text = fs.readFileSync(file, 'utf8');
        assert.match(text, /isPrime/, `${format} export names isPrime`);
        if (format === 'json') assert.equal((JSON.parse(text) as { functions: { name: string; calls: number }[] }).functions.find((f) => f.name === 'isPrime')?.calls, 199_998);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Delete Old Runs keeps perfLens.runs.maxHistory runs', async () => {
    await debugToEnd(launch('Perf Lens IT: another run', 'main.js'));
    const deadline = Date.now() + 20_000;
    while (runFiles().length < 2) {
      assert.ok(Date.now() < deadline, `two saved runs expected, have ${runFiles().join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await vscode.workspace.getConfiguration('perfLens').update('runs.maxHistory', 1, vscode.ConfigurationTarget.Global);
    const newest = runFiles().pop();
    const result = await vscode.commands.executeCommand<PruneRunsResult>('perfLens.deleteOldRuns');
    assert.ok(result.deleted.length >= 1, JSON.stringify(result));
    assert.deepEqual(runFiles(), [newest]);
  });

  it('an npm-script launch (runtimeExecutable npm) is measured: env flows to the node child', async () => {
    const { document } = await openInEditor(examplePath('main.js'));
    await vscode.commands.executeCommand('perfLens.clear');
    await debugToEnd({ type: 'node', request: 'launch', name: 'Perf Lens IT: npm start', runtimeExecutable: 'npm', runtimeArgs: ['start'], cwd: examplePath(), console: 'internalConsole' });
    await waitForLens(document.uri, 3, LENS_TITLE);
  });

  it("keeps the NODE_OPTIONS of a launch's envFile: ours go in front, the program still gets the user's", async () => {
    const { document } = await openInEditor(examplePath('main.js'));
    await vscode.commands.executeCommand('perfLens.clear');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-envfile-'));
    try {
      const fixture = path.resolve(examplePath(), '../../test/fixtures/integration/record-node-options.js');
      const envFile = path.join(dir, 'launch.env');
      const record = path.join(dir, 'node-options.txt');
      fs.writeFileSync(envFile, `# a comment\nNODE_OPTIONS="--require ${fixture} --max-old-space-size=300"\nPERF_LENS_IT_RECORD=${record}\n`);
      await debugToEnd(launch('Perf Lens IT: envFile', 'main.js', { envFile }));
      await waitForLens(document.uri, 3, LENS_TITLE);
      const got = fs.readFileSync(record, 'utf8');
      // js-debug wraps it in its own bootloader options; inside, ours comes first, then the user's.
      assert.ok(got.includes(`/dist/runtime/preload.js --require ${fixture} --max-old-space-size=300`), got);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Toggle Measuring in Terminals: node started in a new terminal is measured; off saves the run', async () => {
    const { document } = await openInEditor(examplePath('main.js'));
    await vscode.commands.executeCommand('perfLens.clear');
    const before = runFiles();
    assert.equal(await vscode.commands.executeCommand('perfLens.toggleTerminalMeasuring'), true, 'now on');
    let on = true;
    try {
      const terminal = vscode.window.createTerminal({ name: 'Perf Lens IT terminal', cwd: examplePath() });
      const shell = terminal.shellIntegration ?? (await nextEvent(vscode.window.onDidChangeTerminalShellIntegration, (e) => e.terminal === terminal, 'shell integration in the new terminal')).shellIntegration;
      const execution = shell.executeCommand('node main.js');
      const end = await nextEvent(vscode.window.onDidEndTerminalShellExecution, (e) => e.execution === execution, '`node main.js` to finish', 60_000);
      assert.equal(end.exitCode, 0);
      await waitForLens(document.uri, 3, LENS_TITLE);
      assert.equal(await vscode.commands.executeCommand('perfLens.toggleTerminalMeasuring'), false, 'now off');
      on = false;
      assert.equal(runFiles().filter((f) => !before.includes(f)).length, 1, 'the terminal session was saved as a run');
    } finally {
      if (on) await vscode.commands.executeCommand('perfLens.toggleTerminalMeasuring');
      await closeEverything();
    }
  });

  it('keeps an explicit showAsyncStacks; perfLens.debug.enable=false leaves launches alone', async () => {
    // (A programmatic `true` looks like js-debug's default; launch.json's `true` is recognised.)
    const userValue = { onceBreakpointResolved: 16 };
    const kept = await debugToEnd(launch('Perf Lens IT: async stacks', 'main.js', { showAsyncStacks: userValue }));
    assert.deepEqual(kept.configuration.showAsyncStacks, userValue);
    assert.match(String((kept.configuration.env as Record<string, string>).NODE_OPTIONS), /preload\.js/);
    await vscode.workspace.getConfiguration('perfLens').update('debug.enable', false, vscode.ConfigurationTarget.Global);
    const plain = await debugToEnd(launch('Perf Lens IT: not measured', 'main.js'));
    assert.doesNotMatch(JSON.stringify(plain.configuration.env ?? {}), /preload\.js/);
    assert.equal(plain.configuration.__perfLensSession, undefined);
  });
});
