/**
 * Runs a program bare and instrumented and collects what tests compare: exit code, stdout,
 * stderr (without the frames our own loaders add) and per-function counts. Two instrumented
 * variants: the test-only counting recorder (test/fixtures/semantics/_run-instrumented.cjs + the
 * transform bundled from source) and the real `perf-lens run` CLI (dist/cli.js).
 */
import { spawnSync } from 'child_process';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const root = path.resolve(__dirname, '../..');
export const semanticsDir = path.join(root, 'test/fixtures/semantics');
const runner = path.join(semanticsDir, '_run-instrumented.cjs');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CountedFunction {
  name: string;
  file: string;
  line: number;
  column: number;
  kind: number;
  calls: number;
  errors: number;
  ends: number;
  okEnds: number;
}

export interface Counts {
  functions: CountedFunction[];
  problems: string[];
  instrumentedFiles: string[];
}

let bundle: string | undefined;

/** The transform as the runtime ships it: src/runtime/node/instrument.ts bundled by esbuild. */
export function transformBundle(): string {
  if (bundle) return bundle;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-transform-'));
  const outfile = path.join(dir, 'instrument.js');
  esbuild.buildSync({
    entryPoints: [path.join(root, 'src/runtime/node/instrument.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node18.19', outfile, logLevel: 'error',
  });
  bundle = outfile;
  return outfile;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `perf-lens-${prefix}-`));
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): RunResult {
  const r = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A clean environment: no NODE_OPTIONS or Perf Lens settings leaking in from the test runner. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('PERF_LENS_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Node flags that come before the program, e.g. a TypeScript loader (`--require tsx/cjs`). */
export interface RunOptions {
  nodeArgs?: string[];
  args?: string[];
}

export function runBare(file: string, opts: RunOptions = {}): RunResult {
  return run([...(opts.nodeArgs ?? []), file, ...(opts.args ?? [])], path.dirname(file), cleanEnv());
}

export interface InstrumentedRun extends RunResult {
  counts: Counts;
}

export function runCounted(file: string, opts: RunOptions & { scope?: string; nodeModules?: boolean } = {}): InstrumentedRun {
  const countsFile = path.join(tempDir('counts'), 'counts.json');
  const env = cleanEnv({
    PERF_LENS_TEST_TRANSFORM: transformBundle(),
    PERF_LENS_TEST_COUNTS: countsFile,
    PERF_LENS_TEST_SCOPE: opts.scope ?? path.dirname(file),
    PERF_LENS_TEST_NODE_MODULES: opts.nodeModules ? '1' : '0',
  });
  const result = run([...(opts.nodeArgs ?? []), '--require', runner, file, ...(opts.args ?? [])], path.dirname(file), env);
  const counts = JSON.parse(fs.readFileSync(countsFile, 'utf8')) as Counts;
  return { ...result, counts };
}

export interface ReportFunction {
  name: string;
  file: string;
  line: number;
  column: number;
  kind: string;
  calls: number;
  errors: number;
}

export interface CliRun extends RunResult {
  report: { functions: ReportFunction[]; warnings: unknown[] };
}

const cli = path.join(root, 'dist/cli.js');

/** Why the real-CLI variant cannot run, or undefined when dist/cli.js with `run` and the preload exist. */
export function cliUnavailableReason(): string | undefined {
  if (!fs.existsSync(cli) || !fs.existsSync(path.join(root, 'dist/runtime/preload.js'))) {
    return 'dist/cli.js or dist/runtime/preload.js is not built (the runtime/CLI have not landed)';
  }
  const help = spawnSync(process.execPath, [cli, 'run', '--help'], { encoding: 'utf8' });
  return help.status === 0 ? undefined : 'dist/cli.js has no working `run` command';
}

export function runWithCli(file: string, opts: RunOptions & { includeNodeModules?: boolean } = {}): CliRun {
  const out = path.join(tempDir('report'), 'r.json');
  const flags = ['run', '--quiet', '--out', out, ...(opts.includeNodeModules ? ['--include-node-modules'] : []), '--'];
  // `perf-lens run` does not pass PERF_LENS_CACHE_DIR on; a private XDG cache keeps runs apart.
  const env = cleanEnv({ PERF_LENS_CACHE_DIR: 'off', XDG_CACHE_HOME: tempDir('xdg-cache') });
  const result = run([cli, ...flags, process.execPath, ...(opts.nodeArgs ?? []), file, ...(opts.args ?? [])], path.dirname(file), env);
  const report = JSON.parse(fs.readFileSync(out, 'utf8')) as CliRun['report'];
  return { ...result, report };
}

/** Stack frames that only exist because a loader hook is installed (ours or Node's internals). */
export function normalizeStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !/^\s+at .*(node:internal|_run-instrumented\.cjs|_esm-hooks\.mjs|dist[\\/]runtime[\\/]|src[\\/]runtime[\\/]node[\\/]|node_modules[\\/](tsx|ts-node)[\\/])/.test(line))
    .join('\n');
}
