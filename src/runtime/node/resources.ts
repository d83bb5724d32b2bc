/**
 * Resource sampler: memory, CPU, event-loop delay and utilisation, active handles, every
 * `intervalMs` on an unref'd timer. Samples are buffered and shipped with the deltas.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram, type EventLoopUtilization } from 'perf_hooks';
import type { ResourceSample } from '../../protocol/runtime';

export class ResourceSampler {
  private samples: ResourceSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private delay: IntervalHistogram | undefined;
  private lastCpu = process.cpuUsage();
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastAt = performance.now();

  constructor(private readonly intervalMs: number, private readonly maxBuffered = 600) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    try {
      this.delay = monitorEventLoopDelay({ resolution: Math.max(1, Math.min(10, Math.floor(this.intervalMs / 10))) });
      this.delay.enable();
    } catch {
      this.delay = undefined;
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.delay?.disable();
  }

  /** Takes one sample now. */
  sample(): void {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    const nowMs = performance.now();
    const d = this.delay;
    const hasDelay = d !== undefined && d.count > 0;
    this.samples.push({
      at: Date.now(),
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      intervalMs: Math.round((nowMs - this.lastAt) * 1000) / 1000,
      eventLoopDelayP50Ms: hasDelay ? d.percentile(50) / 1e6 : 0,
      eventLoopDelayP99Ms: hasDelay ? d.percentile(99) / 1e6 : 0,
      eventLoopUtilization: Number.isFinite(elu.utilization) ? Math.round(elu.utilization * 1e4) / 1e4 : 0,
      activeHandles: activeHandles(),
    });
    this.lastAt = nowMs;
    d?.reset();
    if (this.samples.length > this.maxBuffered) this.samples.splice(0, this.samples.length - this.maxBuffered);
  }

  /** Samples taken since the previous drain. */
  drain(): ResourceSample[] {
    const s = this.samples;
    this.samples = [];
    return s;
  }
}

function activeHandles(): number {
  const p = process as NodeJS.Process & { getActiveResourcesInfo?: () => string[] };
  if (typeof p.getActiveResourcesInfo !== 'function') return 0;
  // Our own sampling/flush timers are unref'd and not listed; only the program's resources count.
  return p.getActiveResourcesInfo().length;
}
