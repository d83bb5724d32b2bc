/** Spawns the built CLI (`node dist/cli.js`) for real and collects what it did. */
import { spawn, type SpawnOptions } from 'child_process';
import * as path from 'path';

export const root = path.resolve(__dirname, '../..');
export const cliPath = path.join(root, 'dist/cli.js');
export const fixtures = path.join(root, 'test/fixtures/cli');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOpts extends SpawnOptions {
  input?: string | Buffer;
  /** Called once the process is spawned (e.g. to send it a signal later). */
  onSpawn?: (child: import('child_process').ChildProcess) => void;
}

/** Runs any program to completion. */
export function exec(file: string, args: string[], opts: RunOpts = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: root, ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    opts.onSpawn?.(child);
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs `node dist/cli.js ...args`. */
export function cli(args: string[], opts: RunOpts = {}): Promise<Result> {
  return exec(process.execPath, [cliPath, ...args], opts);
}

/** process.env without anything perf-lens (a test run may itself be measured). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PERF_LENS_') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return { ...env, ...extra };
}
