/**
 * NDJSON transport to the collector over a local socket.
 *
 * Writes go straight to the socket's file descriptor with fs.writeSync (non-blocking fd): a
 * periodic flush writes what the kernel takes and keeps the rest for the next flush, and the exit
 * flush retries EAGAIN until everything is written (or EXIT_FLUSH_TIMEOUT_MS passes), so the last
 * delta survives process.exit(), uncaught exceptions and signals. libuv never writes to the fd
 * itself, so the two paths cannot interleave. Where there is no fd (Windows named pipes), the
 * stream's own write is used and the exit flush is best effort.
 */
import * as fs from 'fs';
import * as net from 'net';

export const EXIT_FLUSH_TIMEOUT_MS = 2000;

export type TransportState = 'connecting' | 'open' | 'dead';

interface PipeHandle { fd?: number }

export class Transport {
  state: TransportState = 'connecting';
  private socket: net.Socket | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes written so far (for the wire-cost benchmark). */
  bytesWritten = 0;

  /** `onDead` gets a short reason (an errno code or a phrase). */
  constructor(private readonly path: string, private readonly onDead: (why: string) => void) {}

  connect(): void {
    // A missing socket file fails asynchronously; say why now rather than a vaguer error at exit.
    if (process.platform !== 'win32' && !fs.existsSync(this.path)) {
      this.die('ENOENT');
      return;
    }
    try {
      const socket = net.connect({ path: this.path });
      this.socket = socket;
      socket.unref();
      socket.on('connect', () => {
        if (this.state === 'connecting') this.state = 'open';
        this.flush(false);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => this.die(err.code ?? err.message));
      socket.on('close', () => this.die('closed by the collector'));
      // The collector never talks back; drain anything it sends so buffers do not fill.
      socket.on('data', () => undefined);
    } catch (err) {
      this.die((err as Error).message);
    }
  }

  /** Queues NDJSON text (one or more complete lines). */
  send(text: string): void {
    if (this.state === 'dead' || text.length === 0) return;
    const buf = Buffer.from(text, 'utf8');
    this.pending.push(buf);
    this.pendingBytes += buf.length;
  }

  /**
   * Writes queued data. `exiting`: block (retrying EAGAIN) until all is written, even before the
   * 'connect' event fired (a Unix socket connects synchronously; the event is just deferred).
   */
  flush(exiting: boolean): void {
    if (this.state === 'dead' || this.pending.length === 0) return;
    if (this.state === 'connecting' && !exiting) return;
    const fd = this.fd();
    if (fd === undefined) {
      if (this.state === 'open' && this.socket) {
        for (const b of this.pending) this.socket.write(b);
        this.bytesWritten += this.pendingBytes;
        this.pending = [];
        this.pendingBytes = 0;
      }
      return;
    }
    const deadline = exiting ? Date.now() + EXIT_FLUSH_TIMEOUT_MS : 0;
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    let off = 0;
    try {
      while (off < buf.length) {
        try {
          off += fs.writeSync(fd, buf, off, buf.length - off);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') throw err;
          if (!exiting || Date.now() > deadline) break;
        }
      }
    } catch (err) {
      this.die((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      return;
    }
    this.bytesWritten += off;
    this.pending = off < buf.length ? [buf.subarray(off)] : [];
    this.pendingBytes = buf.length - off;
  }

  /** Closes quietly (after the final flush). */
  close(): void {
    this.state = 'dead';
    this.socket?.destroy();
  }

  private fd(): number | undefined {
    const handle = (this.socket as unknown as { _handle?: PipeHandle } | undefined)?._handle;
    const fd = handle?.fd;
    return typeof fd === 'number' && fd >= 0 ? fd : undefined;
  }

  private die(why: string): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.pending = [];
    this.pendingBytes = 0;
    this.socket?.destroy();
    this.onDead(why);
  }
}
