// "Perf Lens: Run Current File" in a real extension host: what it types into which terminal,
// what the program and the CLI print there, and when it refuses.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { COMMAND, TERMINAL_NAME, closeEverything, examplePath, openInEditor, perfLens, runCommandInTerminal, workspaceFolder } from './helpers';

describe('Run Current File with Perf Lens', function () {
  this.timeout(120_000);
  const cli = () => path.join(perfLens().extensionPath, 'dist', 'cli.js');

  beforeEach(closeEverything);
  afterEach(async () => {
    const config = vscode.workspace.getConfiguration('perfLens');
    await config.update('mode', undefined, vscode.ConfigurationTarget.Global);
    await config.update('enable', undefined, vscode.ConfigurationTarget.Global);
  });

  it('runs examples/primes/main.js under the bundled CLI in a "Perf Lens" terminal', async () => {
    const main = examplePath('main.js');
    await openInEditor(main);
    const run = await runCommandInTerminal();
    assert.equal(run.terminal.name, TERMINAL_NAME);
    const cwd = (run.terminal.creationOptions as vscode.TerminalOptions).cwd;
    assert.equal(typeof cwd === 'string' ? cwd : cwd?.fsPath, workspaceFolder().uri.fsPath);
    assert.equal(run.commandLine, `node ${cli()} run --mode adaptive -- node ${main}`);
    assert.match(run.output, /primes below 200000: 17984/, `program output in the terminal:\n${run.output}`);
    assert.match(run.output, /isPrime/, `timing table names isPrime:\n${run.output}`);
    assert.equal(run.exitCode, 0, run.output);
  });

  it('passes the perfLens.mode setting', async () => {
    await vscode.workspace.getConfiguration('perfLens').update('mode', 'count', vscode.ConfigurationTarget.Global);
    await openInEditor(examplePath('main.js'));
    const run = await runCommandInTerminal();
    assert.match(run.commandLine, / run --mode count -- node /);
    assert.equal(run.exitCode, 0, run.output);
  });

  it('quotes a path with spaces and a quote so the shell runs the right file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "perf lens it's "));
    try {
      const file = path.join(dir, 'main.js');
      fs.copyFileSync(examplePath('main.js'), file);
      await openInEditor(file);
      const run = await runCommandInTerminal();
      assert.ok(run.commandLine.endsWith(` -- node '${file.replace(/'/g, `'\\''`)}'`), run.commandLine);
      assert.match(run.output, /primes below 200000: 17984/, run.output);
      assert.equal(run.exitCode, 0, run.output);
    } finally {
      await closeEverything();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that is not JavaScript or TypeScript', async () => {
    await openInEditor(examplePath('.vscode', 'launch.json'));
    assert.equal(await vscode.commands.executeCommand(COMMAND), undefined);
    assert.ok(!vscode.window.terminals.some((t) => t.name === TERMINAL_NAME), 'no terminal opened');
  });

  it('refuses an unsaved (untitled) JavaScript editor', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'javascript', content: 'console.log(1);\n' });
    await vscode.window.showTextDocument(doc);
    try {
      assert.equal(await vscode.commands.executeCommand(COMMAND), undefined);
      assert.ok(!vscode.window.terminals.some((t) => t.name === TERMINAL_NAME), 'no terminal opened');
    } finally {
      // A dirty editor left open would make later closes and debug starts ask "Save?" and hang.
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  it('refuses when perfLens.enable is false', async () => {
    await vscode.workspace.getConfiguration('perfLens').update('enable', false, vscode.ConfigurationTarget.Global);
    await openInEditor(examplePath('main.js'));
    assert.equal(await vscode.commands.executeCommand(COMMAND), undefined);
    assert.ok(!vscode.window.terminals.some((t) => t.name === TERMINAL_NAME), 'no terminal opened');
  });
});
