/**
 * The resource gauge of a measured session: a bounded history of process-tree samples (one per
 * tick, 1 Hz by default), their current / average / peak, and the thresholds they cross. Pure:
 * the server feeds samples (pidusage + the runtimes' own figures), the extension and the webview
 * only render what this computes.
 */
import { RingBuffer, DEFAULT_HISTORY } from './ring-buffer';
import { formatBytes, withSeparators } from './format';

/** Where a process's CPU% and RSS came from this tick. */
export type UsageSource = 'pidusage' | 'runtime';

/** Resource figures of one process, or of the tree (sums; worst process for delay and utilisation). */
export interface UsageFigures {
  /** % of one core (100 = one core busy). */
  cpuPercent: number;
  rss: number;
  /** From the runtimes' latest samples (a process: the sum over its threads). */
  heapUsed: number;
  eventLoopDelayP99Ms: number;
  /** 0..1 */
  eventLoopUtilization: number;
  activeHandles: number;
}

/** One process of the tree at one tick. */
export interface ProcessGaugeSample extends UsageFigures {
  pid: number;
  source: UsageSource;
}

/** The whole tree at one tick. */
export interface GaugeSample extends UsageFigures {
  /** Epoch ms. */
  at: number;
  processCount: number;
  processes: ProcessGaugeSample[];
}

/** The figures the gauge summarises (a GaugeSample without its time and per-process split). */
export type GaugeFigures = Omit<GaugeSample, 'at' | 'processes'>;
export const GAUGE_FIGURES: readonly (keyof GaugeFigures)[] = [
  'cpuPercent', 'rss', 'heapUsed', 'eventLoopDelayP99Ms', 'eventLoopUtilization', 'activeHandles', 'processCount',
];

export interface GaugeThresholds {
  /** Tree CPU, % of one core. Default 80. */
  cpuPercent: number;
  /** Event-loop delay p99 of the worst process, ms. Default 100. */
  eventLoopDelayMs: number;
  /** RSS growth of any process since its first sample, %. Default 50. */
  memoryGrowthPercent: number;
}

export const DEFAULT_THRESHOLDS: GaugeThresholds = { cpuPercent: 80, eventLoopDelayMs: 100, memoryGrowthPercent: 50 };

/** A crossed threshold twice over turns from warning to error. */
export const ERROR_FACTOR = 2;

export type GaugeLevel = 'ok' | 'warning' | 'error';
export type GaugeMetric = 'cpu' | 'eventLoopDelay' | 'memoryGrowth';

export interface GaugeAlert {
  metric: GaugeMetric;
  level: Exclude<GaugeLevel, 'ok'>;
  value: number;
  threshold: number;
  /** One sentence for the user, e.g. `CPU 95% is over the 80% threshold`. */
  message: string;
}

/** What the status bar shows for one session at one moment (also the perfLens/resources notification). */
export interface GaugeState {
  sessionId: string;
  name: string;
  /** `ended`: the session is over (last message for it). */
  state: 'live' | 'ended';
  /** Ticks so far (the history holds at most `capacity` of them). */
  sampleCount: number;
  current: GaugeSample | null;
  avg: GaugeFigures | null;
  peak: GaugeFigures | null;
  level: GaugeLevel;
  /** Thresholds crossed by the current sample. */
  alerts: GaugeAlert[];
  /** Tree CPU% and RSS of the last minute, oldest first (for a sparkline). */
  recentCpu: number[];
  recentRss: number[];
  /** Why figures come from the runtime instead of pidusage, or null. */
  note: string | null;
}

/** What a resource view shows for one session or saved run (also saved in the run file). */
export interface GaugeHistoryData {
  intervalMs: number;
  capacity: number;
  sampleCount: number;
  samples: GaugeSample[];
  avg: GaugeFigures | null;
  peak: GaugeFigures | null;
  thresholds: GaugeThresholds;
  /** Every threshold crossed during the run (first crossing of each metric, worst level). */
  crossed: GaugeAlert[];
  note: string | null;
}

/** Sums a tick's processes into the tree figures. */
export function treeSample(at: number, processes: ProcessGaugeSample[]): GaugeSample {
  const s: GaugeSample = {
    at, cpuPercent: 0, rss: 0, heapUsed: 0, eventLoopDelayP99Ms: 0, eventLoopUtilization: 0, activeHandles: 0,
    processCount: processes.length, processes,
  };
  for (const p of processes) {
    s.cpuPercent += p.cpuPercent;
    s.rss += p.rss;
    s.heapUsed += p.heapUsed;
    s.activeHandles += p.activeHandles;
    s.eventLoopDelayP99Ms = Math.max(s.eventLoopDelayP99Ms, p.eventLoopDelayP99Ms);
    s.eventLoopUtilization = Math.max(s.eventLoopUtilization, p.eventLoopUtilization);
  }
  return s;
}

const RECENT_MS = 60_000;

/**
 * Bounded history of a session's gauge samples. Average and peak cover every sample ever pushed;
 * memory growth compares each process with its own first sample (a child that starts late is not
 * growth of its parent).
 */
export class GaugeHistory {
  private readonly buffer: RingBuffer<GaugeSample>;
  private readonly sums = {} as Record<keyof GaugeFigures, number>;
  private readonly peaks = {} as Record<keyof GaugeFigures, number>;
  private readonly firstRss = new Map<number, number>();
  private crossed: GaugeAlert[] = [];
  note: string | null = null;

  constructor(
    readonly intervalMs: number,
    public thresholds: GaugeThresholds = DEFAULT_THRESHOLDS,
    capacity = DEFAULT_HISTORY,
  ) {
    this.buffer = new RingBuffer<GaugeSample>(capacity);
    for (const f of GAUGE_FIGURES) {
      this.sums[f] = 0;
      this.peaks[f] = 0;
    }
  }

  get count(): number {
    return this.buffer.pushed;
  }

  get capacity(): number {
    return this.buffer.capacity;
  }

  last(): GaugeSample | undefined {
    return this.buffer.last();
  }

  /** Adds one tick; returns the thresholds it crosses for the first time in this history. */
  push(sample: GaugeSample): GaugeAlert[] {
    this.buffer.push(sample);
    for (const f of GAUGE_FIGURES) {
      this.sums[f] += sample[f];
      if (sample[f] > this.peaks[f]) this.peaks[f] = sample[f];
    }
    for (const p of sample.processes) if (!this.firstRss.has(p.pid) && p.rss > 0) this.firstRss.set(p.pid, p.rss);
    const alerts = this.alerts(sample);
    const fresh = alerts.filter((a) => !this.crossed.some((c) => c.metric === a.metric));
    this.crossed = mergeCrossed(this.crossed, alerts);
    return fresh;
  }

  avg(): GaugeFigures | null {
    if (this.count === 0) return null;
    const out = {} as GaugeFigures;
    for (const f of GAUGE_FIGURES) out[f] = this.sums[f] / this.count;
    return out;
  }

  peak(): GaugeFigures | null {
    return this.count === 0 ? null : { ...this.peaks };
  }

  /** Largest RSS growth of any process since its first sample, % (0 without samples). */
  memoryGrowthPercent(sample: GaugeSample): number {
    let worst = 0;
    for (const p of sample.processes) {
      const first = this.firstRss.get(p.pid);
      if (first) worst = Math.max(worst, ((p.rss - first) / first) * 100);
    }
    return worst;
  }

  /** Thresholds a sample crosses. */
  alerts(sample: GaugeSample): GaugeAlert[] {
    const t = this.thresholds;
    const out: GaugeAlert[] = [];
    const check = (metric: GaugeMetric, value: number, threshold: number, what: string, unit: (v: number) => string): void => {
      if (!(threshold > 0) || !(value > threshold)) return;
      const level = value > threshold * ERROR_FACTOR ? 'error' : 'warning';
      out.push({ metric, level, value, threshold, message: `${what} ${unit(value)} is over the ${unit(threshold)} threshold` });
    };
    check('cpu', sample.cpuPercent, t.cpuPercent, 'CPU', (v) => `${withSeparators(v, 0)}%`);
    check('eventLoopDelay', sample.eventLoopDelayP99Ms, t.eventLoopDelayMs, 'event-loop delay p99', (v) => `${withSeparators(v, 0)} ms`);
    check('memoryGrowth', this.memoryGrowthPercent(sample), t.memoryGrowthPercent, 'memory growth', (v) => `${withSeparators(v, 0)}%`);
    return out;
  }

  samples(): GaugeSample[] {
    return this.buffer.toArray();
  }

  state(sessionId: string, name: string, state: GaugeState['state']): GaugeState {
    const current = this.last() ?? null;
    const alerts = current ? this.alerts(current) : [];
    const since = (current?.at ?? 0) - RECENT_MS;
    const recent = this.samples().filter((s) => s.at > since);
    return {
      sessionId, name, state, sampleCount: this.count, current, avg: this.avg(), peak: this.peak(),
      level: worstLevel(alerts), alerts,
      recentCpu: recent.map((s) => s.cpuPercent),
      recentRss: recent.map((s) => s.rss),
      note: this.note,
    };
  }

  data(): GaugeHistoryData {
    return {
      intervalMs: this.intervalMs,
      capacity: this.capacity,
      sampleCount: this.count,
      samples: this.samples(),
      avg: this.avg(),
      peak: this.peak(),
      thresholds: { ...this.thresholds },
      crossed: [...this.crossed],
      note: this.note,
    };
  }
}

/**
 * Adds a tick's alerts to the thresholds crossed so far: the first crossing of each metric,
 * replaced only by a worse level (a warning that becomes an error). The server's history and the
 * resource view's live updates both use it, so both show the same list.
 */
export function mergeCrossed(crossed: readonly GaugeAlert[], alerts: readonly GaugeAlert[]): GaugeAlert[] {
  const out = [...crossed];
  for (const a of alerts) {
    const i = out.findIndex((c) => c.metric === a.metric);
    if (i < 0) out.push(a);
    else if (out[i].level === 'warning' && a.level === 'error') out[i] = a;
  }
  return out;
}

export function worstLevel(alerts: readonly GaugeAlert[]): GaugeLevel {
  if (alerts.some((a) => a.level === 'error')) return 'error';
  return alerts.length > 0 ? 'warning' : 'ok';
}

/* ------------------------------ rendering ------------------------------ */

const BARS = '▁▂▃▄▅▆▇█';

/** `▁▃▇█`: one bar per value, scaled from 0 (or the lowest value, when `fromMin`) to the highest. */
export function sparkline(values: readonly number[], width = 30, fromMin = false): string {
  const v = values.length > width ? bucketMax(values, width) : values;
  if (v.length === 0) return '';
  const hi = Math.max(...v);
  const lo = fromMin ? Math.min(...v) : 0;
  if (!(hi > lo)) return BARS[0].repeat(v.length);
  return v.map((x) => BARS[Math.min(BARS.length - 1, Math.max(0, Math.round(((x - lo) / (hi - lo)) * (BARS.length - 1))))]).join('');
}

/** Shrinks to `width` values keeping each bucket's maximum (a spike stays visible). */
function bucketMax(values: readonly number[], width: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.floor(((i + 1) * values.length) / width);
    out.push(Math.max(...values.slice(from, Math.max(to, from + 1))));
  }
  return out;
}

export function formatCpu(percent: number): string {
  return `${withSeparators(percent, 0)}%`;
}

/** Status bar text: `$(pulse) 37% CPU · 212 MiB`; `$(pulse) idle` without a sample. */
export function gaugeText(state: GaugeState | null): string {
  const c = state?.current;
  if (!c) return '$(pulse) idle';
  return `$(pulse) ${formatCpu(c.cpuPercent)} CPU · ${formatBytes(c.rss)}`;
}

/** Screen-reader label of the status bar item. */
export function gaugeAccessibilityLabel(state: GaugeState | null): string {
  const c = state?.current;
  if (!c) return 'Perf Lens resources: idle';
  const alerts = state.alerts.map((a) => a.message).join('; ');
  return `Perf Lens resources of ${state.name}: ${withSeparators(c.cpuPercent, 0)} percent CPU, ${formatBytes(c.rss)} memory, ${c.processCount} process${c.processCount === 1 ? '' : 'es'}${alerts ? `. ${alerts}` : ''}`;
}

const ms = (v: number): string => `${withSeparators(v, v < 10 ? 1 : 0)} ms`;
const pct = (v: number): string => `${withSeparators(v * 100, 0)}%`;
const count = (v: number): string => withSeparators(v, 0);

/** Rows of the tooltip / view summary: label, formatter, field. */
export const GAUGE_ROWS: readonly { label: string; field: keyof GaugeFigures; format: (v: number) => string }[] = [
  { label: 'CPU', field: 'cpuPercent', format: formatCpu },
  { label: 'RSS', field: 'rss', format: formatBytes },
  { label: 'Heap used', field: 'heapUsed', format: formatBytes },
  { label: 'Event-loop delay p99', field: 'eventLoopDelayP99Ms', format: ms },
  { label: 'Event-loop utilisation', field: 'eventLoopUtilization', format: pct },
  { label: 'Active handles', field: 'activeHandles', format: count },
  { label: 'Processes', field: 'processCount', format: count },
];

/** The status bar tooltip: a current / average / peak table, sparklines of the last minute, alerts and notes. */
export function gaugeTooltipMarkdown(state: GaugeState): string {
  const lines = [`**Perf Lens resources** · ${state.name}${state.state === 'ended' ? ' (ended)' : ''}`, ''];
  if (!state.current) {
    lines.push('Waiting for the first sample…');
  } else {
    lines.push('| | current | avg | peak |', '|---|--:|--:|--:|');
    for (const r of GAUGE_ROWS) {
      const cur = state.current[r.field];
      lines.push(`| ${r.label} | ${r.format(cur)} | ${state.avg ? r.format(state.avg[r.field]) : '-'} | ${state.peak ? r.format(state.peak[r.field]) : '-'} |`);
    }
    lines.push('', `CPU, last minute: \`${sparkline(state.recentCpu)}\``, '', `RSS, last minute: \`${sparkline(state.recentRss, 30, true)}\``);
  }
  for (const a of state.alerts) lines.push('', `${a.level === 'error' ? '$(error)' : '$(warning)'} ${a.message}`);
  if (state.note) lines.push('', `_${state.note}_`);
  return lines.join('\n');
}

/** CSV of a history: one row per process per tick (tree totals in rows with pid `all`). */
export function gaugeCsv(samples: readonly GaugeSample[]): string {
  const header = 'time,pid,cpuPercent,rss,heapUsed,eventLoopDelayP99Ms,eventLoopUtilization,activeHandles,source';
  const rows = [header];
  for (const s of samples) {
    const t = new Date(s.at).toISOString();
    rows.push([t, 'all', round(s.cpuPercent), s.rss, s.heapUsed, round(s.eventLoopDelayP99Ms), round(s.eventLoopUtilization, 4), s.activeHandles, ''].join(','));
    for (const p of s.processes) {
      rows.push([t, p.pid, round(p.cpuPercent), p.rss, p.heapUsed, round(p.eventLoopDelayP99Ms), round(p.eventLoopUtilization, 4), p.activeHandles, p.source].join(','));
    }
  }
  return `${rows.join('\n')}\n`;
}

function round(v: number, decimals = 2): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

/** One thread's figures from its runtime's latest sample (a ResourceSampleReport has them all). */
export interface ThreadFigures {
  rss: number;
  heapUsed: number;
  cpuPercent: number;
  eventLoopDelayP99Ms: number;
  eventLoopUtilization: number;
  activeHandles: number;
}

/** A runtime resource sample as the report keeps it. */
export interface RuntimeSampleLike extends ThreadFigures {
  at: number;
  pid: number;
  threadId: number;
}

/**
 * One process from its threads' runtime figures, main thread first: CPU and RSS are process-wide
 * (process.cpuUsage and memoryUsage see the whole process from any thread), so the main thread's;
 * heaps and handles are per thread, so summed; delay and utilisation are the worst thread's.
 */
export function processFromThreads(pid: number, threads: readonly ThreadFigures[]): ProcessGaugeSample {
  const main = threads[0] as ThreadFigures | undefined;
  const p: ProcessGaugeSample = {
    pid, cpuPercent: main?.cpuPercent ?? 0, rss: main?.rss ?? 0, heapUsed: 0, eventLoopDelayP99Ms: 0, eventLoopUtilization: 0, activeHandles: 0,
    source: 'runtime',
  };
  for (const t of threads) {
    p.heapUsed += t.heapUsed;
    p.activeHandles += t.activeHandles;
    p.eventLoopDelayP99Ms = Math.max(p.eventLoopDelayP99Ms, t.eventLoopDelayP99Ms);
    p.eventLoopUtilization = Math.max(p.eventLoopUtilization, t.eventLoopUtilization);
  }
  return p;
}

/**
 * A gauge history rebuilt from the runtimes' own samples (a run without a gauge, e.g. from the
 * CLI): ticks of `intervalMs`, each process's last sample in the tick (heap summed over threads).
 */
export function historyFromRuntimeSamples(samples: readonly RuntimeSampleLike[], intervalMs = 1000, thresholds = DEFAULT_THRESHOLDS): GaugeHistoryData {
  const ticks = new Map<number, Map<number, Map<number, RuntimeSampleLike>>>();
  for (const s of samples) {
    const tick = Math.floor(s.at / intervalMs) * intervalMs;
    let pids = ticks.get(tick);
    if (!pids) ticks.set(tick, (pids = new Map<number, Map<number, RuntimeSampleLike>>()));
    let threads = pids.get(s.pid);
    if (!threads) pids.set(s.pid, (threads = new Map<number, RuntimeSampleLike>()));
    threads.set(s.threadId, s); // samples come oldest first: the last one wins
  }
  const history = new GaugeHistory(intervalMs, thresholds, Math.max(1, ticks.size));
  for (const tick of [...ticks.keys()].sort((a, b) => a - b)) {
    const processes: ProcessGaugeSample[] = [];
    for (const [pid, threads] of ticks.get(tick)!) {
      processes.push(processFromThreads(pid, [...threads.values()].sort((a, b) => a.threadId - b.threadId)));
    }
    history.push(treeSample(tick + intervalMs, processes));
  }
  history.note = samples.length > 0 ? "This run has no gauge samples: figures are the runtimes' own, per second." : 'This run has no resource samples.';
  return history.data();
}
