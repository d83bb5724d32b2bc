/**
 * The resource gauge of one live session: every `intervalMs` while the session has running
 * processes, reads CPU% and RSS of each measured process from the OS (process-usage.ts), adds the heap,
 * event-loop and handle figures of the runtimes' own latest samples, and pushes one tree sample
 * into a bounded GaugeHistory. A process the OS figures cannot be read for is shown with the runtime's own CPU
 * and RSS instead (said once in the note), and is not asked again: no error loop.
 * The timer runs only while processes run, and stop() clears it for good.
 */
import { GaugeHistory, processFromThreads, treeSample, type GaugeState, type GaugeThresholds, type ProcessGaugeSample, type ThreadFigures } from '../model/gauge';
import { PROCESS_GONE, ProcessUsageReader, type ProcessUsage } from './process-usage';

/** A measured process that is still connected, with the latest runtime sample of each of its threads. */
export interface RunningProcess {
  pid: number;
  /** Main thread first. */
  samples: ThreadFigures[];
}

export interface MonitoredSession {
  readonly id: string;
  readonly name: string;
  runningProcesses(): RunningProcess[];
}

export interface ResourceMonitorOptions {
  intervalMs: number;
  history: number;
  thresholds: GaugeThresholds;
  /** Called after each tick with the new state. */
  onTick(state: GaugeState): void;
}

/** Live timers of every monitor (the server reports it; tests check that none leak). */
let liveTimers = 0;
export function gaugeTimersRunning(): number {
  return liveTimers;
}

export class ResourceMonitor {
  readonly history: GaugeHistory;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private stopped = false;
  /** pid -> why its OS figures could not be read (it is not asked again). */
  private readonly unreadable = new Map<number, string>();
  private readonly usage: ProcessUsageReader;

  constructor(private readonly session: MonitoredSession, private readonly options: ResourceMonitorOptions) {
    this.history = new GaugeHistory(options.intervalMs, options.thresholds, options.history);
    this.usage = new ProcessUsageReader(options.intervalMs);
  }

  /** Starts sampling if it is not running (a process connected). */
  ensureRunning(): void {
    if (this.timer || this.stopped) return;
    liveTimers++;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    void this.tick(); // primes the previous OS reading; the gauge appears at once
  }

  set thresholds(t: GaugeThresholds) {
    this.history.thresholds = t;
  }

  /** Stops for good (the session ended). */
  stop(): void {
    this.stopped = true;
    this.pause();
    this.usage.close();
  }

  state(state: GaugeState['state']): GaugeState {
    return this.history.state(this.session.id, this.session.name, state);
  }

  private pause(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    liveTimers--;
  }

  /** One sample of the tree. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    const running = this.session.runningProcesses();
    if (running.length === 0) {
      this.pause(); // resumes when a process connects again (attach sessions)
      this.usage.close();
      return;
    }
    this.ticking = true;
    try {
      const ask = running.map((p) => p.pid).filter((pid) => !this.unreadable.has(pid));
      const usage = ask.length > 0 ? await this.usage.read(ask) : new Map<number, ProcessUsage>();
      if (this.stopped) return;
      const processes: ProcessGaugeSample[] = [];
      for (const p of running) {
        const u = usage.get(p.pid);
        if (u && 'error' in u) {
          if (u.error === PROCESS_GONE) continue; // exiting; its connection closes next
          this.unreadable.set(p.pid, u.error);
          this.updateNote();
        }
        processes.push(processSample(p, u && !('error' in u) ? u : undefined));
      }
      if (processes.length === 0) return;
      this.history.push(treeSample(Date.now(), processes));
      this.options.onTick(this.state('live'));
    } finally {
      this.ticking = false;
    }
  }

  private updateNote(): void {
    const reasons = [...this.unreadable].map(([pid, why]) => `pid ${pid}: ${why}`);
    this.history.note = `CPU and memory of ${reasons.length === 1 ? 'one process come' : `${reasons.length} processes come`} from the runtime's own samples (the OS figures could not be read: ${reasons.join('; ')}).`;
  }
}

/** One process at one tick: OS figures when there are, the runtime's own otherwise. */
function processSample(p: RunningProcess, os: { cpuPercent: number; rss: number; first: boolean } | undefined): ProcessGaugeSample {
  const runtime = processFromThreads(p.pid, p.samples);
  if (!os) return runtime;
  // A first OS reading has no recent CPU% (the average since the start on Linux, 0 from pidusage):
  // the runtime's own figure of its last interval is better then, when there is one.
  const cpuPercent = os.first && p.samples.length > 0 ? runtime.cpuPercent : os.cpuPercent;
  return { ...runtime, cpuPercent, rss: os.rss, source: 'pidusage' };
}
