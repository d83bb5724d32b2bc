#!/usr/bin/env node
// Sums the per-suite JSON summaries written by the test stages and prints `N passed, N failed`.
// Usage: node scripts/sum-results.js [EXIT_CODE_OF_THE_TEST_COMMAND]
// A non-zero exit code with no failure recorded (lint, type-check, a harness that could not
// start) counts as one failure, so a broken stage can never read as green.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = process.env.PERF_LENS_RESULTS_DIR || path.join(__dirname, '..', 'test-artifacts', 'results');
const exitCode = Number(process.argv[2] || 0);
let passed = 0;
let failed = 0;
const flaky = [];
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
  if (!f.endsWith('.json')) continue;
  const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  console.log(`suite ${r.suite}: ${r.passed} passed, ${r.failed} failed${r.flaky && r.flaky.length ? `, ${r.flaky.length} flaky` : ''}`);
  passed += r.passed;
  failed += r.failed;
  flaky.push(...(r.flaky || []));
}
if (exitCode !== 0 && failed === 0) {
  console.log(`a test stage exited with code ${exitCode} before reporting a failing test (lint, type-check or harness): counted as 1 failure`);
  failed = 1;
}
if (flaky.length) console.log(`flaky (passed on retry): ${flaky.join('; ')}`);
console.log(`${passed} passed, ${failed} failed`);
