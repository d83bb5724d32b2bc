import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

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
});
