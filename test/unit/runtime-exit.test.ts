import { strict as assert } from 'assert';
import { Collector, node, sameOutput } from './runtime-harness';

// Every way a program can end: same output/exit status as a bare run, and the last delta arrives.
describe('runtime: exit paths flush the last delta synchronously', function () {
  this.timeout(60000);
  let collector: Collector;
  beforeEach(async () => { collector = await new Collector().listen(); });
  afterEach(async () => { await collector.close(); });

  const cases: { file: string; how: string; reason: string; signal?: NodeJS.Signals }[] = [
    { file: 'exits.js', how: 'normal', reason: 'exit' },
    { file: 'exits.js', how: 'exit', reason: 'exit' },
    { file: 'exits.js', how: 'throw', reason: 'uncaughtException' },
    { file: 'exits.js', how: 'reject', reason: 'unhandledRejection' },
    { file: 'exits.js', how: 'signal', reason: 'SIGINT', signal: 'SIGINT' },
    { file: 'exits.js', how: 'signal', reason: 'SIGTERM', signal: 'SIGTERM' },
    { file: 'exits.mjs', how: 'normal', reason: 'exit' },
    { file: 'exits.mjs', how: 'exit', reason: 'exit' },
    // A throw while an ES module evaluates rejects the module's promise: Node reports it as such.
    { file: 'exits.mjs', how: 'throw', reason: 'unhandledRejection' },
    { file: 'exits.mjs', how: 'reject', reason: 'unhandledRejection' },
    { file: 'exits.mjs', how: 'signal', reason: 'SIGINT', signal: 'SIGINT' },
  ];
  for (const c of cases) {
    it(`${c.file} ${c.how}${c.signal ? ` (${c.signal})` : ''}`, async () => {
      const onReady = c.signal ? (child: { kill(s: NodeJS.Signals): boolean }) => { child.kill(c.signal!); } : undefined;
      const bare = await node([c.file, c.how], { onReady });
      const inst = await node([c.file, c.how], { onReady, runtime: { socket: collector.socketPath, token: collector.token, mode: 'full' } });
      sameOutput(bare, inst);
      if (c.signal) assert.equal(inst.signal, c.signal);
      await collector.settle(1);
      const conn = collector.connections[0];
      assert.equal(conn.hello?.token, collector.token);
      assert.equal(conn.calls('square'), 500, 'every call of the program is in the deltas');
      const bye = conn.bye();
      assert.ok(bye, 'bye arrives');
      assert.equal(bye.reason, c.reason);
      assert.equal(conn.messages[conn.messages.length - 1].type, 'bye', 'bye is last');
    });
  }

  it('a handled SIGTERM is left to the program (its handler runs, its exit code stays)', async () => {
    const onReady = (child: { kill(s: NodeJS.Signals): boolean }) => { child.kill('SIGTERM'); };
    const bare = await node(['exits.js', 'signal-handled'], { onReady });
    const inst = await node(['exits.js', 'signal-handled'], { onReady, runtime: { socket: collector.socketPath, mode: 'full' } });
    sameOutput(bare, inst);
    assert.match(inst.stdout, /handled/);
    assert.equal(inst.code, 0);
    await collector.settle(1);
    assert.equal(collector.connections[0].calls('square'), 500);
    assert.equal(collector.connections[0].bye()?.reason, 'exit');
  });
});
