// What a person sees of Perf Lens in VS Code 1.100.3 (code-server) in Chromium.
// Each `it()` is one check; a screenshot of the workbench is saved after each (see hooks.ts).
import * as fs from 'fs';
import * as path from 'path';
import { useWorkbench } from '../harness/hooks';
import { EXAMPLE_WORKSPACE } from '../harness/paths';
import { log } from '../harness/workbench';

const RUN_COMMAND = 'Perf Lens: Run Current File with Perf Lens';

describe('Perf Lens in the VS Code workbench', function () {
  const workbench = useWorkbench();

  it('opens the examples/primes workspace', async () => {
    const wb = workbench();
    await wb.expectText(wb.page.locator('.explorer-folders-view .monaco-list-row'), 'main.js');
  });

  it('lists "Perf Lens: Run Current File with Perf Lens" in the command palette', async () => {
    const wb = workbench();
    await wb.paletteEntry(RUN_COMMAND);
  });

  it('runs main.js with Perf Lens: the terminal shows the program output and the timing table', async () => {
    const wb = workbench();
    await wb.openFromExplorer('main.js');
    await wb.runCommand(RUN_COMMAND);
    await wb.maximizePanel(); // room for the whole output: the terminal renders only visible rows
    await wb.expectText(wb.terminalRows(), /isPrime\*? +main\.js:4 /, 90_000); // a row of the timing table
    await wb.expectText(wb.terminalRows(), 'primes below 200000: 17984'); // the program's own output
  });

  it('shows Perf Lens as activated in Running Extensions', async () => {
    const wb = workbench();
    await wb.runCommand('Developer: Show Running Extensions');
    const row = await wb.listRow(wb.page.locator('.runtime-extensions-editor .monaco-list'), 'Perf Lens');
    await wb.expectText(row, /Activation: \d+ms/, 30_000);
    log(`Perf Lens ${/(?:Startup )?Activation: \d+ms/.exec(await row.innerText())?.[0] ?? '(activation time not shown)'}`);
  });

  // Before the main.js debug check: that one makes "Run primes (main.js)" the configuration F5 starts.
  it('Stop in the debugger: the status bar says the program was stopped (not that it crashed)', async () => {
    const wb = workbench();
    await wb.openFromExplorer('resources.js');
    await wb.runCommand('Debug: Select and Start Debugging');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Resources example (resources.js)' }).first().click();
    // The resource gauge shows once the measured program runs and reports.
    await wb.page.locator('.statusbar-item', { hasText: /% CPU · / }).first().waitFor({ timeout: 60_000 });
    await wb.runCommand('Debug: Stop');
    await wb.expectText(wb.page.locator('.statusbar-item'), /stopped from the debugger; the data received so far is kept/, 30_000);
    const said = await wb.page.locator('.statusbar-item', { hasText: /Perf Lens: / }).allInnerTexts();
    if (said.some((t) => /ended abruptly/.test(t))) throw new Error(`a Stop was reported as a crash: ${JSON.stringify(said)}`);
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 }); // session over
    await wb.waitUntilNotDebugging();
    // Nothing runs any more: the gauge (shown only while measured processes run) is gone.
    await wb.page.locator('.statusbar-item', { hasText: /% CPU · / }).first().waitFor({ state: 'detached', timeout: 30_000 });
    // The example also crosses the gauge's thresholds: clear their toasts for the next checks.
    wb.restoreAfterScreenshot(() => wb.runCommand('Notifications: Clear All Notifications'));
  });

  it('debugs main.js with js-debug: output in the Debug Console, then the session ends', async () => {
    const wb = workbench();
    await wb.openFromExplorer('main.js');
    await wb.runCommand('Debug: Select and Start Debugging');
    await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Run primes (main.js)' }).first().click();
    await wb.expectText(wb.page.locator('.repl .monaco-list-row'), 'primes below 200000: 17984', 60_000);
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 }); // session over
    await wb.waitUntilNotDebugging();
  });

  it('F5 on main.js shows live timings as a CodeLens over isPrime', async () => {
    const wb = workbench();
    await wb.runCommand('Perf Lens: Clear'); // forget earlier runs: the lens must come from this launch
    await wb.openFromExplorer('main.js');
    const isPrimeLine = wb.page.locator('.monaco-editor .view-line', { hasText: 'function isPrime(n)' });
    const lenses = wb.page.locator('.monaco-editor .codelens-decoration', { hasText: /avg .* · p95 .* · [\d,]+ calls/ });
    await lenses.first().waitFor({ state: 'detached', timeout: 15_000 });
    await isPrimeLine.click();
    await wb.page.keyboard.press('F5');
    await wb.expectText(lenses, /avg .* · p95 .* · [\d,]+ calls/, 60_000);
    await wb.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 30_000 });
    await wb.waitUntilNotDebugging();
    // The lens that sits right above `function isPrime(n)` (lenses are view zones above their line).
    const line = (await isPrimeLine.boundingBox())!;
    const above = [];
    for (const lens of await lenses.all()) {
      const box = await lens.boundingBox();
      if (box && Math.abs(box.y + box.height - line.y) < line.height) above.push(await lens.innerText());
    }
    if (above.length !== 1 || !/ 199,998 calls/.test(above[0])) throw new Error(`expected one lens "... 199,998 calls" over isPrime, found ${JSON.stringify(above)}`);
  });

  it('hovering isPrime shows its full timings', async () => {
    const wb = workbench();
    const name = wb.page.locator('.monaco-editor .view-line', { hasText: 'function isPrime(n)' }).locator('span', { hasText: /^isPrime$/ }).first();
    const hover = wb.page.locator('.monaco-hover-content', { hasText: 'isPrime' });
    for (let attempt = 0; ; attempt++) {
      await name.hover();
      try {
        await hover.filter({ hasText: /199,998 calls/ }).first().waitFor({ timeout: 10_000 });
        break;
      } catch (err) {
        if (attempt === 2) throw err;
        await wb.page.mouse.move(0, 0); // hovers reappear only after the pointer leaves
      }
    }
    await wb.expectText(hover, /p95/);
    await wb.expectText(hover, /total .* of run/);
  });

  it('clicking the isPrime lens opens a preview with its full statistics', async () => {
    const wb = workbench();
    await wb.openFromExplorer('main.js');
    await wb.page.locator('.monaco-editor .codelens-decoration a', { hasText: / 199,998 calls/ }).first().click();
    // The Markdown preview is a webview: its tab, then the table inside it.
    await wb.page.locator('.tabs-container .tab', { hasText: /Preview isPrime/ }).waitFor({ timeout: 30_000 });
    const preview = wb.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await preview.locator('h1', { hasText: 'isPrime' }).waitFor({ timeout: 30_000 });
    await preview.locator('td', { hasText: '199,998' }).first().waitFor({ timeout: 10_000 });
    wb.restoreAfterScreenshot(() => wb.runCommand('View: Close All Editors'));
  });

  it('perfLens.lens.display "inline" shows the timings at the end of the function line instead', async () => {
    const wb = workbench();
    const settings = path.join(EXAMPLE_WORKSPACE, '.vscode', 'settings.json');
    if (fs.existsSync(settings)) throw new Error(`${settings} exists: this check writes and removes it`);
    await wb.openFromExplorer('main.js');
    fs.writeFileSync(settings, JSON.stringify({ 'perfLens.lens.display': 'inline' }, null, 2));
    wb.restoreAfterScreenshot(async () => {
      fs.rmSync(settings, { force: true });
      await wb.page.locator('.monaco-editor .codelens-decoration', { hasText: / 199,998 calls/ }).first().waitFor({ timeout: 30_000 });
    });
    await wb.page.locator('.monaco-editor .codelens-decoration', { hasText: / calls/ }).first().waitFor({ state: 'detached', timeout: 30_000 });
    // Extension decorations render their text as CSS ::after content of a span in the line (spaces
    // become non-breaking ones: \\s matches both).
    const inlineShown = `(() => [...document.querySelectorAll('.monaco-editor .view-line')]
      .filter((l) => l.textContent.replace(/\\s/g, ' ').includes('function isPrime(n)'))
      .some((l) => [...l.querySelectorAll('span')].some((s) => /avg\\s.*\\sp95\\s.*\\s199,998\\scalls/.test(getComputedStyle(s, '::after').content))))()`;
    await wb.page.waitForFunction(inlineShown, undefined, { timeout: 30_000 });
  });

  it('refuses to run a file that is not JavaScript, with a notification saying why', async () => {
    const wb = workbench();
    if (!(await (await wb.explorerRow('launch.json')).isVisible())) await (await wb.explorerRow('.vscode')).click(); // expand
    await wb.openFromExplorer('launch.json');
    await wb.runCommand(RUN_COMMAND);
    // fade-in-done: the toast has finished sliding in (so the screenshot shows it).
    await wb.page.locator('.notification-toast.notification-fade-in-done', { hasText: 'Perf Lens can only run JavaScript or TypeScript files' })
      .first().waitFor({ timeout: 30_000 });
    wb.restoreAfterScreenshot(() => wb.runCommand('Notifications: Clear All Notifications'));
  });

  it('after a window reload the saved run shows again: the isPrime lens, without running anything', async () => {
    const wb = workbench();
    // The runs the checks above saved; the newest is what a new insight server loads at start.
    const runsDir = path.join(EXAMPLE_WORKSPACE, '.perf-lens', 'runs');
    const runs = () => (fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((f) => f.endsWith('.json')).sort() : []);
    const saved = runs();
    if (saved.length === 0) throw new Error(`no saved run in ${runsDir}: the run and debug checks above save them`);
    const newest = JSON.parse(fs.readFileSync(path.join(runsDir, saved[saved.length - 1]), 'utf8')) as { functions: { name: string; file: string; calls: number }[] };
    const isPrime = newest.functions.find((f) => f.name === 'isPrime' && path.basename(f.file) === 'main.js');
    if (!isPrime) throw new Error(`the newest saved run ${saved[saved.length - 1]} has no isPrime of main.js`);
    const calls = `${isPrime.calls.toLocaleString('en-US')} calls`;

    // Forget the runs in this window first: a lens after the reload can only come from the disk.
    await wb.openFromExplorer('main.js');
    await wb.runCommand('Perf Lens: Clear');
    const lenses = wb.page.locator('.monaco-editor .codelens-decoration', { hasText: /avg .* · p95 .* · [\d,]+ calls/ });
    await lenses.first().waitFor({ state: 'detached', timeout: 15_000 });

    // code-server logs each extension host it launches: the reload must start a new one.
    const hostsLaunched = () => fs.readFileSync(wb.server.log, 'utf8').split('Launched Extension Host Process').length - 1;
    const hostsBefore = hostsLaunched();
    await wb.reloadWindow();
    await wb.openFromExplorer('main.js');
    await wb.expectText(lenses, /avg .* · p95 .* · [\d,]+ calls/, 60_000);
    if (hostsLaunched() <= hostsBefore) throw new Error(`the reload started no new extension host (${hostsBefore} launched before, ${hostsLaunched()} after; ${wb.server.log})`);
    // The lens right above `function isPrime(n)` carries the saved run's count.
    const isPrimeLine = wb.page.locator('.monaco-editor .view-line', { hasText: 'function isPrime(n)' });
    const above = await wb.lensesAbove(isPrimeLine, lenses);
    if (above.length !== 1 || !above[0].includes(` ${calls}`)) throw new Error(`expected one lens "... ${calls}" over isPrime, found ${JSON.stringify(above)}`);
    const after = runs();
    if (after.join() !== saved.join()) throw new Error(`nothing may run across the reload, but the saved runs changed: ${JSON.stringify(saved)} -> ${JSON.stringify(after)}`);
  });
});
