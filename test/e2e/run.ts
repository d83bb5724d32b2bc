// `npm run test:e2e [-- options]`: browser end-to-end checks of Perf Lens in VS Code
// (code-server 4.100.3 + Debian Chromium + playwright-core), with the packaged .vsix installed.
//   --headed          show the browser (needs a display: `xvfb-run -a` or a desktop)
//   --slow-mo MS      pause after each browser action (to follow a headed run)
//   --keep-open       leave code-server running after the checks and print its URL; Ctrl-C stops it
//   --grep TEXT       only checks whose title contains TEXT
// Screenshots: test-artifacts/e2e/. Results: $PERF_LENS_RESULTS_DIR/e2e.json.
import * as fs from 'fs';
import Mocha from 'mocha';
import * as path from 'path';
import { onCleanup, onInterrupt, runCleanups, wasInterrupted } from './harness/cleanup';
import { openWorkbench } from './harness/hooks';
import { resultsDir } from './harness/paths';
import { ARTIFACTS } from './harness/workbench';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

let interruptedRun = false;

async function main(): Promise<number> {
  const keepOpen = process.argv.includes('--keep-open') || process.env.PERF_LENS_E2E_KEEP_OPEN === '1';
  if (process.argv.includes('--headed')) process.env.PERF_LENS_E2E_HEADED = '1';
  if (option('--slow-mo')) process.env.PERF_LENS_E2E_SLOWMO = option('--slow-mo');
  process.env.PERF_LENS_SUITE = 'e2e';
  const resultsFile = path.join(resultsDir(), 'e2e.json');
  fs.rmSync(resultsFile, { force: true });
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  onCleanup(() => undefined); // installs the Ctrl-C handler before anything starts

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ResultsReporter = require('../support/results-reporter.js') as typeof Mocha.reporters.Base;
  // One retry at most; a pass on retry is reported as flaky by the results reporter.
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, retries: 1, reporter: ResultsReporter });
  if (option('--grep')) mocha.grep(option('--grep')!);
  const specs = path.join(__dirname, 'specs');
  for (const f of fs.readdirSync(specs).sort()) if (f.endsWith('.e2e.ts')) mocha.addFile(path.join(specs, f));
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    // The spec reporter shows only the last attempt: say why a first attempt failed.
    runner.on('retry', (test: Mocha.Test, err: Error) => console.log(`      first attempt of "${test.title}" failed, retrying once: ${err.message.split('\n').slice(0, 4).join('\n        ')}\n        ${err.stack?.split('\n').find((l) => l.includes('.e2e.ts')) ?? ''}`));
    onInterrupt(() => runner.abort()); // Ctrl-C: no further checks
    // Registered before the workbench, so it runs after the browser and server are gone.
    let finished = false;
    const ended = new Promise<void>((done) => runner.once('end', () => { finished = true; done(); }));
    onInterrupt(() => { if (!finished) interruptedRun = true; }); // not Ctrl-C ending --keep-open
    onCleanup(async () => {
      if (!interruptedRun) return;
      await Promise.race([ended, new Promise((done) => setTimeout(done, 10_000).unref())]);
      markInterrupted(resultsFile); // an interrupted run must never read as green
    });
  });

  if (wasInterrupted()) return 130; // the signal handler is cleaning up and exits
  if (fs.existsSync(ARTIFACTS)) console.log(`screenshots: ${ARTIFACTS}`);
  if (!fs.existsSync(resultsFile)) {
    fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
    fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'e2e', passed: 0, failed: 1, flaky: [], error: 'e2e run ended without results' }, null, 2));
    console.error('HARNESS FAILURE: the e2e run ended without results');
  }
  const wb = openWorkbench();
  if (keepOpen && wb) {
    if (!process.env.PERF_LENS_E2E_HEADED) await wb.browser.close();
    console.log(`\ncode-server is still running: open ${wb.url}\n(process group ${wb.server.pgid}); press Ctrl-C to stop it.`);
    // Wait for Ctrl-C (its handler cleans up and exits); the timer keeps Node from exiting, and
    // ends the wait if the server dies on its own.
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        try { process.kill(-wb.server.pgid, 0); } catch { clearInterval(timer); console.log('code-server exited'); done(); }
      }, 1000);
    });
  }
  return failures > 0 ? 1 : 0;
}

function markInterrupted(file: string): void {
  const r = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as { passed: number; failed: number; flaky: string[] }
    : { passed: 0, failed: 0, flaky: [] };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ suite: 'e2e', ...r, failed: r.failed + 1, error: 'interrupted' }, null, 2));
}

main().then(
  async (code) => { await runCleanups(); process.exit(code); },
  async (err: unknown) => { console.error(err); await runCleanups(); process.exit(1); },
);
