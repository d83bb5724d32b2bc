/**
 * Relays what `perf-lens run` measures to the editor's insight server (PERF_LENS_ATTACH_FILE).
 *
 * The CLI keeps its own private collector (its report is unchanged); for every runtime connection
 * that collector accepts, the relay opens one connection to the attach socket and forwards that
 * connection's messages, with the server's token and session put in its `hello`. Relaying is a
 * bonus: any problem stops it with ONE warning and never touches the run or the report.
 */
import * as fs from 'fs';
import * as net from 'net';
import { ATTACH_FILE_ENV, LSP_PROTOCOL_VERSION, type AttachFile } from '../protocol/lsp';
import type { RuntimeMessage } from '../protocol/runtime';

/** Longer than any local connect; short enough that a wedged server never stalls the run. */
const CONNECT_TIMEOUT_MS = 2000;
/** More unsent data than this means the server stopped reading: give up rather than hoard memory. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** The attach file's content, or why it cannot be used. */
export function parseAttachFile(text: string): AttachFile | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'it is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'it is not a JSON object';
  const a = value as Partial<AttachFile>;
  if (a.version !== LSP_PROTOCOL_VERSION) return `version ${JSON.stringify(a.version)} is not supported (expected ${LSP_PROTOCOL_VERSION})`;
  for (const key of ['socket', 'token', 'session'] as const) {
    if (typeof a[key] !== 'string' || a[key] === '') return `"${key}" is missing`;
  }
  if (!Number.isInteger(a.pid) || (a.pid as number) <= 0) return '"pid" is missing';
  return { version: a.version, socket: a.socket!, token: a.token!, session: a.session!, pid: a.pid! };
}

/** Whether a process exists (EPERM: it does, it just is not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads and checks the attach file named by the environment; a string says why it is unusable. */
export function loadAttachFile(file: string): AttachFile | string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'it does not exist (is the editor running?)' : `cannot read it: ${(err as Error).message}`;
  }
  const attach = parseAttachFile(text);
  if (typeof attach === 'string') return attach;
  if (!isAlive(attach.pid)) return `it is stale: its server (pid ${attach.pid}) is not running`;
  return attach;
}

/** The hello the server accepts: the runtime's own, with the server's token and session. */
export function relayedHello(msg: RuntimeMessage, attach: AttachFile): RuntimeMessage {
  return msg.type === 'hello' ? { ...msg, token: attach.token, session: attach.session } : msg;
}

export class AttachRelay {
  /** Relay connection of each runtime connection still open. */
  private readonly links = new Map<number, net.Socket>();
  /** Every relay socket not yet closed (ended ones may still be flushing). */
  private readonly pending = new Set<net.Socket>();
  private failed = false;

  private constructor(
    private readonly attach: AttachFile,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * A relay for the attach file named by `env`, or undefined when none is named or it is unusable
   * (then `warn` has been told why, once).
   */
  static fromEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void): AttachRelay | undefined {
    const file = env[ATTACH_FILE_ENV];
    if (file === undefined || file === '') return undefined;
    const attach = loadAttachFile(file);
    if (typeof attach === 'string') {
      warn(`${ATTACH_FILE_ENV}=${file} is ignored: ${attach}; the run is not shown in the editor`);
      return undefined;
    }
    return new AttachRelay(attach, warn);
  }

  /** Forwards one message of runtime connection `id`; its hello opens the relay connection. */
  accept(id: number, msg: RuntimeMessage): void {
    if (this.failed) return;
    let link = this.links.get(id);
    if (!link) {
      if (msg.type !== 'hello') return;
      link = this.connect();
      this.links.set(id, link);
    }
    link.write(`${JSON.stringify(relayedHello(msg, this.attach))}\n`);
    if (link.writableLength > MAX_BUFFERED_BYTES) this.fail('the insight server is not reading');
  }

  /** Runtime connection `id` ended: so does its relay connection (after sending what is queued). */
  end(id: number): void {
    const link = this.links.get(id);
    if (!link) return;
    this.links.delete(id);
    link.end();
  }

  /** Ends every relay connection and waits (at most `timeoutMs`) until all queued data is sent. */
  async close(timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
    for (const id of [...this.links.keys()]) this.end(id);
    const open = [...this.pending];
    if (open.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(open.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    for (const s of this.pending) s.destroy();
  }

  private connect(): net.Socket {
    const socket = net.createConnection(this.attach.socket);
    this.pending.add(socket);
    const timer = setTimeout(() => this.fail(`no connection to ${this.attach.socket} within ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
    timer.unref();
    socket.once('connect', () => clearTimeout(timer));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      this.fail(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? `nothing listens on ${this.attach.socket}` : err.message);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      this.pending.delete(socket);
      // The server hung up on a connection we had not ended: it dropped us mid-run.
      if ([...this.links.values()].includes(socket)) this.fail('the insight server closed the connection');
    });
    return socket;
  }

  private fail(why: string): void {
    if (this.failed) return;
    this.failed = true;
    this.warn(`cannot relay the run to the editor (${why}); the run goes on, measured by the CLI only`);
    this.links.clear();
    for (const s of this.pending) s.destroy();
  }
}
