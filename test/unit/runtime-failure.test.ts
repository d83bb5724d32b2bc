import { strict as assert } from 'assert';
import * as path from 'path';
import { Collector, node, sameOutput } from './runtime-harness';

// When the runtime cannot do its job, the program runs on unchanged with ONE clear warning.
describe('runtime: failures leave the program running, with one warning', function () {
  this.timeout(60000);

  it('dead socket: one warning on stderr, same stdout and exit code', async () => {
    const bare = await node(['exits.js', 'exit']);
    const inst = await node(['exits.js', 'exit'], { runtime: { socket: path.join(__dirname, 'no-such-dir', 'gone.sock'), mode: 'full' } });
    assert.equal(inst.stdout, bare.stdout);
    assert.equal(inst.code, bare.code);
    const lines = inst.stderr.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, 1, `exactly one line: ${inst.stderr}`);
    assert.match(lines[0], /^perf-lens: cannot reach the collector at .*gone\.sock \(ENOENT\); the program runs on unmeasured/);
  });

  it('dead socket with PERF_LENS_QUIET=1: nothing on stderr', async () => {
    const bare = await node(['exits.js', 'normal']);
    const inst = await node(['exits.js', 'normal'], { runtime: { socket: '/nonexistent/perf-lens.sock', quiet: true } });
    sameOutput(bare, inst);
  });

  it('a file the transform cannot handle runs unmeasured with one warning naming it; the rest is measured', async () => {
    const collector = await new Collector().listen();
    try {
      const bare = await node(['unparsable.js']);
      const inst = await node(['unparsable.js'], { runtime: { socket: collector.socketPath, mode: 'full' } });
      assert.equal(inst.stdout, bare.stdout);
      assert.equal(inst.code, 0);
      const lines = inst.stderr.split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, 1, `one warning: ${inst.stderr}`);
      assert.match(lines[0], /^perf-lens: .*unparsable\.js runs unmeasured: the instrumentation failed \(/);
      await collector.settle(1);
      const conn = collector.connections[0];
      assert.equal(conn.calls('helper'), 1, 'the other file is measured');
      assert.equal(conn.calls('notMeasured'), 0);
      const warnings = conn.messages.filter((m) => m.type === 'warning');
      assert.equal(warnings.length, 1);
      assert.match(warnings[0].type === 'warning' ? warnings[0].file ?? '' : '', /unparsable\.js$/);
    } finally {
      await collector.close();
    }
  });

  it('an ES module the transform cannot handle (hooks thread): one warning naming it, the rest measured', async () => {
    const collector = await new Collector().listen();
    try {
      const bare = await node(['esm-unparsable.mjs']);
      const inst = await node(['esm-unparsable.mjs'], { runtime: { socket: collector.socketPath, mode: 'full' } });
      assert.equal(inst.stdout, bare.stdout);
      assert.equal(inst.code, 0);
      const ours = inst.stderr.split('\n').filter((l) => l.startsWith('perf-lens'));
      assert.equal(ours.length, 1, `one warning: ${inst.stderr}`);
      assert.match(ours[0], /esm-unparsable\.mjs runs unmeasured: the instrumentation failed \(/);
      // Node's own deprecation warning for `assert` is printed either way.
      assert.equal(inst.stderr.split('\n').filter((l) => !l.startsWith('perf-lens')).join('\n').replace(/\(node:\d+\)/, ''), bare.stderr.replace(/\(node:\d+\)/, ''));
      await collector.settle(1);
      const conn = collector.connections[0];
      assert.equal(conn.calls('triple'), 1, 'the imported module is measured');
      assert.equal(conn.calls('notMeasured'), 0);
      assert.equal(conn.warnings().length, 1);
    } finally {
      await collector.close();
    }
  });

  it('bad settings: one warning each, defaults used, the program runs', async () => {
    const inst = await node(['exits.js', 'normal'], { env: { PERF_LENS_MODE: 'fastest', PERF_LENS_SAMPLE_EVERY: 'x' }, runtime: {} });
    assert.equal(inst.code, 0);
    assert.match(inst.stderr, /PERF_LENS_MODE=fastest is not one of adaptive, full, sampled, count; using adaptive/);
    assert.match(inst.stderr, /PERF_LENS_SAMPLE_EVERY=x is not an integer >= 1; using 64/);
  });
});
