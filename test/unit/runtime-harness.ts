/**
 * Test harness for the runtime: a real NDJSON collector on a Unix socket and real node child
 * processes started with NODE_OPTIONS built by src/runtime/inject.ts. Not a spec file.
 */
import { spawn, type SpawnOptions } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { functionDeltas } from '../../src/model/delta-columns';
import { injectEnv, type RuntimeEnvOptions } from '../../src/runtime/inject';
import type { DeltaMessage, FunctionDef, HelloMessage, RuntimeMessage } from '../../src/protocol/runtime';

export const ROOT = path.resolve(__dirname, '../..');
export const PRELOAD = path.join(ROOT, 'dist/runtime/preload.js');
export const FIXTURES = path.join(ROOT, 'test/fixtures/runtime');

export interface FunctionTotals {
  calls: number;
  errors: number;
  timed: number;
  totalNs: number;
  selfNs: number;
  /** Sum of the deltas' recursion-aware totals (0 when none was sent). */
  inclusiveNs: number;
  estInclusiveNs: number;
  def: FunctionDef;
}

export class Connection {
  messages: RuntimeMessage[] = [];
  ended = false;
  get hello(): HelloMessage | undefined {
    const m = this.messages[0];
    return m && m.type === 'hello' ? m : undefined;
  }
  defs(): FunctionDef[] {
    return this.messages.flatMap((m) => (m.type === 'functions' ? m.defs : []));
  }
  deltas(): DeltaMessage[] {
    return this.messages.filter((m): m is DeltaMessage => m.type === 'delta');
  }
  /** Totals per function name (name@file:line when `qualified`). */
  totals(): Map<string, FunctionTotals> {
    const byId = new Map(this.defs().map((d) => [d.id, d]));
    const out = new Map<string, FunctionTotals>();
    for (const d of this.deltas()) {
      for (const f of functionDeltas(d)) {
        const def = byId.get(f.id);
        if (!def) throw new Error(`delta for undefined function id ${f.id}`);
        const t = out.get(def.name) ?? { calls: 0, errors: 0, timed: 0, totalNs: 0, selfNs: 0, inclusiveNs: 0, estInclusiveNs: 0, def };
        t.calls += f.calls;
        t.errors += f.errors;
        t.timed += f.timed;
        t.totalNs += f.totalNs;
        t.selfNs += f.selfNs ?? 0;
        t.inclusiveNs += f.inclusiveNs ?? 0;
        t.estInclusiveNs += f.estInclusiveNs ?? 0;
        out.set(def.name, t);
      }
    }
    return out;
  }
  calls(name: string): number {
    return this.totals().get(name)?.calls ?? 0;
  }
  bye(): Extract<RuntimeMessage, { type: 'bye' }> | undefined {
    return this.messages.find((m): m is Extract<RuntimeMessage, { type: 'bye' }> => m.type === 'bye');
  }
  warnings(): string[] {
    return this.messages.flatMap((m) => (m.type === 'warning' ? [m.message] : []));
  }
}

export class Collector {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-rt-'));
  readonly socketPath = path.join(this.dir, 'collector.sock');
  readonly token = Math.random().toString(36).slice(2);
  readonly connections: Connection[] = [];
  bytes = 0;
  private server = net.createServer((s) => {
    const c = new Connection();
    this.connections.push(c);
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      this.bytes += Buffer.byteLength(d);
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        c.messages.push(JSON.parse(buf.slice(0, i)) as RuntimeMessage);
        buf = buf.slice(i + 1);
      }
    });
    s.on('close', () => { c.ended = true; });
    s.on('error', () => undefined);
  });

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    return this;
  }

  /** Waits until every connection has closed (the runtime closes after its bye). */
  async settle(expected = 1, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.connections.length >= expected && this.connections.every((c) => c.ended)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`collector: expected ${expected} closed connections, have ${this.connections.length} (${this.connections.filter((c) => c.ended).length} closed)`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Instrument with these runtime options; omit for a bare run. */
  runtime?: RuntimeEnvOptions;
  /** Called with the child once it printed `ready` (e.g. to send a signal). */
  onReady?: (child: ReturnType<typeof spawn>) => void;
  timeoutMs?: number;
}

/** Runs `command args` (a bare run unless `runtime` is given) and collects its output. */
export function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  // Never inherit an instrumented environment from the test runner itself.
  for (const k of Object.keys(base)) if (k.startsWith('PERF_LENS_')) delete base[k];
  if (base.NODE_OPTIONS?.includes('preload.js')) delete base.NODE_OPTIONS;
  Object.assign(base, opts.env);
  const env = opts.runtime ? injectEnv(base, PRELOAD, { cacheDir: null, ...opts.runtime }) : base;
  const spawnOpts: SpawnOptions = { cwd: opts.cwd ?? FIXTURES, env, stdio: ['ignore', 'pipe', 'pipe'] };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, spawnOpts);
    let stdout = '';
    let stderr = '';
    let readySent = false;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timeout: ${command} ${args.join(' ')}\n${stdout}\n${stderr}`)); }, opts.timeoutMs ?? 30000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!readySent && opts.onReady && stdout.includes('ready')) {
        readySent = true;
        opts.onReady(child);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal });
    });
  });
}

export function node(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, args, opts);
}

/** Stack-trace lines and timing noise differ between runs only in paths we do not print; compare verbatim. */
export function sameOutput(a: RunResult, b: RunResult): void {
  if (a.stdout !== b.stdout || a.code !== b.code || a.signal !== b.signal || stripRuntime(a.stderr) !== stripRuntime(b.stderr)) {
    throw new Error(`outputs differ:\n--- bare\n${JSON.stringify(a)}\n--- instrumented\n${JSON.stringify(b)}`);
  }
}

/**
 * The one difference allowed: an error thrown while a CommonJS module is being loaded shows our
 * _compile wrapper as one extra loader frame (as with any require hook: tsx, ts-node, nyc).
 */
function stripRuntime(stderr: string): string {
  return stderr.split('\n').filter((l) => !/^\s+at .*[/\\]dist[/\\]runtime[/\\]preload\.js:\d+:\d+\)$/.test(l)).join('\n');
}
