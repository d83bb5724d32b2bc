// Mocha reporter: the usual `spec` output, plus a JSON summary per suite in $PERF_LENS_RESULTS_DIR
// (default test-artifacts/results) so .ci/run can print one `N passed, N failed` line for all suites.
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_RETRY } = Mocha.Runner.constants;

class ResultsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const suite = process.env.PERF_LENS_SUITE || 'unit';
    const counts = { suite, passed: 0, failed: 0, flaky: [] };
    const retried = new Set();
    runner.on(EVENT_TEST_RETRY, (test) => retried.add(test.fullTitle()));
    runner.on(EVENT_TEST_PASS, (test) => {
      counts.passed++;
      if (retried.has(test.fullTitle())) counts.flaky.push(test.fullTitle());
    });
    runner.on(EVENT_TEST_FAIL, () => counts.failed++);
    runner.once(EVENT_RUN_END, () => {
      const dir = process.env.PERF_LENS_RESULTS_DIR || path.join(process.cwd(), 'test-artifacts', 'results');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${suite}.json`), JSON.stringify(counts, null, 2));
      if (counts.flaky.length) console.log(`FLAKY (passed on retry): ${counts.flaky.join('; ')}`);
    });
  }
}

module.exports = ResultsReporter;
