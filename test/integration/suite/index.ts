// Loaded by the real VS Code extension host through `extensionTestsPath`: runs the mocha suites
// next to it. Resolving = exit code 0, rejecting = 1 (reported back to the harness).
// Counts go to $PERF_LENS_RESULTS_DIR/integration.json via the shared results reporter.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

// This file runs as out/test/integration/index.js.
const REPO_ROOT = path.resolve(__dirname, '../../..');

export function run(): Promise<void> {
  process.env.PERF_LENS_SUITE = 'integration';
  process.env.PERF_LENS_RESULTS_DIR ??= path.join(REPO_ROOT, 'test-artifacts', 'results');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ResultsReporter = require(path.join(REPO_ROOT, 'test', 'support', 'results-reporter.js')) as typeof Mocha.reporters.Base;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, retries: 1, reporter: ResultsReporter });
  if (process.env.PERF_LENS_GREP) mocha.grep(process.env.PERF_LENS_GREP);
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (f.endsWith('.test.js')) mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
    // The spec reporter shows only the last attempt: say why a first attempt failed.
    runner.on('retry', (test: Mocha.Test, err: Error) => console.log(`      first attempt of "${test.title}" failed, retrying once: ${err.message.split('\n')[0]}`));
  });
}
