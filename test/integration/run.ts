// `npm run test:integration`: mocha suites inside a real VS Code extension host.
// Packages the extension (.vsix), installs it with code-server's installer, compiles
// test/integration/suite, and runs it through @vscode/test-electron's runTests with a shim
// executable that drives code-server + headless Chromium (VS Code desktop cannot be downloaded
// offline). Writes $PERF_LENS_RESULTS_DIR/integration.json; a harness failure counts as a failure.
//   Options: --grep <text> (only matching tests)
import { runTests } from '@vscode/test-electron';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { onCleanup, runCleanups } from '../e2e/harness/cleanup';
import { installCodeServer, installVsix } from '../e2e/harness/codeServer';
import { EXAMPLE_WORKSPACE, REPO_ROOT, SCRIPTS_DIR, WORK_DIR, artifactsDir, resultsDir } from '../e2e/harness/paths';
import { packageExtension } from '../e2e/harness/vsix';

const SUITE_SRC = path.join(__dirname, 'suite');
const SUITE_OUT = path.join(REPO_ROOT, 'out', 'test', 'integration');
const t0 = Date.now();
const log = (msg: string) => console.log(`[integration ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

async function buildSuite(): Promise<string> {
  fs.rmSync(SUITE_OUT, { recursive: true, force: true });
  const entryPoints = fs.readdirSync(SUITE_SRC).filter((f) => f.endsWith('.ts')).map((f) => path.join(SUITE_SRC, f));
  await esbuild.build({ entryPoints, outdir: SUITE_OUT, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'inline', logLevel: 'warning' });
  return path.join(SUITE_OUT, 'index.js');
}

async function main(): Promise<number> {
  const grep = process.argv.includes('--grep') ? process.argv[process.argv.indexOf('--grep') + 1] : undefined;
  const resultsFile = path.join(resultsDir(), 'integration.json');
  fs.rmSync(resultsFile, { force: true });
  fs.rmSync(artifactsDir('integration'), { recursive: true, force: true }); // no stale failure pictures
  let harnessError: string | undefined;
  // On Ctrl-C the shim (which gets the signal too) stops its server and browser: wait for it
  // before this process exits. Registered first, so it runs after the other cleanups.
  let settled: () => void = () => undefined;
  const testsSettled = new Promise<void>((done) => { settled = done; });
  onCleanup(() => Promise.race([testsSettled, new Promise<void>((done) => setTimeout(done, 15_000).unref())]));
  try {
    log(`code-server: ${installCodeServer()}`);
    const { vsix } = packageExtension();
    const extensionsDir = fs.mkdtempSync(path.join(WORK_DIR, 'integration-extensions-'));
    onCleanup(() => fs.rmSync(extensionsDir, { recursive: true, force: true }));
    const extensionDir = installVsix(vsix, extensionsDir);
    log(`packaged ${path.relative(REPO_ROOT, vsix)} and installed it: ${path.relative(REPO_ROOT, extensionDir)}`);
    const extensionTestsPath = await buildSuite();
    await runTests({
      vscodeExecutablePath: path.join(SCRIPTS_DIR, 'code-shim.js'),
      // The installed .vsix is the extension under test (dev mode is what test runs need).
      extensionDevelopmentPath: extensionDir,
      extensionTestsPath,
      launchArgs: [EXAMPLE_WORKSPACE],
      extensionTestsEnv: { PERF_LENS_RESULTS_DIR: resultsDir(), ...(grep ? { PERF_LENS_GREP: grep } : {}) },
    });
  } catch (err) {
    // runTests rejects when tests failed too; that is a harness error only if no results came back.
    harnessError = err instanceof Error ? err.message : String(err);
  } finally {
    settled();
  }
  if (!fs.existsSync(resultsFile)) {
    const error = `integration tests did not report results: ${harnessError ?? 'unknown reason'}`;
    console.error(`\nHARNESS FAILURE: ${error}`);
    fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
    fs.writeFileSync(resultsFile, JSON.stringify({ suite: 'integration', passed: 0, failed: 1, flaky: [], error }, null, 2));
    return 1;
  }
  const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as { passed: number; failed: number; flaky: string[] };
  log(`${r.passed} passed, ${r.failed} failed${r.flaky.length ? `, flaky (passed on retry): ${r.flaky.join('; ')}` : ''}`);
  return r.failed === 0 && !harnessError ? 0 : 1;
}

main().then(
  async (code) => { await runCleanups(); process.exit(code); },
  async (err: unknown) => { console.error(err); await runCleanups(); process.exit(1); },
);
