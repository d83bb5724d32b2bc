/**
 * Throttles `workspace/codeLens/refresh`: the first request after a quiet period goes out after a
 * short coalescing delay, later ones at most once per interval, so a refresh follows new data by
 * at most ~interval and costs the client one round of lens requests per interval, not per delta.
 */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class RefreshThrottle {
  private timer: unknown;
  private lastSent = -Infinity;
  /** Arrival time of the oldest data not yet covered by a refresh. */
  private oldestPending: number | undefined;
  readonly latenciesMs: number[] = [];
  sent = 0;

  constructor(
    private readonly send: () => void,
    private readonly intervalMs = 1000,
    private readonly coalesceMs = 50,
    private readonly timers: Timers = realTimers,
  ) {}

  /** New data arrived at `arrivedAt` (epoch ms). */
  request(arrivedAt: number = this.timers.now()): void {
    if (this.oldestPending === undefined || arrivedAt < this.oldestPending) this.oldestPending = arrivedAt;
    if (this.timer !== undefined) return;
    const now = this.timers.now();
    const wait = Math.max(this.coalesceMs, this.lastSent + this.intervalMs - now);
    this.timer = this.timers.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.timers.now();
    this.lastSent = now;
    if (this.oldestPending !== undefined) {
      this.latenciesMs.push(now - this.oldestPending);
      if (this.latenciesMs.length > 100) this.latenciesMs.shift();
    }
    this.oldestPending = undefined;
    this.sent++;
    this.send();
  }

  dispose(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
