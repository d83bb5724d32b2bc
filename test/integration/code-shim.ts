// A stand-in "VS Code executable" for @vscode/test-electron's runTests({ vscodeExecutablePath }):
// runTests spawns it with Electron-style arguments; this maps them onto code-server (the same
// VS Code 1.100.3, as a server) plus headless Chromium, and exits with the test run's code.
//   --extensionDevelopmentPath=P (repeatable), --extensionTestsPath=P, first bare argument = folder.
// Other arguments (--user-data-dir=, --no-sandbox, ...) do not apply and are ignored.
// Launched through scripts/e2e/code-shim.js (an executable file, as runTests needs).
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import { launchBrowser, workbenchUrl } from '../e2e/harness/browser';
import { runCleanups } from '../e2e/harness/cleanup';
import { startCodeServer } from '../e2e/harness/codeServer';
import { artifactsDir } from '../e2e/harness/paths';

const TIMEOUT_MS = Number(process.env.PERF_LENS_INTEGRATION_TIMEOUT_MS ?? 300_000);
/** Workbench log lines that say nothing about the tests (set PERF_LENS_VERBOSE=1 to see all). */
const NOISE = /^(Ignoring fetching additional builtin extensions|Updating additional builtin extensions cache|ChatSessionStore:|Resolving connection token|Resolved connection token|Creating a socket|\[Service Worker\]|Creation of workbench contribution)/;

function parseArgs(argv: string[]) {
  const dev: string[] = [];
  let tests: string | undefined;
  let folder: string | undefined;
  for (const a of argv) {
    const m = /^--([^=]+)=(.*)$/s.exec(a);
    if (m?.[1] === 'extensionDevelopmentPath') dev.push(path.resolve(m[2]));
    else if (m?.[1] === 'extensionTestsPath') tests = path.resolve(m[2]);
    else if (!a.startsWith('-') && !folder) folder = path.resolve(a);
  }
  return { dev, tests, folder };
}

async function main(): Promise<number> {
  const { dev, tests, folder } = parseArgs(process.argv.slice(2));
  if (!tests || !folder) {
    console.error('code-shim: needs --extensionTestsPath=... and a folder to open');
    return 2;
  }
  const server = startCodeServer({ workspace: folder });
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // The workbench calls window.codeAutomationExit(code) once extensionTestsPath's run() settles.
  const exited = new Promise<number>((resolve) => { void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code)); });
  // Extension-host console output (mocha's reporter) arrives in the page console as
  // ["%c INFO", "color: #33f", ...args]: print it in order, as VS Code would on stdout.
  let printed = Promise.resolve();
  page.on('console', (m) => {
    if (m.text().startsWith('Failed to load resource')) return;
    printed = printed.then(async () => {
      let v: unknown[] = await Promise.all(m.args().map((a) => a.jsonValue().catch(() => '') as Promise<unknown>));
      if (typeof v[0] === 'string' && v[0].startsWith('%c')) v = v.slice(2);
      else if (!process.env.PERF_LENS_VERBOSE) return; // workbench noise
      const line = util.format(...v);
      if (process.env.PERF_LENS_VERBOSE || !NOISE.test(line)) console.log(line);
    });
  });
  const payload: [string, string][] = [...dev.map((p): [string, string] => ['extensionDevelopmentPath', p]), ['extensionTestsPath', tests]];
  await page.goto(workbenchUrl(server, folder, payload));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => { timer = setTimeout(() => resolve(-1), TIMEOUT_MS); });
  let code = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  await printed;
  if (code !== 0) {
    // A hang is usually a modal dialog in the workbench: keep a picture and the server log.
    const dir = artifactsDir('integration');
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'failure.png') }).catch(() => undefined);
    fs.copyFileSync(server.log, path.join(dir, 'code-server.log'));
    if (code === -1) console.error(`code-shim: the tests did not finish within ${TIMEOUT_MS / 1000} s`);
    console.error(`code-shim: screenshot and code-server log in ${dir}`);
    code = 1;
  }
  return code;
}

main().then(
  async (code) => { await runCleanups(); process.exit(code); },
  async (err: unknown) => { console.error('code-shim:', err instanceof Error ? err.message : err); await runCleanups(); process.exit(1); },
);
