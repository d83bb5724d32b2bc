// Where the test harness keeps things. Everything generated lives in git-ignored folders.
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** code-server install (scripts/e2e/install-code-server.sh); `.vscode-test/` is git-ignored. */
export const CODE_SERVER_CACHE = path.resolve(process.env.PERF_LENS_CODE_SERVER_CACHE ?? path.join(REPO_ROOT, '.vscode-test', 'code-server'));
export const SCRIPTS_DIR = path.join(REPO_ROOT, 'scripts', 'e2e');
/** Scratch space of the harness: packaged .vsix, its staging copy, installed test extensions. */
export const WORK_DIR = path.join(REPO_ROOT, '.vscode-test');
/** The example program and workspace the tests open. */
export const EXAMPLE_WORKSPACE = path.join(REPO_ROOT, 'examples', 'primes');
export const EXAMPLE_PROGRAM = path.join(EXAMPLE_WORKSPACE, 'main.js');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export function artifactsDir(suite: string): string {
  return path.join(REPO_ROOT, 'test-artifacts', suite);
}

export function resultsDir(): string {
  return path.resolve(process.env.PERF_LENS_RESULTS_DIR ?? path.join(REPO_ROOT, 'test-artifacts', 'results'));
}
