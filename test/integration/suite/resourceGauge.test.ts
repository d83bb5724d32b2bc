// The status-bar resource gauge in the real extension host: js-debug launches
// examples/primes/resources.js (a parent burning ~90% of a core and growing its memory, plus a
// forked child); the gauge follows it live, turns to the warning/error colour past the CPU
// threshold, and goes away with the session, leaving no gauge timer in the insight server.
import { strict as assert } from 'assert';
import * as vscode from 'vscode';
import type { PerfLensApi } from '../../../src/extension/extension';
import type { GaugeSnapshot } from '../../../src/extension/resourceGauge';
import { closeEverything, examplePath, nextEvent, perfLens, workspaceFolder } from './helpers';

async function api(): Promise<PerfLensApi> {
  return (await perfLens().activate()) as PerfLensApi;
}

/** Polls the gauge until `check` accepts it. */
async function gaugeUntil(what: string, check: (g: GaugeSnapshot) => boolean, ms = 30_000): Promise<GaugeSnapshot> {
  const perf = await api();
  const deadline = Date.now() + ms;
  let last = perf.resourceGauge();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the gauge: ${what}; it shows ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = perf.resourceGauge();
  }
  return last;
}

describe('Status-bar resource gauge', function () {
  this.timeout(120_000);
  const config = () => vscode.workspace.getConfiguration('perfLens');
  beforeEach(closeEverything);
  afterEach(async () => {
    await config().update('gauge.intervalMs', undefined, vscode.ConfigurationTarget.Global);
    await config().update('gauge.pinned', undefined, vscode.ConfigurationTarget.Global);
  });

  it('follows a launched program live, turns to the warning colour past the CPU threshold, and disappears with the session', async () => {
    await config().update('gauge.intervalMs', 500, vscode.ConfigurationTarget.Global);
    const perf = await api();
    assert.equal(perf.resourceGauge().visible, false, 'hidden while nothing is measured');

    const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.name === 'Perf Lens IT: resources' && !s.parentSession, 'the debug session to start');
    assert.ok(await vscode.debug.startDebugging(workspaceFolder(), {
      type: 'node', request: 'launch', name: 'Perf Lens IT: resources', program: examplePath('resources.js'),
      console: 'internalConsole', env: { PERF_LENS_EXAMPLE_SECONDS: '8' },
    }));
    const session = await started;
    const ended = nextEvent(vscode.debug.onDidTerminateDebugSession, (s) => s.id === session.id, 'the debug session to end', 90_000);

    const live = await gaugeUntil('CPU% and MiB of two processes', (g) => g.visible && /^\$\(pulse\) \d[\d,]*% CPU · [\d.,]+ MiB$/.test(g.text) && /\| Processes \| 2 \|/.test(g.tooltip));
    assert.match(live.tooltip, /\| \| current \| avg \| peak \|/);
    assert.match(live.tooltip, /\| RSS \| [\d.,]+ MiB \| [\d.,]+ MiB \| [\d.,]+ MiB \|/);
    assert.match(live.tooltip, /CPU, last minute: `[▁▂▃▄▅▆▇█]+`/);
    assert.match(live.accessibilityLabel, /^Perf Lens resources of .+: \d+ percent CPU, [\d.,]+ MiB memory, 2 processes/);

    // ~90% + ~20% of a core: over the default 80% threshold (error colour above 160%).
    const hot = await gaugeUntil('the threshold colour', (g) => g.background !== null);
    assert.ok(['statusBarItem.warningBackground', 'statusBarItem.errorBackground'].includes(hot.background!), hot.background!);
    assert.match(hot.tooltip, /\$\((warning|error)\) (CPU \d+% is over the 80% threshold|memory growth \d+% is over the 50% threshold)/);
    assert.deepEqual(hot.sessions.length, 1);

    await ended;
    const gone = await gaugeUntil('to disappear after the session', (g) => !g.visible, 15_000);
    assert.deepEqual(gone.sessions, []);
    const stats = await perf.serverStats();
    assert.equal(stats.gaugeTimers, 0, 'no gauge timer left in the insight server');

    // Pinned, it stays as `idle`.
    await config().update('gauge.pinned', true, vscode.ConfigurationTarget.Global);
    const idle = await gaugeUntil('pinned idle', (g) => g.visible);
    assert.equal(idle.text, '$(pulse) idle');
    assert.equal(idle.background, null);
  });
  it('with two measured sessions, a click offers a quick pick of them and the gauge follows the one picked', async () => {
    await config().update('gauge.intervalMs', 500, vscode.ConfigurationTarget.Global);
    const perf = await api();
    const names = ['Perf Lens IT: first', 'Perf Lens IT: second'];
    const sessions: vscode.DebugSession[] = [];
    for (const name of names) {
      const started = nextEvent(vscode.debug.onDidStartDebugSession, (s) => s.configuration.name === name && !s.parentSession, `${name} to start`);
      assert.ok(await vscode.debug.startDebugging(workspaceFolder(), {
        type: 'node', request: 'launch', name, program: examplePath('resources.js'), console: 'internalConsole', env: { PERF_LENS_EXAMPLE_SECONDS: '10' },
      }));
      sessions.push(await started);
      // The second one starts once the first is on the gauge, so "most recent" is well defined.
      await gaugeUntil(`${name} on the gauge`, (g) => g.sessions.length === sessions.length);
    }
    const ended = Promise.all(sessions.map((s) => nextEvent(vscode.debug.onDidTerminateDebugSession, (e) => e.id === s.id, `${s.name} to end`, 90_000)));
    const [olderId, newerId] = (await gaugeUntil('two sessions', (g) => g.sessions.length === 2)).sessions;
    assert.equal(perf.resourceGauge().sessionId, newerId, 'follows the most recently started session');
    // Both sessions tick every 500 ms: over four ticks of each, the gauge never flips to the other one.
    const followedMeanwhile = new Set<string | null>();
    for (const until = Date.now() + 2_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) followedMeanwhile.add(perf.resourceGauge().sessionId);
    assert.deepEqual([...followedMeanwhile], [newerId]);

    // The pick lists the newest first, with the first session the gauge does not follow preselected.
    let clicked = false;
    const click = Promise.resolve(vscode.commands.executeCommand('perfLens.gauge.click')).then(() => { clicked = true; });
    const deadline = Date.now() + 20_000;
    while (!clicked && Date.now() < deadline) {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem'); // Enter (a no-op until the pick shows)
      await Promise.race([click, new Promise((r) => setTimeout(r, 200))]);
    }
    await click;
    assert.equal(perf.resourceGauge().sessionId, olderId, 'follows the picked session');
    await gaugeUntil('still following the pick after more ticks', (g) => g.sessionId === olderId && g.sessions.length === 2, 5_000);

    for (const s of sessions) await vscode.debug.stopDebugging(s);
    await ended;
    await gaugeUntil('to disappear after both sessions', (g) => !g.visible && g.sessions.length === 0, 20_000);
    assert.equal((await perf.serverStats()).gaugeTimers, 0);
  });
});
