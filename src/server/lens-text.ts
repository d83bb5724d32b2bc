/**
 * What a lens and a hover say about one function. Pure; units and separators come from
 * src/model/format.ts so the editor and the CLI print numbers the same way.
 */
import { displayPath, formatCount, formatDuration, formatPercent } from '../model/format';
import { BUCKET_COUNT, SUB_BUCKETS, bucketValue } from '../model/histogram';
import type { FunctionReport } from '../model/report';
import { DEFAULT_LENS_FORMAT } from './config';

export interface LensContext {
  /** Wall time of the run so far, ms (for {percent}); 0 when unknown. */
  wallMs: number;
  /** The function's text changed since it was measured. */
  stale: boolean;
}

/** Marker put in front of the lens of a function whose text changed since it was measured. */
export const STALE_PREFIX = '~ ';

function percentOfRun(f: FunctionReport, wallMs: number): number | null {
  return wallMs > 0 ? (f.totalMs / wallMs) * 100 : null;
}

/** Expands a lens template (see ServerSettings.lens.format); unknown placeholders stay as typed. */
export function lensText(f: FunctionReport, template: string, ctx: LensContext): string {
  // Count-only functions have no timings: a template full of "-" says nothing, so say that.
  const text =
    f.timedCalls === 0 && template === DEFAULT_LENS_FORMAT
      ? `${lensValue(f, 'calls', ctx)} · not timed`
      : template.replace(/\{(\w+)\}/g, (whole, name: string) => lensValue(f, name, ctx) ?? whole);
  return ctx.stale ? `${STALE_PREFIX}${text}` : text;
}

/** One placeholder's text (formatted only when the template uses it: lenses are rebuilt about once a second). */
function lensValue(f: FunctionReport, name: string, ctx: LensContext): string | undefined {
  switch (name) {
    case 'avg': return formatDuration(f.meanMs);
    case 'p50': return formatDuration(f.p50Ms);
    case 'p95': return formatDuration(f.p95Ms);
    case 'p99': return formatDuration(f.p99Ms);
    case 'min': return formatDuration(f.minMs);
    case 'max': return formatDuration(f.maxMs);
    case 'total': return formatDuration(f.totalMs);
    case 'self': return formatDuration(f.selfMs);
    case 'calls': return `${formatCount(f.calls)} ${f.calls === 1 ? 'call' : 'calls'}`;
    case 'count': return formatCount(f.calls);
    case 'errors': return formatCount(f.errors);
    case 'percent': return formatPercent(percentOfRun(f, ctx.wallMs));
    case 'sampled': return f.sampled ? (f.timedCalls === 0 ? ' · not timed' : ' · sampled') : '';
    default: return undefined;
  }
}

/** A few log-spaced rows of a histogram as text bars: `  1.02 µs – 2.05 µs │████████ 1,204`. */
export function textHistogram(f: FunctionReport, rows = 8, width = 24): string[] {
  const buckets = f.histogram.buckets;
  if (f.timedCalls === 0 || buckets.length === 0 || f.histogram.subBuckets !== SUB_BUCKETS) return [];
  const lo = Math.max(1, (f.minMs ?? 0) * 1e6);
  const hi = Math.max(lo, (f.maxMs ?? 0) * 1e6);
  const n = hi / lo < 1.5 ? 1 : rows;
  const edges: number[] = [];
  for (let i = 0; i <= n; i++) edges.push(lo * (hi / lo) ** (i / n));
  const counts = new Array<number>(n).fill(0);
  for (let k = 0; k + 1 < buckets.length; k += 2) {
    if (!(buckets[k] >= 0 && buckets[k] < BUCKET_COUNT)) continue;
    const v = Math.min(hi, Math.max(lo, bucketValue(buckets[k])));
    let row = edges.findIndex((e, i) => i > 0 && v <= e) - 1;
    if (row < 0) row = n - 1;
    counts[row] += buckets[k + 1];
  }
  const most = Math.max(...counts);
  const labels = counts.map((_, i) => `${formatDuration(edges[i] / 1e6)} – ${formatDuration(edges[i + 1] / 1e6)}`);
  const labelWidth = Math.max(...labels.map((l) => l.length));
  return counts.map((c, i) => {
    const bar = c === 0 ? '' : '█'.repeat(Math.max(1, Math.round((c / most) * width)));
    return `${labels[i].padStart(labelWidth)} │${bar.padEnd(width)} ${formatCount(c)}`;
  });
}

export interface HoverContext extends LensContext {
  /** Label of the session/run the stats come from. */
  sessionName: string;
  /** Paths are shown relative to this directory. */
  cwd?: string;
  /** The same function in other sessions held in memory. */
  otherSessions: { name: string; calls: number; meanMs: number | null; totalMs: number }[];
}

function mdEscape(s: string): string {
  return s.replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`);
}

/** The hover: full statistics, per-process split, sessions split and a text histogram. */
export function hoverMarkdown(f: FunctionReport, ctx: HoverContext): string {
  const out: string[] = [];
  const where = `${displayPath(f.file, ctx.cwd)}:${f.line}`;
  out.push(`**${mdEscape(f.name)}** · ${f.kind} · ${mdEscape(where)} · ${mdEscape(ctx.sessionName)}`);
  out.push('');
  if (ctx.stale) out.push('⚠ **changed since measured**: these numbers are for the code as it was when it ran.', '');
  const timed = f.sampled
    ? f.timedCalls === 0
      ? ' (count only: no call was timed)'
      : ` (timings from a sample of ${formatCount(f.timedCalls)} calls; counts exact, totals extrapolated)`
    : '';
  out.push(`${formatCount(f.calls)} calls · ${formatCount(f.errors)} errors${timed}`);
  out.push('');
  out.push('| avg | min | p50 | p95 | p99 | max |', '|---:|---:|---:|---:|---:|---:|');
  out.push(`| ${[f.meanMs, f.minMs, f.p50Ms, f.p95Ms, f.p99Ms, f.maxMs].map(formatDuration).join(' | ')} |`);
  out.push('');
  const pct = formatPercent(percentOfRun(f, ctx.wallMs));
  out.push(`total ${formatDuration(f.totalMs)} · self ${formatDuration(f.selfMs)} · ${pct} of run`);
  if (f.kind === 'async' || f.kind === 'async-generator') out.push('', '_async: timed from call to settle (includes awaits)_');
  if (f.kind === 'generator') out.push('', '_generator: timed from first resume to completion_');
  if (f.processes.length > 1) {
    out.push('', '**Per process**', '');
    for (const p of f.processes) {
      out.push(`- pid ${p.pid}: ${formatCount(p.calls)} calls · avg ${formatDuration(p.meanMs)} · total ${formatDuration(p.totalMs)}`);
    }
  }
  if (ctx.otherSessions.length > 0) {
    out.push('', '**Other sessions**', '');
    for (const s of ctx.otherSessions) {
      out.push(`- ${mdEscape(s.name)}: ${formatCount(s.calls)} calls · avg ${formatDuration(s.meanMs)} · total ${formatDuration(s.totalMs)}`);
    }
  }
  const hist = textHistogram(f);
  if (hist.length > 0) out.push('', '```text', ...hist, '```');
  return out.join('\n');
}
