/** Renders a report as a table, JSON, CSV or Markdown. Pure string output. */
import type { FunctionReport, Report } from './report';

export type Format = 'table' | 'json' | 'csv' | 'md';
export const FORMATS: readonly Format[] = ['table', 'json', 'csv', 'md'];

export interface FormatOptions {
  /** ANSI colours (table only). The CLI passes `stream.isTTY`. */
  colors?: boolean;
  /** Rows shown in table/md (default 20; csv and json always hold everything). */
  top?: number;
  /** Paths are shown relative to this directory when inside it (default: the run's cwd). */
  cwd?: string;
}

/* ---------- numbers ---------- */

/** `1234567.891` with 1 decimal -> `1,234,567.9`. */
export function withSeparators(n: number, decimals = 0): string {
  const fixed = Math.abs(n).toFixed(decimals);
  const [int, frac] = fixed.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 && Number(fixed) !== 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

/** Three significant digits, thousands separators for big values. */
function sig3(v: number): string {
  const decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  // 9.999 rounds to "10.00": re-pick the precision after rounding.
  const rounded = Number(v.toFixed(decimals));
  return withSeparators(rounded, rounded < 10 ? 2 : rounded < 100 ? 1 : 0);
}

/** A duration in ms in a human unit: `850 ns`, `12.3 µs`, `4.56 ms`, `1.23 s`, `3,600 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const ns = ms * 1e6;
  if (ns < 999.5) return `${Math.round(ns)} ns`;
  if (ns < 999_500) return `${sig3(ns / 1e3)} µs`;
  if (ms < 999.5) return `${sig3(ms)} ms`;
  return `${sig3(ms / 1e3)} s`;
}

/** Bytes in a human unit (binary multiples): `512 B`, `45.2 MiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1023.5 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${sig3(v)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return withSeparators(n, 0);
}

/** A function's share of the run: its recursion-aware total when measured (recursion counted once). */
function runTotalMs(f: { totalMs: number; inclusiveMs?: number }): number {
  return f.inclusiveMs ?? f.totalMs;
}

function percentOfRun(f: { totalMs: number; inclusiveMs?: number }, report: Report): number | null {
  return report.run.wallMs > 0 ? (runTotalMs(f) / report.run.wallMs) * 100 : null;
}

/** `4.2%`, `37%`; `-` when unknown. */
export function formatPercent(p: number | null): string {
  if (p === null) return '-';
  return p >= 10 ? `${withSeparators(p, 0)}%` : `${p.toFixed(1)}%`;
}

/* ---------- paths ---------- */

/** `file` relative to `cwd` when inside it (either separator style), else as is. */
export function displayPath(file: string, cwd: string | undefined): string {
  if (!cwd) return file;
  const base = cwd.replace(/[\\/]+$/, '');
  if (file.length > base.length + 1 && file.startsWith(base) && /[\\/]/.test(file[base.length])) {
    return file.slice(base.length + 1);
  }
  return file;
}

function truncateStart(s: string, max: number): string {
  return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

function truncateEnd(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/* ---------- summary ---------- */

function summaryLines(report: Report): string[] {
  const { run } = report;
  const status = run.signal ? `killed by ${run.signal} (exit ${run.exitCode ?? '?'})` : `exit ${run.exitCode ?? '?'}`;
  const nProc = report.processes.length;
  const lines = [
    `perf-lens: ${run.command.join(' ')} — ${status} — wall ${formatDuration(run.wallMs)} — ` +
      `${formatCount(report.functions.length)} function${report.functions.length === 1 ? '' : 's'} called in ` +
      `${nProc} process${nProc === 1 ? '' : 'es'} (mode ${run.mode})`,
  ];
  const { avg, peak } = report.resources;
  if (avg && peak) {
    lines.push(
      `resources: peak RSS ${formatBytes(peak.rss)} · peak heap ${formatBytes(peak.heapUsed)} · ` +
        `CPU avg ${avg.cpuPercent.toFixed(0)}% / peak ${peak.cpuPercent.toFixed(0)}% · ` +
        `event-loop delay p99 peak ${formatDuration(peak.eventLoopDelayP99Ms)}`,
    );
  }
  return lines;
}

/* ---------- table ---------- */

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', yellow: '\x1b[33m', cyan: '\x1b[36m', reset: '\x1b[0m' };

interface Row {
  cells: string[];
}

const COLUMNS = ['Function', 'Location', 'Calls', 'Avg', 'p50', 'p95', 'p99', 'Max', 'Total', '% run'];
/** Columns aligned left; the rest are numbers aligned right. */
const LEFT = new Set([0, 1]);

function functionRow(f: FunctionReport, report: Report, cwd: string | undefined): Row {
  return {
    cells: [
      truncateEnd(f.name, 40) + (f.sampled ? '*' : ''),
      truncateStart(`${displayPath(f.file, cwd)}:${f.line}`, 48),
      formatCount(f.calls),
      formatDuration(f.meanMs),
      formatDuration(f.p50Ms),
      formatDuration(f.p95Ms),
      formatDuration(f.p99Ms),
      formatDuration(f.maxMs),
      formatDuration(runTotalMs(f)),
      formatPercent(percentOfRun(f, report)),
    ],
  };
}

function renderTable(report: Report, options: FormatOptions): string {
  const colors = options.colors === true;
  const paint = (code: string, s: string): string => (colors ? `${code}${s}${ANSI.reset}` : s);
  const cwd = options.cwd ?? report.run.cwd;
  const top = options.top ?? 20;
  const lines = summaryLines(report).map((l, i) => (i === 0 ? paint(ANSI.bold, l) : l));
  const shown = report.functions.slice(0, top);
  if (shown.length === 0) {
    lines.push('No instrumented function was called (is the code under node_modules or excluded?).');
  } else {
    const rows = shown.map((f) => functionRow(f, report, cwd));
    const widths = COLUMNS.map((h, c) => Math.max(h.length, ...rows.map((r) => r.cells[c].length)));
    const pad = (s: string, c: number): string => (LEFT.has(c) ? s.padEnd(widths[c]) : s.padStart(widths[c]));
    lines.push('');
    lines.push(paint(ANSI.bold, COLUMNS.map(pad).join('  ').trimEnd()));
    for (const r of rows) {
      const cells = r.cells.map((s, c) => {
        const padded = pad(s, c);
        if (c === 1) return paint(ANSI.dim, padded);
        if (c === 8) return paint(ANSI.cyan, padded);
        return padded;
      });
      lines.push(cells.join('  ').trimEnd());
    }
    const notes: string[] = [];
    if (report.functions.length > shown.length) notes.push(`${formatCount(report.functions.length - shown.length)} more functions in the report`);
    if (shown.some((f) => f.sampled)) notes.push('* timed on a sample of calls (calls are exact, totals extrapolated)');
    if (notes.length) lines.push(paint(ANSI.dim, notes.join('; ')));
  }
  if (report.spans.length > 0) {
    lines.push('', paint(ANSI.bold, 'Spans'));
    for (const s of report.spans.slice(0, top)) {
      lines.push(`  ${s.name}: ${formatCount(s.calls)} × avg ${formatDuration(s.meanMs)} · p95 ${formatDuration(s.p95Ms)} · total ${formatDuration(s.totalMs)}`);
    }
  }
  if (report.memos.length > 0) {
    lines.push('', paint(ANSI.bold, 'Memoized'));
    for (const m of report.memos.slice(0, top)) {
      const rate = m.hitRate === null ? '-' : `${(m.hitRate * 100).toFixed(1)}%`;
      lines.push(`  ${m.name}: hit rate ${rate} (${formatCount(m.hits)} hits, ${formatCount(m.misses)} misses, ${formatCount(m.evictions)} evictions, size ${formatCount(m.size)})`);
    }
  }
  for (const w of report.warnings) {
    const where = w.file && !w.message.includes(w.file) ? ` (${displayPath(w.file, cwd)})` : '';
    lines.push(paint(ANSI.yellow, `warning: ${w.message}${where}`));
  }
  return `${lines.join('\n')}\n`;
}

/* ---------- csv ---------- */

const CSV_COLUMNS = [
  'name', 'file', 'line', 'column', 'kind', 'calls', 'errors', 'timedCalls', 'sampled',
  'meanMs', 'p50Ms', 'p95Ms', 'p99Ms', 'minMs', 'maxMs', 'totalMs', 'selfMs', 'percentOfRun', 'inclusiveMs',
] as const;

function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function renderCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const f of report.functions) {
    const pct = percentOfRun(f, report);
    const values: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null> = {
      ...f,
      percentOfRun: pct === null ? null : Math.round(pct * 100) / 100,
      inclusiveMs: f.inclusiveMs ?? null,
    };
    lines.push(CSV_COLUMNS.map((c) => csvCell(values[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/* ---------- markdown ---------- */

function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

function renderMarkdown(report: Report, options: FormatOptions): string {
  const cwd = options.cwd ?? report.run.cwd;
  const top = options.top ?? 20;
  const out = summaryLines(report).map((l) => `${mdCell(l)}  `);
  out.push('');
  const shown = report.functions.slice(0, top);
  if (shown.length === 0) {
    out.push('_No instrumented function was called._');
  } else {
    out.push(`| ${COLUMNS.join(' | ')} |`);
    out.push(`| ${COLUMNS.map((_, c) => (LEFT.has(c) ? '---' : '---:')).join(' | ')} |`);
    for (const f of shown) {
      const cells = functionRow(f, report, cwd).cells.map(mdCell);
      cells[0] = `\`${cells[0].replace(/`/g, "'")}\``;
      out.push(`| ${cells.join(' | ')} |`);
    }
    if (shown.some((f) => f.sampled)) out.push('', '\\* timed on a sample of calls (calls are exact, totals extrapolated)');
    if (report.functions.length > shown.length) out.push('', `${formatCount(report.functions.length - shown.length)} more functions in the report.`);
  }
  if (report.warnings.length > 0) {
    out.push('', ...report.warnings.map((w) => `- warning: ${mdCell(w.message)}`));
  }
  return `${out.join('\n')}\n`;
}

/** Renders a report in one of the formats. */
export function formatReport(report: Report, format: Format, options: FormatOptions = {}): string {
  switch (format) {
    case 'table':
      return renderTable(report, options);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderCsv(report);
    case 'md':
      return renderMarkdown(report, options);
    default:
      throw new RangeError(`unknown format ${JSON.stringify(format)} (expected one of ${FORMATS.join(', ')})`);
  }
}
