import { strict as assert } from 'assert';
import * as path from 'path';
import * as fs from 'fs';
import * as os from 'os';
import { Collector, FIXTURES, PRELOAD, node, sameOutput } from './runtime-harness';

// Child processes (execFile, fork, an `npm run` chain) and worker threads inherit the runtime
// and each report on their own connection with their own pid/ppid/threadId.
describe('runtime: child processes and worker threads report separately', function () {
  this.timeout(60000);
  let collector: Collector;
  before(async () => { collector = await new Collector().listen(); });
  after(async () => { await collector.close(); });

  it('parent, execFile child, npm run child, fork child and a worker thread', async () => {
    const parent = path.join(FIXTURES, 'family/parent.js');
    const bare = await node([parent]);
    const inst = await node([parent], { runtime: { socket: collector.socketPath, token: collector.token, mode: 'full' } });
    sameOutput(bare, inst);
    assert.match(inst.stdout, /child spawned[\s\S]*child npm[\s\S]*worker done[\s\S]*child forked[\s\S]*parent done/);
    // parent + worker + execFile child + npm (+ its shell-less node child) + fork child
    await collector.settle(6, 15000);
    const byFn = (fn: string) => collector.connections.filter((c) => c.calls(fn) > 0);
    const [p] = byFn('inParent');
    assert.ok(p, 'the parent reports');
    assert.equal(p.calls('inParent'), 10);
    const parentPid = p.hello!.pid;

    const children = byFn('inChild');
    assert.equal(children.length, 3, 'three child processes ran child.js');
    const counts = children.map((c) => c.calls('inChild')).sort();
    assert.deepEqual(counts, [3, 5, 6], 'each child reports its own calls');
    const pids = new Set(collector.connections.map((c) => c.hello!.pid));
    for (const c of children) {
      assert.notEqual(c.hello!.pid, parentPid);
      assert.equal(c.hello!.threadId, 0);
    }
    const direct = children.filter((c) => c.hello!.ppid === parentPid);
    assert.equal(direct.length, 2, 'execFile and fork children are the parent\'s own');
    const viaNpm = children.find((c) => c.hello!.ppid !== parentPid)!;
    const npm = collector.connections.find((c) => c.hello!.ppid === parentPid && c.hello!.argv.some((a) => /npm/.test(a)));
    assert.ok(npm, 'npm itself (a node program) reports on its own connection');
    assert.ok(!pids.has(viaNpm.hello!.ppid) || viaNpm.hello!.ppid === npm.hello!.pid, 'the npm-run child runs under npm (via its shell)');

    const [w] = byFn('inWorker');
    assert.ok(w, 'the worker reports');
    assert.equal(w.calls('inWorker'), 4);
    assert.equal(w.hello!.pid, parentPid, 'worker lives in the parent process');
    assert.ok(w.hello!.threadId > 0, 'with its own threadId');
    assert.equal(w.calls('inParent'), 0);
    for (const c of collector.connections) assert.ok(c.bye(), `pid ${c.hello!.pid}/${c.hello!.threadId} said bye`);
  });

  it('an ES module program with an ES module worker: both measured, once each', async () => {
    const c = await new Collector().listen();
    try {
      const file = path.join(FIXTURES, 'family/esm-parent.mjs');
      sameOutput(await node([file]), await node([file], { runtime: { socket: c.socketPath, mode: 'full' } }));
      await c.settle(2);
      const parent = c.connections.find((x) => x.hello!.threadId === 0)!;
      const worker = c.connections.find((x) => x.hello!.threadId !== 0)!;
      assert.equal(parent.calls('inEsmParent'), 7);
      assert.equal(worker.calls('inEsmWorker'), 9);
    } finally {
      await c.close();
    }
  });

  it('two copies of the runtime in NODE_OPTIONS load once (global guard): counts are not doubled', async () => {
    const c = await new Collector().listen();
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-copy-'));
    try {
      for (const f of fs.readdirSync(path.dirname(PRELOAD))) fs.copyFileSync(path.join(path.dirname(PRELOAD), f), path.join(copy, f));
      const res = await node(['exits.mjs', 'normal'], {
        env: { NODE_OPTIONS: `--require ${path.join(copy, 'preload.js')}` },
        runtime: { socket: c.socketPath, mode: 'full' },
      });
      assert.equal(res.code, 0, res.stderr);
      await c.settle(1);
      assert.equal(c.connections.length, 1);
      assert.equal(c.connections[0].calls('square'), 500);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
      await c.close();
    }
  });
});
