/**
 * The resource view's script (runs in the webview, bundled with uPlot: no remote content). It
 * shows what the extension posts (src/protocol/webview.ts) and keeps its own small state
 * (followed session, paused) with setState, so hiding and showing the view loses nothing.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './resource-view.css';
import { GAUGE_ROWS, mergeCrossed, type GaugeSample, type GaugeState } from '../../model/gauge';
import type { ResourceHistoryResult } from '../../protocol/lsp';
import type { FromWebview, ResourceSourceItem, ResourceViewState, ToWebview } from '../../protocol/webview';
import { avgLabelBelow, buildCharts, processesOf, type ChartData, type ChartId } from './charts';
import { appendSample } from './live';

interface VsCodeApi {
  postMessage(msg: FromWebview): void;
  getState(): ResourceViewState | undefined;
  setState(state: ResourceViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let state: ResourceViewState = vscode.getState() ?? { sessionId: null, paused: false };
let history: ResourceHistoryResult | null = null;
let samples: GaugeSample[] = [];
const plots = new Map<string, uPlot>();
/** The latest data of each chart: the marker plugin reads it on every redraw, so avg/peak follow each tick. */
const latest = new Map<ChartId, ChartData>();
/** The lines each plot was built with (uPlot's series are fixed at creation). */
const plotLines = new Map<ChartId, string>();

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function saveState(patch: Partial<ResourceViewState>): void {
  state = { ...state, ...patch };
  vscode.setState(state);
}

/* ------------------------------ theme ------------------------------ */

const SLOT_COLOURS = ['--vscode-foreground', '--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function slotColour(slot: number): string {
  return cssVar(SLOT_COLOURS[slot % SLOT_COLOURS.length], slot === 0 ? '#888' : '#3794ff');
}

/* ------------------------------ charts ------------------------------ */

/** Dashed avg and peak lines with labels, drawn over the plot (uPlot draw hook). */
function markers(id: ChartId): uPlot.Plugin {
  return {
    hooks: {
      draw: [(u: uPlot) => {
        const chart = latest.get(id);
        if (!chart) return;
        const ctx = u.ctx;
        const dpr = devicePixelRatio;
        const fontPx = Math.round(11 * dpr);
        const inPlot = (v: number | null): number | null => {
          const y = v === null ? NaN : u.valToPos(v, 'y', true);
          return Number.isFinite(y) && y >= u.bbox.top && y <= u.bbox.top + u.bbox.height ? y : null;
        };
        const peakY = inPlot(chart.peak);
        const avgY = inPlot(chart.avg);
        const marks = [
          { label: 'peak', value: chart.peak, y: peakY, below: false },
          // Too close to the peak: the avg label goes under its line, not over the peak's.
          { label: 'avg', value: chart.avg, y: avgY, below: peakY !== null && avgY !== null && avgLabelBelow(peakY, avgY, fontPx + 4 * dpr) },
        ];
        ctx.save();
        ctx.font = `${fontPx}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
        ctx.textAlign = 'left'; // uPlot leaves the axes' alignment on the context
        ctx.textBaseline = 'middle';
        ctx.lineWidth = dpr;
        const ink = cssVar('--vscode-descriptionForeground', '#999');
        const paper = cssVar('--vscode-editor-background', 'transparent');
        for (const m of marks) {
          if (m.y === null || m.value === null) continue;
          ctx.strokeStyle = ink;
          ctx.setLineDash([4 * dpr, 4 * dpr]);
          ctx.beginPath();
          ctx.moveTo(u.bbox.left, m.y);
          ctx.lineTo(u.bbox.left + u.bbox.width, m.y);
          ctx.stroke();
          // The label on a patch of background, so lines under it do not make it unreadable.
          const text = `${m.label} ${formatValue(m.value)}${chart.markerUnit}`;
          const x = u.bbox.left + 4 * dpr;
          const h = fontPx + 2 * dpr;
          const mid = m.below ? m.y + 1 * dpr + h / 2 : m.y - 1 * dpr - h / 2;
          ctx.globalAlpha = 0.85;
          ctx.fillStyle = paper;
          ctx.fillRect(x - 2 * dpr, mid - h / 2, ctx.measureText(text).width + 4 * dpr, h);
          ctx.globalAlpha = 1;
          ctx.fillStyle = ink;
          ctx.fillText(text, x, mid);
        }
        ctx.restore();
      }],
    },
  };
}

/** Like the summary table: whole numbers from 10 up (96%, not 96.04%), more digits for small values. */
function formatValue(v: number): string {
  if (Number.isInteger(v) || Math.abs(v) >= 10) return v.toFixed(0);
  return Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2);
}

/** The series' newest value (what the legend shows while the pointer is off the chart). */
function lastValue(column: ArrayLike<number | null | undefined>): number | null {
  for (let i = column.length - 1; i >= 0; i--) if (column[i] != null) return column[i]!;
  return null;
}

/** Time axis steps in seconds: whole seconds at least (samples come once a second, not every 500 ms). */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const clock = uPlot.fmtDate('{h}:{mm}:{ss}{aa}'); // like the time axis

const CHART_HEIGHT = 170;

function chartWidth(box: HTMLElement): number {
  return Math.max(280, box.clientWidth - 4);
}

function plotOptions(chart: ChartData, width: number): uPlot.Options {
  const axis = cssVar('--vscode-foreground', '#ccc');
  const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const axisStyle = { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: CHART_HEIGHT,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
    axes: [{ ...axisStyle, incrs: TIME_STEPS }, { ...axisStyle, size: 56, values: (_u, ticks) => ticks.map((t) => formatValue(t)) }],
    series: [
      { value: (u: uPlot, v: number | null, _sidx: number, idx: number | null) => {
        const at = idx === null ? lastValue(u.data[0]) : v;
        return at === null ? '-' : clock(new Date(at * 1000));
      } },
      ...chart.series.map((s) => ({
        label: s.label,
        stroke: slotColour(s.slot),
        width: s.slot === 0 ? 2 : 1.5,
        dash: s.dashed ? [5, 4] : undefined,
        spanGaps: false,
        // Off the chart (no cursor index) the legend shows each line's newest value.
        value: (u: uPlot, v: number | null, sidx: number, idx: number | null) => {
          const shown = idx === null ? lastValue(u.data[sidx]) : v;
          return shown === null ? '-' : `${formatValue(shown)}${chart.markerUnit}`;
        },
      })),
    ],
    plugins: [markers(chart.id)],
  };
}

function renderCharts(rebuild: boolean): void {
  const root = $('charts');
  const charts = buildCharts(samples, history?.avg ?? null, history?.peak ?? null);
  for (const chart of charts) {
    let box = document.getElementById(`chart-${chart.id}`);
    if (!box) {
      box = document.createElement('section');
      box.id = `chart-${chart.id}`;
      box.className = 'chart';
      box.setAttribute('role', 'img');
      const h = document.createElement('h2');
      box.append(h);
      root.append(box);
    }
    box.querySelector('h2')!.textContent = `${chart.title} (${chart.unit})`;
    const marks = [['avg', chart.avg], ['peak', chart.peak]].filter(([, v]) => v !== null).map(([l, v]) => `${l} ${formatValue(v as number)}${chart.markerUnit}`);
    box.setAttribute('aria-label', [`${chart.title} over time`, `${chart.series.length} lines`, `${chart.points} points`, ...marks].join(', '));
    box.dataset.points = String(chart.points);
    latest.set(chart.id, chart);
    let plot = plots.get(chart.id);
    const data = chart.columns as uPlot.AlignedData;
    const lines = chart.series.map((s) => `${s.label}${s.dashed ? ' dashed' : ''}`).join('|');
    if (plot && !rebuild && plotLines.get(chart.id) === lines) {
      plot.setData(data); // redraws, markers included
    } else {
      plot?.destroy();
      plot = new uPlot(plotOptions(chart, chartWidth(box)), data, box);
      plots.set(chart.id, plot);
      plotLines.set(chart.id, lines);
    }
  }
}

/* ------------------------------ header and summary ------------------------------ */

function renderHeader(sources: ResourceSourceItem[] | null): void {
  if (!history) return;
  $('title').textContent = history.name;
  const badge = $('state');
  badge.textContent = history.state === 'live' ? 'live' : history.state === 'ended' ? 'ended' : 'saved run';
  badge.className = `badge ${history.state}`;
  $('origin').textContent = history.origin === 'gauge'
    ? `${history.sampleCount} samples every ${history.intervalMs / 1000} s (last ${history.capacity} kept), ${processesOf(samples).length} process(es)`
    : "no gauge in this run: the runtimes' own samples, per second";
  if (sources) {
    const select = $<HTMLSelectElement>('source');
    select.replaceChildren(...sources.map((s) => {
      const o = document.createElement('option');
      o.value = s.id;
      o.textContent = `${s.label}${s.state === 'live' ? ' (live)' : ''}`;
      o.selected = s.id === history!.sessionId;
      return o;
    }));
  }
  const notes = [...history.crossed.map((a) => `${a.level === 'error' ? 'Error' : 'Warning'}: ${a.message}`), ...(history.note ? [history.note] : [])];
  $('notes').replaceChildren(...notes.map((n) => Object.assign(document.createElement('li'), { textContent: n })));
}

function renderSummary(current: GaugeSample | null, avg: ResourceHistoryResult['avg'], peak: ResourceHistoryResult['peak']): void {
  const rows = GAUGE_ROWS.map((r) => {
    const tr = document.createElement('tr');
    const cells = [r.label, current ? r.format(current[r.field]) : '-', avg ? r.format(avg[r.field]) : '-', peak ? r.format(peak[r.field]) : '-'];
    tr.append(...cells.map((c, i) => Object.assign(document.createElement(i === 0 ? 'th' : 'td'), { textContent: c })));
    return tr;
  });
  $('summary-body').replaceChildren(...rows);
}

function renderPause(): void {
  const b = $<HTMLButtonElement>('pause');
  b.textContent = state.paused ? 'Resume' : 'Pause';
  b.setAttribute('aria-pressed', String(state.paused));
  $('paused').hidden = !state.paused;
}

/* ------------------------------ messages ------------------------------ */

function showHistory(h: ResourceHistoryResult, sources: ResourceSourceItem[]): void {
  history = h;
  samples = [...h.samples];
  saveState({ sessionId: h.sessionId });
  $('error').hidden = true;
  renderHeader(sources);
  renderSummary(samples[samples.length - 1] ?? null, h.avg, h.peak);
  renderCharts(true);
}

function addSample(sample: GaugeSample, s: GaugeState): void {
  if (!history || state.paused || s.sessionId !== history.sessionId) return;
  if (!appendSample(samples, sample, history.capacity)) return;
  history = { ...history, avg: s.avg, peak: s.peak, sampleCount: s.sampleCount, note: s.note, crossed: mergeCrossed(history.crossed, s.alerts) };
  renderHeader(null);
  renderSummary(sample, s.avg, s.peak);
  renderCharts(false); // rebuilds a chart only when its lines changed (a process came or went)
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'history':
      showHistory(msg.history, msg.sources);
      break;
    case 'sample':
      addSample(msg.sample, msg.state);
      break;
    case 'ended':
      if (history && msg.sessionId === history.sessionId) vscode.postMessage({ type: 'select', sessionId: history.sessionId });
      break;
    case 'error':
      $('error').textContent = msg.message;
      $('error').hidden = false;
      break;
  }
});

$('pause').addEventListener('click', () => {
  saveState({ paused: !state.paused });
  renderPause();
  // Resumed: catch up on the ticks ignored while paused.
  if (!state.paused && history) vscode.postMessage({ type: 'select', sessionId: history.sessionId });
});
$('source').addEventListener('change', (e) => vscode.postMessage({ type: 'select', sessionId: (e.target as HTMLSelectElement).value }));
for (const format of ['csv', 'json'] as const) {
  $(`export-${format}`).addEventListener('click', () => {
    if (history) vscode.postMessage({ type: 'export', format, sessionId: history.sessionId });
  });
}
new ResizeObserver(() => {
  for (const [id, p] of plots) p.setSize({ width: chartWidth(document.getElementById(`chart-${id}`)!), height: CHART_HEIGHT });
}).observe($('charts'));
// A theme change re-reads the colours.
new MutationObserver(() => renderCharts(true)).observe(document.body, { attributes: true, attributeFilter: ['class'] });

renderPause();
vscode.postMessage({ type: 'ready', sessionId: state.sessionId });
