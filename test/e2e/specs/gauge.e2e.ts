// The status-bar resource gauge and the resource view, as a person sees them in the workbench:
// examples/primes/resources.js (a parent burning ~90% of a core and growing its memory, plus a
// forked child) debugged through js-debug from the "Resources example" launch configuration.
import { useWorkbench } from '../harness/hooks';

const GAUGE_TEXT = /\d[\d,]*% CPU · [\d.,]+ MiB/;

describe('Perf Lens resource gauge in the VS Code workbench', function () {
  const workbench = useWorkbench();

  it('while resources.js runs, the status bar shows its CPU% and memory, and says once when CPU crosses 80%', async () => {
    const wb = workbench();
    await wb.openFromExplorer('resources.js');
    await wb.runCommand('Debug: Select and Start Debugging');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Resources example (resources.js)' }).first().click();
    const gauge = wb.page.locator('.statusbar-item', { hasText: GAUGE_TEXT });
    await wb.expectText(gauge, GAUGE_TEXT, 60_000);
    // The threshold notification (fade-in-done: slid in, so the screenshot shows it).
    await wb.page.locator('.notification-toast.notification-fade-in-done', { hasText: /over the (80% threshold|50% threshold)/ })
      .first().waitFor({ timeout: 30_000 });
    // Past the threshold the item takes the theme's warning or error background.
    const coloured = `(() => [...document.querySelectorAll('.statusbar-item')].some((el) => /% CPU · /.test(el.textContent)
      && (el.classList.contains('warning-kind') || el.classList.contains('error-kind'))))()`;
    await wb.page.waitForFunction(coloured, undefined, { timeout: 30_000 });
    // Its tooltip: the current / avg / peak table and the last minute's sparkline.
    await wb.page.locator('.statusbar-item', { hasText: GAUGE_TEXT }).first().hover();
    const hover = wb.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Perf Lens resources' }).first();
    await hover.locator('th', { hasText: 'peak' }).waitFor({ timeout: 15_000 });
    await wb.expectText(hover, /CPU, last minute:\s*[▁▂▃▄▅▆▇█]+/, 10_000);
    await wb.expectText(hover, /Processes\s*2/, 10_000);
  });

  it('clicking the gauge opens the resource view, whose charts have data points', async () => {
    const wb = workbench();
    await wb.page.locator('.statusbar-item', { hasText: GAUGE_TEXT }).first().click();
    await wb.page.locator('.tabs-container .tab', { hasText: 'Perf Lens Resources' }).waitFor({ timeout: 30_000 });
    const view = wb.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    const cpuChart = view.locator('[data-points]').first();
    await cpuChart.waitFor({ timeout: 30_000 });
    // Live: the number of points grows while the program runs.
    const points = async () => Number(await cpuChart.getAttribute('data-points'));
    const first = await points();
    const deadline = Date.now() + 20_000;
    while ((await points()) <= Math.max(first, 1)) {
      if (Date.now() > deadline) throw new Error(`the CPU chart stayed at ${await points()} points`);
      await wb.page.waitForTimeout(250);
    }
    await view.locator('canvas').first().waitFor();
  });

  it('when the program ends, the gauge goes away and the view keeps the final run', async () => {
    const wb = workbench();
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 60_000 });
    await wb.waitUntilNotDebugging();
    await wb.page.locator('.statusbar-item', { hasText: GAUGE_TEXT }).first().waitFor({ state: 'detached', timeout: 30_000 });
    const view = wb.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await view.locator('[data-points]').first().waitFor({ timeout: 10_000 });
    const n = Number(await view.locator('[data-points]').first().getAttribute('data-points'));
    if (!(n >= 5)) throw new Error(`the final run shows ${n} points`);
  });

  it('the view keeps its state when hidden and shown again (paused stays paused, the charts come back)', async () => {
    const wb = workbench();
    const view = () => wb.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await view().locator('button#pause', { hasText: 'Pause' }).click();
    await view().locator('button#pause', { hasText: 'Resume' }).waitFor({ timeout: 10_000 });
    // Another editor in front: the webview is torn down (no retainContextWhenHidden) ...
    await wb.page.locator('.tabs-container .tab', { hasText: 'resources.js' }).click();
    await wb.page.locator('iframe.webview.ready').first().waitFor({ state: 'hidden', timeout: 10_000 });
    // ... and rebuilt from its saved state when it is shown again.
    await wb.page.locator('.tabs-container .tab', { hasText: 'Perf Lens Resources' }).click();
    await view().locator('button#pause[aria-pressed="true"]', { hasText: 'Resume' }).waitFor({ timeout: 30_000 });
    await view().locator('#paused', { hasText: 'paused' }).waitFor({ timeout: 10_000 });
    const n = Number(await view().locator('[data-points]').first().getAttribute('data-points'));
    if (!(n >= 5)) throw new Error(`after showing it again the chart has ${n} points`);
    wb.restoreAfterScreenshot(() => wb.runCommand('View: Close All Editors'));
  });
});
