/**
 * A plain LSP client for tests: spawns the built server (`node dist/server.js --stdio`) and talks
 * JSON-RPC to it with vscode-jsonrpc, the way any editor would. No VS Code, no mocks.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

export const ROOT = path.resolve(__dirname, '../..');
export const SERVER = path.join(ROOT, 'dist/server.js');

export interface Notification {
  method: string;
  params: unknown;
}

export class TestClient {
  readonly notifications: Notification[] = [];
  refreshes = 0;
  readonly stderr: string[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    readonly proc: ChildProcess,
    readonly rpc: MessageConnection,
  ) {}

  /** `env` replaces the server's environment (default: this process's). */
  static start(env?: NodeJS.ProcessEnv): TestClient {
    const proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    const rpc = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    const client = new TestClient(proc, rpc);
    proc.stderr.on('data', (d: Buffer) => client.stderr.push(d.toString()));
    rpc.onNotification((method, params) => {
      client.notifications.push({ method, params });
      client.wake();
    });
    rpc.onRequest('workspace/codeLens/refresh', () => {
      client.refreshes++;
      client.wake();
      return null;
    });
    rpc.onRequest('window/showMessageRequest', () => null);
    rpc.listen();
    return client;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  request<R>(method: string, params?: unknown): Promise<R> {
    return params === undefined ? this.rpc.sendRequest<R>(method) : this.rpc.sendRequest<R>(method, params);
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.rpc.sendNotification(method, params);
  }

  async initialize(workspace: string, initializationOptions: unknown = {}): Promise<Record<string, unknown>> {
    const result = await this.request<Record<string, unknown>>('initialize', {
      processId: process.pid,
      rootUri: `file://${workspace}`,
      workspaceFolders: [{ uri: `file://${workspace}`, name: 'ws' }],
      capabilities: { workspace: { codeLens: { refreshSupport: true } } },
      initializationOptions,
    });
    await this.notify('initialized', {});
    return result;
  }

  /** Polls `check` on every notification/refresh and every 100 ms until it returns a value. */
  async waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; notifications: ${JSON.stringify(this.notifications.slice(-5))}; stderr: ${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    try {
      await this.request('shutdown');
      await this.notify('exit', null);
    } catch {
      this.proc.kill();
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.rpc.dispose();
  }
}
