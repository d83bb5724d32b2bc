// The packaged extension inside a real VS Code extension host: installed, active, contributing.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { COMMAND, perfLens } from './helpers';

interface Manifest {
  contributes: { commands: { command: string; title: string; category: string }[] };
}

describe('Perf Lens extension', () => {
  it('is the installed .vsix: bundles and CLI present, no sources', () => {
    const dir = perfLens().extensionPath;
    for (const f of ['package.json', 'dist/extension.js', 'dist/cli.js']) {
      assert.ok(fs.existsSync(path.join(dir, f)), `${f} in ${dir}`);
    }
    for (const f of ['src', 'node_modules', 'test']) assert.ok(!fs.existsSync(path.join(dir, f)), `${f} must not ship (${dir})`);
  });

  it('activates', async () => {
    const ext = perfLens();
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers "Perf Lens: Run Current File with Perf Lens"', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes(COMMAND), `${COMMAND} is registered`);
    const contributed = (perfLens().packageJSON as Manifest).contributes.commands.find((c) => c.command === COMMAND);
    assert.deepEqual({ category: contributed?.category, title: contributed?.title }, { category: 'Perf Lens', title: 'Run Current File with Perf Lens' });
  });

  it('contributes perfLens.enable (default true) and perfLens.mode (default adaptive)', () => {
    const config = vscode.workspace.getConfiguration('perfLens');
    assert.equal(config.inspect<boolean>('enable')?.defaultValue, true);
    assert.equal(config.inspect<string>('mode')?.defaultValue, 'adaptive');
    assert.equal(config.get('enable'), true);
    assert.equal(config.get('mode'), 'adaptive');
  });
});
