// The resource view in the real extension host: "Perf Lens: Show Resource View" opens one webview
// panel for a session or saved run, and the export writes the gauge samples as CSV and JSON.
// (What the webview draws is checked in the browser: test/e2e/specs/gauge.e2e.ts.)
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GaugeHistoryData } from '../../../src/model/gauge';
import { closeEverything, debugToEnd, launch, runFiles } from './helpers';

function resourceTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('perfLens.resources'));
}

async function until<T>(what: string, check: () => T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Resource view', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-resources-')); });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await closeEverything();
  });

  it('opens one panel for a session or a saved run, and exports its samples as CSV and JSON', async () => {
    const session = await debugToEnd(launch('Perf Lens IT: resource view', 'resources.js', { env: { PERF_LENS_EXAMPLE_SECONDS: '3' } }));
    const sessionId = session.configuration.__perfLensSession as string;
    assert.ok(sessionId, 'a measured launch');

    assert.equal(await vscode.commands.executeCommand('perfLens.showResources', sessionId), true);
    const tab = await until('the "Perf Lens Resources" tab', () => resourceTabs()[0]);
    assert.equal(tab.label, 'Perf Lens Resources');
    // A second open reuses the panel.
    assert.equal(await vscode.commands.executeCommand('perfLens.showResources', sessionId), true);
    assert.equal(resourceTabs().length, 1);

    const csvFile = path.join(dir, 'samples.csv');
    assert.equal(await vscode.commands.executeCommand('perfLens.exportResources', sessionId, 'csv', csvFile), csvFile);
    const csv = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
    assert.equal(csv[0], 'time,pid,cpuPercent,rss,heapUsed,eventLoopDelayP99Ms,eventLoopUtilization,activeHandles,source');
    assert.ok(csv.filter((l) => /,all,/.test(l)).length >= 2, 'a tree row per tick');
    assert.ok(csv.some((l) => /^\S+,\d+,[\d.]+,\d+,\d+,[\d.]+,[\d.]+,\d+,pidusage$/.test(l)), csv.slice(0, 4).join('\n'));

    // The saved run of that session, by its id as "Open Saved Run" lists it.
    const runId = path.basename(runFiles().at(-1)!, '.json');
    const jsonFile = path.join(dir, 'samples.json');
    await vscode.commands.executeCommand('perfLens.exportResources', runId, 'json', jsonFile);
    const saved = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as GaugeHistoryData & { origin: string; sessionId: string };
    assert.equal(saved.origin, 'gauge');
    assert.equal(saved.intervalMs, 1000);
    assert.ok(saved.samples.length >= 2 && saved.samples.length === saved.sampleCount);
    assert.equal(saved.samples.length, csv.filter((l) => /,all,/.test(l)).length, 'the saved run holds the same samples');
    assert.ok(saved.peak!.rss >= saved.avg!.rss);

    assert.equal(await vscode.commands.executeCommand('perfLens.showResources', runId), true);
    assert.equal(resourceTabs().length, 1, 'the same panel switches to the run');
  });
});
