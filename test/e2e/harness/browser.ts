// Debian's Chromium driven by playwright-core (no Playwright browser download: offline).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser } from 'playwright-core';
import { onCleanup } from './cleanup';
import { HarnessError, type CodeServer } from './codeServer';
import { CHROMIUM } from './paths';

export interface BrowserOptions {
  /** Show the window (needs a display, e.g. `xvfb-run -a` or a desktop session). */
  headed?: boolean;
  /** Milliseconds Playwright waits after each action, to follow a headed run by eye. */
  slowMo?: number;
}

export async function launchBrowser(options: BrowserOptions = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new HarnessError(`Chromium not found at ${CHROMIUM}: run scripts/e2e/install-code-server.sh as root (it apt-installs chromium), or set CHROMIUM=/path/to/chromium`);
  }
  if (options.headed && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    throw new HarnessError('headed mode needs a display: run under `xvfb-run -a npm run test:e2e -- --headed` or from a desktop session');
  }
  // Chromium writes ~/.config/chromium/Crash Reports and ~/.cache even with its own profile dir.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-chromium-home-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !options.headed,
    slowMo: options.slowMo,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home },
    // Our cleanup closes it (Playwright then removes its profile dir) before code-server stops.
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
  });
  onCleanup(async () => {
    await browser.close().catch(() => undefined);
    fs.rmSync(home, { recursive: true, force: true });
  });
  return browser;
}

/** Workbench URL opening `folder`; payload entries (dev extension, test runner) are server paths. */
export function workbenchUrl(server: CodeServer, folder: string, payload: [string, string][] = []): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const entries = payload.map(([key, p]) => [key, remote(p)]);
  const query = [`folder=${encodeURIComponent(folder)}`];
  if (entries.length) query.push(`payload=${encodeURIComponent(JSON.stringify(entries))}`);
  return `${server.url}?${query.join('&')}`;
}
