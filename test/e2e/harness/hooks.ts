// Mocha hooks that give a suite one workbench and a screenshot after every check:
// test-artifacts/e2e/NN-<check>.png, plus NN-<check>-FAILED-<attempt>.png and the server log
// when a check fails. Adding a check = adding an `it()` that uses `workbench()`.
import * as fs from 'fs';
import * as path from 'path';
import { wasInterrupted } from './cleanup';
import { ARTIFACTS, Workbench, log } from './workbench';

let current: Workbench | undefined;

/** The workbench of the running suite, if one was opened (for --keep-open). */
export function openWorkbench(): Workbench | undefined {
  return current;
}

export function useWorkbench(): () => Workbench {
  const numbers = new Map<string, number>();
  const attempts = new Map<string, number>();
  before(async function () {
    this.timeout(300_000); // a first run installs code-server (about a minute)
    current = await Workbench.open({ headed: process.env.PERF_LENS_E2E_HEADED === '1', slowMo: Number(process.env.PERF_LENS_E2E_SLOWMO ?? 0) || undefined });
  });
  afterEach(async function () {
    const test = this.currentTest;
    if (!current || !test || wasInterrupted()) return;
    if (!numbers.has(test.fullTitle())) numbers.set(test.fullTitle(), numbers.size + 1);
    const attempt = (attempts.get(test.fullTitle()) ?? 0) + 1;
    attempts.set(test.fullTitle(), attempt);
    const slug = test.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
    const failed = test.state !== 'passed';
    const name = `${String(numbers.get(test.fullTitle())).padStart(2, '0')}-${slug}${failed ? `-FAILED-${attempt}` : ''}`;
    const file = await current.screenshot(name).catch((err: Error) => `(no screenshot: ${err.message})`);
    if (failed) {
      fs.copyFileSync(current.server.log, path.join(ARTIFACTS, 'code-server.log'));
      log(`check failed (attempt ${attempt}); screenshot: ${file}; code-server log: ${path.join(ARTIFACTS, 'code-server.log')}`);
    }
    await current.dismissOverlays().catch(() => undefined);
    await current.runRestores();
  });
  return () => {
    if (!current) throw new Error('the workbench did not open (see the "before all" hook failure)');
    return current;
  };
}
