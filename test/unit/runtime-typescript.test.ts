import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { Collector, FIXTURES, ROOT, node, run, sameOutput } from './runtime-harness';

const bin = (name: string): string => path.join(ROOT, 'node_modules/.bin', name);

// TypeScript through every loader: the runtime instruments the loader's JavaScript output and
// reports the ORIGINAL .ts files with 1-based lines/columns (through the loaders' source maps).
describe('runtime: TypeScript (tsx, ts-node, tsc) reports original .ts positions', function () {
  this.timeout(60000);
  let collector: Collector;
  beforeEach(async () => { collector = await new Collector().listen(); });
  afterEach(async () => { await collector.close(); });

  const esm = path.join(FIXTURES, 'ts-esm/app.ts');
  const cjs = path.join(FIXTURES, 'ts-cjs/app.ts');

  /** The connection that measured something (a launcher like the tsx CLI reports on its own, empty). */
  async function measured(expectedConnections: number) {
    await collector.settle(expectedConnections);
    const withDefs = collector.connections.filter((c) => c.defs().length > 0);
    assert.equal(withDefs.length, 1, 'exactly one process ran user code');
    return withDefs[0];
  }

  function checkEsm(conn: Awaited<ReturnType<typeof measured>>): void {
    const norm = conn.totals().get('norm');
    assert.ok(norm, `norm measured; got ${[...conn.totals().keys()].join(', ')}`);
    assert.equal(norm.calls, 100);
    assert.equal(norm.def.file, esm);
    assert.deepEqual([norm.def.line, norm.def.column], [7, 8], 'export function norm at 7:8 (after `export `)');
  }

  function checkCjs(conn: Awaited<ReturnType<typeof measured>>): void {
    const t = conn.totals();
    const add = t.get('add');
    const bump = t.get('Counter.bump');
    assert.ok(add && bump, `add and Counter.bump measured; got ${[...t.keys()].join(', ')}`);
    assert.equal(add.calls, 100);
    assert.equal(bump.calls, 100);
    assert.equal(add.def.file, cjs);
    assert.deepEqual([add.def.line, add.def.column], [4, 1]);
    assert.deepEqual([bump.def.line, bump.def.column], [10, 3]);
  }

  const rt = () => ({ socket: collector.socketPath, mode: 'full' as const });

  it('node --import tsx, ES module', async () => {
    const args = ['--import', 'tsx', esm];
    sameOutput(await node(args), await node(args, { runtime: rt() }));
    checkEsm(await measured(1));
  });

  it('tsx CLI, ES module', async () => {
    const bare = await run(bin('tsx'), [esm]);
    const inst = await run(bin('tsx'), [esm], { runtime: rt() });
    sameOutput(bare, inst);
    checkEsm(await measured(2)); // the tsx launcher + the node process it starts
  });

  it('node --import tsx, CommonJS', async () => {
    const args = ['--import', 'tsx', cjs];
    sameOutput(await node(args), await node(args, { runtime: rt() }));
    checkCjs(await measured(1));
  });

  it('tsx CLI, CommonJS', async () => {
    sameOutput(await run(bin('tsx'), [cjs]), await run(bin('tsx'), [cjs], { runtime: rt() }));
    checkCjs(await measured(2));
  });

  it('ts-node, CommonJS', async () => {
    const cwd = path.dirname(cjs);
    const bare = await run(bin('ts-node'), ['app.ts'], { cwd });
    const inst = await run(bin('ts-node'), ['app.ts'], { cwd, runtime: rt() });
    sameOutput(bare, inst);
    checkCjs(await measured(1));
  });

  it('tsc output with .js.map files', async () => {
    const dir = path.dirname(cjs);
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir]);
    const out = path.join(dir, 'out/app.js');
    sameOutput(await node([out]), await node([out], { runtime: rt() }));
    checkCjs(await measured(1));
  });
});
