import { strict as assert } from 'assert';
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { SERVER_EXEC_ARGV } from '../../src/protocol/lsp';

const root = path.resolve(__dirname, '../..');

describe('scaffold', () => {
  it('the manifest pins the VS Code engine that code-server 4.100.3 bundles', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      name: string; engines: { vscode: string }; bin: Record<string, string>;
    };
    assert.equal(pkg.name, 'perf-lens');
    assert.equal(pkg.engines.vscode, '^1.100.0');
    assert.ok(fs.existsSync(path.join(root, pkg.bin['perf-lens'].replace(/^\.\//, ''))) || !fs.existsSync(path.join(root, 'src/cli/main.ts')),
      'the CLI bundle is built');
  });

  it('the insight server\'s start options are accepted by this Node, and bench/server.js starts it with the same', () => {
    assert.equal(execFileSync(process.execPath, [...SERVER_EXEC_ARGV, '-p', '1'], { encoding: 'utf8' }).trim(), '1');
    const bench = fs.readFileSync(path.join(root, 'bench/server.js'), 'utf8');
    assert.equal(/^const SERVER_EXEC_ARGV = (\[.*\]);$/m.exec(bench)?.[1], JSON.stringify(SERVER_EXEC_ARGV).replace(/"/g, "'"));
  });
});
