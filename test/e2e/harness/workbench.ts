// The VS Code workbench (code-server) in Chromium, with the packaged Perf Lens installed, plus
// the few UI moves the checks need. Selectors are VS Code 1.100's.
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, workbenchUrl } from './browser';
import { installCodeServer, startCodeServer, type CodeServer } from './codeServer';
import { EXAMPLE_WORKSPACE, artifactsDir } from './paths';
import { packageExtension } from './vsix';

export const ARTIFACTS = artifactsDir('e2e');
const t0 = Date.now();
export const log = (msg: string) => console.log(`      [e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

export interface WorkbenchOptions {
  headed?: boolean;
  slowMo?: number;
}

export class Workbench {
  private readonly restores: (() => Promise<void>)[] = [];

  private constructor(readonly server: CodeServer, readonly browser: Browser, readonly page: Page, readonly url: string) {}

  /** Installs code-server if needed, packages the .vsix, starts both and opens examples/primes. */
  static async open(options: WorkbenchOptions = {}): Promise<Workbench> {
    log(`code-server: ${installCodeServer()}`);
    const browser = await launchBrowser(options); // first: a missing display or Chromium fails fast
    const { vsix } = packageExtension();
    log(`packaged ${path.basename(vsix)}`);
    const server = startCodeServer({ vsix: [vsix], workspace: EXAMPLE_WORKSPACE });
    log(`code-server at ${server.url} (process group ${server.pgid}, log ${server.log})`);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const url = workbenchUrl(server, EXAMPLE_WORKSPACE);
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    return new Workbench(server, browser, page, url);
  }

  /** F1, type the title, click the entry (Enter would take the first fuzzy match). */
  async runCommand(title: string, timeout = 30_000): Promise<void> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const row = await this.paletteEntry(title, Math.max(1, deadline - Date.now()));
      try {
        await row.click({ timeout: 5_000 });
        return;
      } catch (err) { // the palette closed under the pointer (focus moved): open it again
        if (Date.now() >= deadline) throw new Error(`could not run "${title}" from the palette: ${(err as Error).message}`);
        await this.page.keyboard.press('Escape');
      }
    }
  }

  /**
   * Opens the palette on `title` and returns its entry. The palette lists the commands known
   * when it opened; early on some are still registering, so reopen it until the entry shows up.
   */
  async paletteEntry(title: string, timeout = 30_000): Promise<Locator> {
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        const row = (await this.openPalette(title)).locator('.monaco-list-row', { hasText: title }).first();
        await row.waitFor({ timeout: Math.max(1, Math.min(5_000, deadline - Date.now())) });
        return row;
      } catch (err) {
        if (Date.now() >= deadline) throw new Error(`"${title}" did not show up in the command palette within ${timeout} ms: ${(err as Error).message}`);
        await this.page.keyboard.press('Escape');
      }
    }
  }

  async openPalette(text: string): Promise<Locator> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    // A view taking focus at that moment (a new terminal) can close the palette again: then fail
    // fast, and paletteEntry() opens it once more.
    await input.waitFor({ timeout: 5_000 });
    await input.fill('>' + text, { timeout: 5_000 });
    return this.page.locator('.quick-input-widget .quick-input-list');
  }

  /** Closes palettes, menus and notifications a failed step may have left open. */
  async dismissOverlays(): Promise<void> {
    for (let i = 0; i < 2; i++) await this.page.keyboard.press('Escape');
  }

  /** Registers a step that undoes a check's layout change after its screenshot (e.g. a maximized panel). */
  restoreAfterScreenshot(fn: () => Promise<void>): void {
    this.restores.push(fn);
  }

  async runRestores(): Promise<void> {
    while (this.restores.length) await this.restores.pop()!();
  }

  /** Shows the Explorer (Ctrl+Shift+E) and returns its row for `name` (it may be in a collapsed folder). */
  async explorerRow(name: string): Promise<Locator> {
    const view = this.page.locator('.explorer-folders-view');
    if (!(await view.isVisible())) {
      await this.page.keyboard.press('Control+Shift+E');
      await view.waitFor({ timeout: 10_000 });
    }
    return view.locator('.monaco-list-row', { hasText: name }).first();
  }

  async openFromExplorer(name: string): Promise<void> {
    await (await this.explorerRow(name)).click({ timeout: 30_000 });
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
  }

  /**
   * Waits for the text to appear inside the located element(s); fails at once, with its message,
   * if Perf Lens shows an error notification meanwhile.
   */
  async expectText(locator: Locator, text: string | RegExp, timeout = 60_000): Promise<void> {
    const toast = this.page.locator('.notification-toast', { has: this.page.locator('.codicon-error') }).filter({ hasText: 'Perf Lens' }).first();
    const errorShown = toast.waitFor({ timeout }).then(
      async () => { throw new Error(`Perf Lens showed an error: ${await toast.innerText()}`); },
      () => new Promise<never>(() => undefined)); // no error toast: let the text wait decide
    await Promise.race([locator.filter({ hasText: text }).first().waitFor({ timeout }), errorShown]);
  }

  /** Waits until the status bar leaves its debugging colour (statusBar.debuggingBackground, #CC6633). */
  async waitUntilNotDebugging(timeout = 30_000): Promise<void> {
    // A string runs in the page (this project compiles without DOM types).
    const notDebugging = `(() => { const bar = document.querySelector('.part.statusbar');
      return !!bar && getComputedStyle(bar).backgroundColor !== 'rgb(204, 102, 51)'; })()`;
    await this.page.waitForFunction(notDebugging, undefined, { timeout });
  }

  /**
   * "Developer: Reload Window", as a person does it: the page loads again, so VS Code starts a new
   * extension host (and Perf Lens a new insight server). Resolves once the new page shows the workbench.
   */
  async reloadWindow(timeout = 60_000): Promise<void> {
    // A mark on the old page's window: only a real reload of the page removes it.
    await this.page.evaluate('window.__perfLensBeforeReload = true');
    const loaded = this.page.waitForEvent('load', { timeout });
    await this.runCommand('Developer: Reload Window');
    await loaded;
    await this.page.waitForFunction(`!window.__perfLensBeforeReload && !!document.querySelector('.monaco-workbench')`, undefined, { timeout });
  }

  /** Texts of those of `lenses` that sit right above `line` (CodeLenses are view zones above their line). */
  async lensesAbove(line: Locator, lenses: Locator): Promise<string[]> {
    const box = await line.boundingBox();
    if (!box) throw new Error('the line is not rendered');
    const above: string[] = [];
    for (const lens of await lenses.all()) {
      const b = await lens.boundingBox();
      if (b && Math.abs(b.y + b.height - box.y) < box.height) above.push(await lens.innerText());
    }
    return above;
  }

  /** Maximizes the bottom panel until the check's screenshot is taken. */
  async maximizePanel(): Promise<void> {
    await this.runCommand('View: Toggle Maximized Panel');
    this.restoreAfterScreenshot(() => this.runCommand('View: Toggle Maximized Panel'));
  }

  /**
   * The row of a (virtualized) VS Code list that contains `text`: lists render only the rows in
   * view, so scroll down until it is rendered.
   */
  async listRow(list: Locator, text: string | RegExp, timeout = 30_000): Promise<Locator> {
    const row = list.locator('.monaco-list-row', { hasText: text }).first();
    const deadline = Date.now() + timeout;
    await list.first().hover();
    for (;;) {
      try {
        await row.waitFor({ timeout: 500 });
        await row.scrollIntoViewIfNeeded();
        return row;
      } catch (err) {
        if (Date.now() >= deadline) throw new Error(`no row with ${String(text)} in the list within ${timeout} ms: ${(err as Error).message}`);
        await this.page.mouse.wheel(0, 300);
      }
    }
  }

  /** The visible rows of the active integrated terminal (DOM renderer: gpuAcceleration is off). */
  terminalRows(): Locator {
    return this.page.locator('.terminal-wrapper.active .xterm-rows');
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}
