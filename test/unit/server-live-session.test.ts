import { strict as assert } from 'assert';
import type * as net from 'net';
import { bucketIndex } from '../../src/model/histogram';
import type { FunctionDelta } from '../../src/protocol/runtime';
import { LiveSession } from '../../src/server/sources';
import { connect, hello, line, until } from './runtime-socket';
import { wireDelta } from './wire-delta';

const one = (id: number, ns: number): FunctionDelta => ({ id, calls: 1, errors: 0, timed: 1, totalNs: ns, minNs: ns, maxNs: ns, hist: [bucketIndex(ns), 1] });

describe('server: live session (real collector socket)', () => {
  let session: LiveSession | undefined;
  let socket: net.Socket | undefined;
  afterEach(async () => {
    socket?.destroy();
    await session?.close();
  });

  it('merges held deltas before every read: all of them, in order, past the hold limit, and tells which files each touched', async () => {
    const touched: string[][] = [];
    session = await LiveSession.start({ name: 't', mode: 'full' }, {
      onData: (_s, files) => touched.push([...files].sort()),
      onChange: () => undefined,
      log: () => undefined,
    });
    socket = await connect(session.socketPath);
    const lines = [
      line(hello(session.token, 777)),
      line({ type: 'functions', defs: [
        { id: 0, name: 'hot', file: '/app/a.js', line: 1, column: 1, kind: 'sync' },
        { id: 1, name: 'rare', file: '/app/b.js', line: 1, column: 1, kind: 'sync' },
      ] }),
    ];
    // 150 deltas (more than the session holds before merging on its own): `hot` in each, `rare` in every 10th.
    for (let k = 0; k < 150; k++) lines.push(line(wireDelta({ type: 'delta', at: k, fns: k % 10 === 0 ? [one(0, 1000 + k), one(1, 5000)] : [one(0, 1000 + k)] })));
    socket.write(lines.join(''));
    await until(() => session!.deltasReceived === 150, '150 deltas');
    assert.equal(touched.length, 150);
    assert.deepEqual(touched[0], ['/app/a.js', '/app/b.js']);
    assert.deepEqual(touched[1], ['/app/a.js']);
    const [hot] = session.functionsIn('/app/a.js');
    assert.equal(hot.calls, 150);
    assert.equal(hot.minMs, 0.001);
    assert.equal(hot.maxMs, 0.001149);
    assert.equal(session.functionsIn('/app/b.js')[0].calls, 15);
    // A delta after the read is merged by the next read, and the report sees everything.
    socket.write(line(wireDelta({ type: 'delta', at: 150, fns: [one(1, 5000)] })));
    await until(() => session!.deltasReceived === 151, 'one more delta');
    const report = session.report();
    assert.deepEqual(report.functions.map((f) => [f.name, f.calls]).sort(), [['hot', 150], ['rare', 16]]);
    assert.equal(report.processes[0].pid, 777);
  });
});
