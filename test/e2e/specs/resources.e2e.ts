// The resource view of a saved run, as a person opens it later: "Perf Lens: Show Resource View"
// with nothing running (a fresh window: a new insight server) shows a run saved under
// examples/primes/.perf-lens/runs (gauge.e2e.ts, which runs before this file, saves one), and
// its charts follow the colour theme. The view is a webview: nested iframes inside the workbench.
import type { FrameLocator } from 'playwright-core';
import { useWorkbench } from '../harness/hooks';
import type { Workbench } from '../harness/workbench';

const CHARTS = ['cpu', 'memory', 'delay', 'utilisation'];

function view(wb: Workbench): FrameLocator {
  return wb.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

/** Picks a colour theme from "Preferences: Color Theme" (the list previews; Enter applies). */
async function colorTheme(wb: Workbench, name: string): Promise<void> {
  await wb.runCommand('Preferences: Color Theme');
  const input = wb.page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(name);
  await wb.page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor({ timeout: 10_000 });
  await input.press('Enter');
}

interface Styles { getComputedStyle(el: unknown): { borderTopColor: string; color: string } }

function rgb(colour: string): string {
  if (!/^rgba?\(/.test(colour)) throw new Error(`not a computed colour: ${colour}`);
  return colour;
}

describe('Resource view of a saved run in the VS Code workbench', function () {
  const workbench = useWorkbench();

  it('Show Resource View with nothing running opens a saved run: four charts with points, the current/avg/peak table, the run in the list', async () => {
    const wb = workbench();
    await wb.runCommand('Perf Lens: Show Resource View');
    // Nothing live: a quick pick of saved runs, unless the server already selected one.
    const tab = wb.page.locator('.tabs-container .tab', { hasText: 'Perf Lens Resources' });
    // (By its title: right after the click the palette's own row may still be on screen.)
    const pick = wb.page.locator('.quick-input-widget', { has: wb.page.locator('.quick-input-title', { hasText: 'resources of which saved run' }) })
      .locator('.quick-input-list .monaco-list-row').first();
    await tab.or(pick).first().waitFor({ timeout: 30_000 });
    if (await pick.isVisible()) await pick.click();
    await tab.waitFor({ timeout: 30_000 });

    const v = view(wb);
    await wb.expectText(v.locator('#state'), /saved run|ended/, 30_000);
    for (const id of CHARTS) {
      const chart = v.locator(`#chart-${id}[data-points]`);
      await chart.waitFor({ timeout: 10_000 });
      const points = Number(await chart.getAttribute('data-points'));
      if (!(points > 0)) throw new Error(`the ${id} chart of the saved run has ${points} points`);
      await chart.locator('canvas').waitFor();
    }
    const cpuLabel = await v.locator('#chart-cpu').getAttribute('aria-label');
    if (!/avg [\d.]+%, peak [\d.]+%/.test(cpuLabel ?? '')) throw new Error(`CPU chart label without avg/peak: ${cpuLabel}`);
    // The table: one row per GAUGE_ROWS entry, figures in every column.
    await wb.expectText(v.locator('#summary-body'), /CPU\s*[\d,]+%\s*[\d,]+%\s*[\d,]+%/, 10_000);
    if ((await v.locator('#summary-body tr').count()) !== 7) throw new Error('the summary table lacks rows');
    // The run shown is the one selected in the list of sources.
    const title = await v.locator('#title').innerText();
    const option = await v.locator('#source').evaluate((s) => (s as unknown as { selectedOptions: { text: string }[] }).selectedOptions[0]?.text ?? '');
    if (!title || !option.startsWith(title)) throw new Error(`the list selects "${option}" while the view shows "${title}"`);
  });

  it('the charts take the colour theme\'s colours, and follow a theme change', async () => {
    const wb = workbench();
    // uPlot's legend marker of the first line (the tree total: --vscode-foreground).
    const marker = view(wb).locator('#chart-cpu .u-legend .u-series:nth-child(2) .u-marker');
    // These run in the webview (the test's tsconfig has no DOM types, hence the cast).
    const colour = async () => rgb(await marker.evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).borderTopColor));
    const foreground = async () => rgb(await view(wb).locator('body').evaluate((b) => (globalThis as unknown as Styles).getComputedStyle(b).color));
    // The e2e workbench starts in Light Modern (scripts/e2e/start-code-server.sh).
    const light = await colour();
    if (light !== (await foreground())) throw new Error(`the total's line ${light} is not the theme's foreground ${await foreground()}`);
    await colorTheme(wb, 'Dark Modern');
    wb.restoreAfterScreenshot(() => colorTheme(wb, 'Light Modern'));
    await view(wb).locator('body.vscode-dark').waitFor({ timeout: 15_000 });
    const deadline = Date.now() + 10_000;
    while ((await colour()) === light) {
      if (Date.now() > deadline) throw new Error(`the chart kept its light-theme colour ${light}`);
      await wb.page.waitForTimeout(100);
    }
    const dark = await colour();
    if (dark !== (await foreground())) throw new Error(`after the change the total's line ${dark} is not the foreground ${await foreground()}`);
    const points = Number(await view(wb).locator('#chart-cpu').getAttribute('data-points'));
    if (!(points > 0)) throw new Error(`the rebuilt chart has ${points} points`);
  });

  it('with nothing in memory (Perf Lens: Clear), Show Resource View asks which saved run and shows the one picked', async () => {
    const wb = workbench();
    const shown = await view(wb).locator('#title').innerText();
    await wb.runCommand('Perf Lens: Clear');
    await wb.runCommand('Perf Lens: Show Resource View');
    const quickPick = wb.page.locator('.quick-input-widget', { has: wb.page.locator('.quick-input-title', { hasText: 'resources of which saved run' }) });
    const rows = quickPick.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor({ timeout: 30_000 });
    // Another run than the one shown, when there is one (a clean clone may have saved only one).
    const ids = (await rows.locator('.label-name').allInnerTexts()).map((t) => t.trim());
    if (!ids.every((i) => /^\d{4}-\d\d-\d\dT/.test(i))) throw new Error(`the pick lists ${ids.join(', ')}: not saved run ids`);
    const index = Math.max(0, ids.findIndex((i) => `run ${i}` !== shown));
    const id = ids[index];
    await rows.nth(index).click();
    // The open panel switches to it.
    await wb.expectText(view(wb).locator('#title'), `run ${id}`, 30_000);
    await wb.expectText(view(wb).locator('#state'), 'saved run', 10_000);
    const points = Number(await view(wb).locator('#chart-memory').getAttribute('data-points'));
    if (!(points > 0)) throw new Error(`the picked run's memory chart has ${points} points`);
  });
});
