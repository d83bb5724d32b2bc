/**
 * The collector: a local socket server that receives NDJSON runtime messages.
 *
 * One private socket per session: a Unix domain socket inside a fresh mode-0700 directory under
 * os.tmpdir() (a named pipe with a random name on Windows), plus a random token. A connection must
 * open with a valid `hello` (token + protocol version) or it is dropped and logged. Partial lines,
 * garbage lines and abrupt disconnects are tolerated. Used by the CLI and the language server, so
 * it knows nothing about either: messages go to callbacks.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { StringDecoder } from 'string_decoder';
import { ENV, PROTOCOL_VERSION, type HelloMessage, type RuntimeMessage } from '../protocol/runtime';

export interface CollectorConnection {
  /** Unique per collector, in accept order. */
  readonly id: number;
  /** The validated hello (pid, threadId, argv, ...). */
  readonly hello: HelloMessage;
}

export interface CollectorOptions {
  /** Every message after a valid hello, including the hello itself. */
  onMessage(conn: CollectorConnection, msg: RuntimeMessage): void;
  /** An authenticated connection ended (bye or not). */
  onClose?(conn: CollectorConnection): void;
  /** Problems worth telling someone about: dropped connections, garbage lines. */
  log?(message: string): void;
  /** Defaults to 32 random bytes, hex. */
  token?: string;
  /** Session id handed to the runtime (defaults to a random id). */
  session?: string;
  /** A line longer than this drops the connection (default 64 MiB). */
  maxLineBytes?: number;
  /** A connection that sends no hello in time is dropped (default 10 s). */
  helloTimeoutMs?: number;
}

const DEFAULT_MAX_LINE = 64 * 1024 * 1024;
const DEFAULT_HELLO_TIMEOUT_MS = 10_000;

function timingSafeEqualStrings(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

/** Why a first message is not an acceptable hello, or null when it is. */
export function helloProblem(msg: unknown, token: string): string | null {
  if (typeof msg !== 'object' || msg === null) return 'the first message is not a JSON object';
  const m = msg as Partial<HelloMessage>;
  if (m.type !== 'hello') return `the first message is ${JSON.stringify(m.type)}, not "hello"`;
  if (typeof m.token !== 'string' || !timingSafeEqualStrings(m.token, token)) return 'wrong token';
  if (m.protocol !== PROTOCOL_VERSION) {
    return `protocol ${JSON.stringify(m.protocol)} is not supported (expected ${PROTOCOL_VERSION}): the program loaded the runtime of `
      + 'another Perf Lens version; start it with the runtime of this one (its dist/runtime/preload.js: rebuild with `node esbuild.js`, '
      + 'or reload the editor after an update)';
  }
  if (!Number.isInteger(m.pid) || (m.pid as number) <= 0) return 'hello without a valid pid';
  if (!Number.isInteger(m.threadId) || (m.threadId as number) < 0) return 'hello without a valid threadId';
  return null;
}

export class Collector {
  readonly token: string;
  readonly session: string;
  private readonly sockets = new Set<net.Socket>();
  private idleWaiters: (() => void)[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    /** Socket path or pipe name. */
    readonly socketPath: string,
    /** The private directory holding the socket (undefined on Windows). */
    private readonly dir: string | undefined,
    private readonly options: CollectorOptions,
  ) {
    this.token = options.token ?? crypto.randomBytes(32).toString('hex');
    this.session = options.session ?? crypto.randomBytes(8).toString('hex');
    server.on('connection', (socket) => this.handle(socket));
  }

  /** Creates the private socket and starts listening. */
  static async start(options: CollectorOptions): Promise<Collector> {
    let socketPath: string;
    let dir: string | undefined;
    if (process.platform === 'win32') {
      socketPath = `\\\\.\\pipe\\perf-lens-${process.pid}-${crypto.randomBytes(12).toString('hex')}`;
    } else {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-'));
      fs.chmodSync(dir, 0o700);
      socketPath = path.join(dir, 'collector.sock');
    }
    const server = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    // Nothing else may connect: the directory is private already; the socket itself too.
    if (dir) fs.chmodSync(socketPath, 0o600);
    return new Collector(server, socketPath, dir, options);
  }

  /** Env vars that point a runtime at this collector. */
  env(): Record<string, string> {
    return { [ENV.socket]: this.socketPath, [ENV.token]: this.token, [ENV.session]: this.session };
  }

  /** Open connections (authenticated or still waiting for their hello). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /**
   * Resolves true once no connection is open, or false after `timeoutMs`. `settleMs`: the count
   * must stay at zero this long: a process that just exited may still sit in the accept backlog
   * (its connect() completed before it exited, so one short pause is enough to see it).
   */
  async waitForIdle(timeoutMs: number, settleMs = 10): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.sockets.size === 0) {
        await delay(Math.min(settleMs, Math.max(0, deadline - Date.now())));
        if (this.sockets.size === 0) return true;
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops listening, drops open connections and removes the socket and its directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  private handle(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const id = this.nextId++;
    const maxLine = this.options.maxLineBytes ?? DEFAULT_MAX_LINE;
    const decoder = new StringDecoder('utf8');
    let buffered = '';
    let conn: CollectorConnection | undefined;
    let garbage = 0;
    let dropped = false;

    const drop = (why: string): void => {
      if (dropped) return;
      dropped = true;
      this.log(`perf-lens: dropped runtime connection #${id}: ${why}`);
      socket.destroy();
    };
    const helloTimer = setTimeout(() => drop('no hello message in time'), this.options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS);
    helloTimer.unref();

    const onLine = (line: string): void => {
      if (dropped || line.trim() === '') return;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        msg = undefined;
      }
      if (!conn) {
        const problem = helloProblem(msg, this.token);
        if (problem) return drop(problem);
        clearTimeout(helloTimer);
        conn = { id, hello: msg as HelloMessage };
      } else if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') {
        if (garbage++ === 0) this.log(`perf-lens: ignored a malformed line from pid ${conn.hello.pid}: ${line.slice(0, 80)}`);
        return;
      }
      try {
        this.options.onMessage(conn, msg as RuntimeMessage);
      } catch (err) {
        this.log(`perf-lens: error handling a runtime message: ${(err as Error).message}`);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      // Only the new text can hold a newline; the carried-over part never does.
      let nl = text.indexOf('\n');
      if (nl < 0) {
        buffered += text;
      } else {
        let line = buffered + text.slice(0, nl);
        buffered = '';
        for (;;) {
          onLine(line);
          if (dropped) return;
          const start = nl + 1;
          nl = text.indexOf('\n', start);
          if (nl < 0) {
            buffered = text.slice(start);
            break;
          }
          line = text.slice(start, nl);
        }
      }
      if (buffered.length > maxLine) drop(`a line longer than ${maxLine} bytes`);
    });
    socket.on('end', () => {
      // A last line without its newline still counts (the writer may have been killed mid-way).
      buffered += decoder.end();
      if (buffered.trim() !== '') onLine(buffered);
      buffered = '';
    });
    socket.on('error', () => {
      // Abrupt disconnects (ECONNRESET, EPIPE) are normal when a process is killed.
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      this.sockets.delete(socket);
      if (conn) {
        try {
          this.options.onClose?.(conn);
        } catch (err) {
          this.log(`perf-lens: error closing a runtime connection: ${(err as Error).message}`);
        }
      }
      if (this.sockets.size === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
