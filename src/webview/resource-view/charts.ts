/**
 * What the resource view plots, from a gauge history: four charts (CPU, memory, event-loop delay,
 * event-loop utilisation), one line per process (plus the tree total where a sum means something),
 * in uPlot's column layout. Pure: no DOM, no uPlot; unit-tested.
 */
import type { GaugeFigures, GaugeSample, ProcessGaugeSample } from '../../model/gauge';

export type ChartId = 'cpu' | 'memory' | 'delay' | 'utilisation';

export interface SeriesSpec {
  label: string;
  /** Colour slot: 0 = the tree total, 1.. = the processes in the order they appeared. */
  slot: number;
  dashed: boolean;
}

export interface ChartData {
  id: ChartId;
  title: string;
  unit: string;
  /** Short unit after a marker's value (`%`, ` MiB`). */
  markerUnit: string;
  series: SeriesSpec[];
  /** uPlot columns: x (epoch seconds), then one column per series; null where a process was absent. */
  columns: (number | null)[][];
  /** Markers for the headline series (the total, or the worst process). */
  avg: number | null;
  peak: number | null;
  /** Points plotted (ticks). */
  points: number;
}

const MiB = 1024 * 1024;

type Pick = (p: ProcessGaugeSample) => number;

interface ChartRecipe {
  id: ChartId;
  title: string;
  unit: string;
  markerUnit: string;
  /** The tree line, if the chart has one. */
  total?: { label: string; value: (s: GaugeSample) => number };
  perProcess: { suffix: string; value: Pick; dashed: boolean }[];
  /** Headline figure for the avg/peak markers, scaled like the lines. */
  marker: { field: keyof GaugeFigures; scale: number };
}

const RECIPES: readonly ChartRecipe[] = [
  {
    id: 'cpu', title: 'CPU', unit: '% of one core', markerUnit: '%',
    total: { label: 'all processes', value: (s) => s.cpuPercent },
    perProcess: [{ suffix: '', value: (p) => p.cpuPercent, dashed: false }],
    marker: { field: 'cpuPercent', scale: 1 },
  },
  {
    id: 'memory', title: 'Memory', unit: 'MiB', markerUnit: ' MiB',
    total: { label: 'RSS, all processes', value: (s) => s.rss / MiB },
    perProcess: [
      { suffix: ' RSS', value: (p) => p.rss / MiB, dashed: false },
      { suffix: ' heap', value: (p) => p.heapUsed / MiB, dashed: true },
    ],
    marker: { field: 'rss', scale: 1 / MiB },
  },
  {
    id: 'delay', title: 'Event-loop delay p99', unit: 'ms', markerUnit: ' ms',
    perProcess: [{ suffix: '', value: (p) => p.eventLoopDelayP99Ms, dashed: false }],
    marker: { field: 'eventLoopDelayP99Ms', scale: 1 },
  },
  {
    id: 'utilisation', title: 'Event-loop utilisation', unit: '%', markerUnit: '%',
    perProcess: [{ suffix: '', value: (p) => p.eventLoopUtilization * 100, dashed: false }],
    marker: { field: 'eventLoopUtilization', scale: 100 },
  },
];

/** Pids in the order they first appear. */
export function processesOf(samples: readonly GaugeSample[]): number[] {
  const seen = new Set<number>();
  for (const s of samples) for (const p of s.processes) seen.add(p.pid);
  return [...seen];
}

export function buildCharts(samples: readonly GaugeSample[], avg: GaugeFigures | null, peak: GaugeFigures | null): ChartData[] {
  const pids = processesOf(samples);
  const x = samples.map((s) => s.at / 1000);
  const byPid = samples.map((s) => new Map(s.processes.map((p) => [p.pid, p])));
  return RECIPES.map((r) => {
    const series: SeriesSpec[] = [];
    const columns: (number | null)[][] = [x];
    if (r.total) {
      series.push({ label: r.total.label, slot: 0, dashed: false });
      columns.push(samples.map((s) => round(r.total!.value(s))));
    }
    pids.forEach((pid, i) => {
      for (const part of r.perProcess) {
        series.push({ label: `pid ${pid}${part.suffix}`, slot: i + 1, dashed: part.dashed });
        columns.push(byPid.map((m) => {
          const p = m.get(pid);
          return p ? round(part.value(p)) : null;
        }));
      }
    });
    const mark = (f: GaugeFigures | null): number | null => (f ? round(f[r.marker.field] * r.marker.scale) : null);
    return { id: r.id, title: r.title, unit: r.unit, markerUnit: r.markerUnit, series, columns, avg: mark(avg), peak: mark(peak), points: samples.length };
  });
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/**
 * Whether the avg marker's label goes under its line: the peak's label sits over the peak line,
 * so an avg line less than a label's height below it would put the two labels on top of each
 * other. Canvas y grows downwards (the avg line is at or under the peak line).
 */
export function avgLabelBelow(peakY: number, avgY: number, labelHeight: number): boolean {
  return avgY - peakY < labelHeight;
}
