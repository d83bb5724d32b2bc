/**
 * `perf-lens run`: starts a collector, runs the command with the runtime injected through the
 * environment, waits for every runtime connection to close, then writes the report and a summary.
 * The command owns the terminal: stdio is inherited untouched and its exit code is ours.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Collector } from '../collector/collector';
import { formatReport, type Format } from '../model/format';
import { ReportBuilder, type Report } from '../model/report';
import { ENV, type Mode } from '../protocol/runtime';
import { injectEnv } from '../runtime/inject';
import { AttachRelay } from './attach-relay';
import { planSpawn } from './command-line';

export interface RunOptions {
  out?: string;
  quiet: boolean;
  format: Format;
  mode: Mode;
  sampleEvery?: number;
  includeNodeModules: boolean;
  include: string[];
  exclude: string[];
  top?: number;
  /** How long to wait after the command exits for descendants' runtimes to disconnect. */
  graceMs: number;
}

/** Where the runtime bundle sits next to the CLI bundle (dist/cli.js -> dist/runtime/preload.js). */
export function preloadPath(): string {
  return path.join(__dirname, 'runtime', 'preload.js');
}

/** Exit status of a child: its code, or 128 + the signal number when a signal ended it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? os.constants.signals[signal] : undefined;
  return typeof n === 'number' ? 128 + n : 1;
}

/** Signals the CLI must survive while the command runs (the terminal sends them to the whole group). */
const IGNORED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGHUP'];

export class UsageError extends Error {}

/** Checks that the report can be written before the command runs (fail fast, not after a long run). */
function prepareOut(out: string): string {
  const abs = path.resolve(out);
  try {
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new Error('it is a directory');
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.accessSync(path.dirname(abs), fs.constants.W_OK);
  } catch (err) {
    throw new UsageError(`cannot write the report to ${abs}: ${(err as Error).message}`);
  }
  return abs;
}

export async function runCommand(command: string[], opts: RunOptions): Promise<number> {
  const outPath = opts.out !== undefined ? prepareOut(opts.out) : undefined;
  const startedAt = Date.now();
  const start = process.hrtime.bigint();
  const builder = new ReportBuilder();
  const stderr = (text: string): void => {
    if (!opts.quiet) process.stderr.write(text);
  };
  let collector: Collector | undefined;
  // The editor sees the run live too (PERF_LENS_ATTACH_FILE); problems only warn, never in the report.
  const relay = AttachRelay.fromEnv(process.env, (message) => stderr(`perf-lens: ${message}\n`));
  try {
    collector = await Collector.start({
      onMessage: (conn, msg) => {
        relay?.accept(conn.id, msg);
        builder.accept(conn.id, msg);
      },
      onClose: (conn) => {
        relay?.end(conn.id);
        builder.close(conn.id);
      },
      log: (message) => builder.warn(null, message.replace(/^perf-lens: /, ''), null),
    });
  } catch (err) {
    // The program comes first: it runs unmeasured rather than not at all.
    const msg = `cannot open the collector socket (${(err as Error).message}); the command runs unmeasured`;
    builder.warn(null, msg, null);
    stderr(`perf-lens: ${msg}\n`);
  }

  let env: NodeJS.ProcessEnv = process.env;
  const preload = preloadPath();
  if (collector && fs.existsSync(preload)) {
    env = injectEnv(withoutRuntimeVars(process.env), preload, {
      ...collectorEnvOptions(collector),
      mode: opts.mode,
      sampleEvery: opts.sampleEvery,
      includeNodeModules: opts.includeNodeModules ? true : undefined,
      include: opts.include,
      exclude: opts.exclude,
      root: process.cwd(),
      quiet: opts.quiet ? true : undefined,
    });
  } else if (collector) {
    const msg = `the runtime bundle ${preload} is missing (run \`node esbuild.js\`); the command runs unmeasured`;
    builder.warn(null, msg, null);
    stderr(`perf-lens: ${msg}\n`);
  }

  const noop = (): void => undefined;
  let child: ChildProcess | undefined;
  const forwardTerm = (): void => {
    // A SIGTERM sent only to us (kill <pid>, a process manager) must still stop the command.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  for (const s of IGNORED_SIGNALS) process.on(s, noop);
  process.on('SIGTERM', forwardTerm);

  let status: number;
  let signal: NodeJS.Signals | null = null;
  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException }>((resolve) => {
      try {
        const plan = planSpawn(command, process.platform, env, isFile);
        child = spawn(plan.file, plan.args, { stdio: 'inherit', env, shell: plan.shell });
      } catch (err) {
        resolve({ error: err as NodeJS.ErrnoException });
        return;
      }
      child.once('error', (error: NodeJS.ErrnoException) => resolve({ error }));
      child.once('exit', (code, sig) => resolve({ code, signal: sig }));
    });
    if ('error' in result) {
      const e = result.error;
      const why = e.code === 'ENOENT' ? 'command not found' : e.code === 'EACCES' ? 'permission denied' : e.message;
      // Said even with --quiet: without it the user would see nothing at all.
      process.stderr.write(`perf-lens: cannot run ${JSON.stringify(command[0])}: ${why}\n`);
      status = e.code === 'ENOENT' ? 127 : 126;
    } else {
      signal = result.signal;
      status = exitStatus(result.code, result.signal);
      // Grandchildren may outlive the command and still be sending their last deltas.
      const idle = collector ? await collector.waitForIdle(opts.graceMs) : true;
      if (!idle && collector) {
        builder.warn(null, `${collector.openConnections} measured process(es) still running ${opts.graceMs} ms after the command exited; their data is partial`, null);
      }
    }
  } finally {
    for (const s of IGNORED_SIGNALS) process.off(s, noop);
    process.off('SIGTERM', forwardTerm);
  }

  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const report: Report = builder.build({
    command,
    cwd: process.cwd(),
    startedAt,
    wallMs: Math.round(wallMs * 1000) / 1000,
    exitCode: status,
    signal,
    node: process.version,
    pid: child?.pid ?? null,
    mode: opts.mode,
  });
  await collector?.close();
  await relay?.close();

  if (outPath) {
    try {
      fs.writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
    } catch (err) {
      process.stderr.write(`perf-lens: cannot write the report to ${outPath}: ${(err as Error).message}\n`);
      return status === 0 ? 2 : status;
    }
  }
  stderr(formatReport(report, opts.format, { colors: opts.format === 'table' && process.stderr.isTTY === true, top: opts.top }));
  if (outPath) stderr(`perf-lens: report written to ${outPath}\n`);
  return status;
}

/** Machine-level settings of the user's that are not tied to a session: they pass through. */
const USER_RUNTIME_VARS: ReadonlySet<string> = new Set([ENV.cacheDir, ENV.resourceIntervalMs, ENV.flushIntervalMs, ENV.spreadMs]);

/**
 * The environment minus PERF_LENS_* session settings inherited from an outer session (ours replace
 * them); the user's machine-level settings (cache dir, intervals) are kept. PERF_LENS_ATTACH_FILE
 * goes too: it names an editor session, which only this CLI feeds (by relaying), so the program's
 * environment is the same whether or not an editor is attached (a nested `perf-lens run` does not relay).
 */
function withoutRuntimeVars(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('PERF_LENS_') || USER_RUNTIME_VARS.has(k)) env[k] = v;
  return env;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function collectorEnvOptions(c: Collector): { socket: string; token: string; session: string } {
  return { socket: c.socketPath, token: c.token, session: c.session };
}
