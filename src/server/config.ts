/**
 * Server settings (`perfLens.*`) from initializationOptions or workspace/didChangeConfiguration.
 * Pure. Bad values fall back to the default and are reported, never thrown.
 */
import { DEFAULT_THRESHOLDS } from '../model/gauge';
import { DEFAULT_HISTORY } from '../model/ring-buffer';
import type { ServerSettings } from '../protocol/lsp';

export const DEFAULT_LENS_FORMAT = 'avg {avg} · p95 {p95} · {calls}{sampled}';

export function defaultSettings(): ServerSettings {
  return {
    lens: { format: DEFAULT_LENS_FORMAT, minCalls: 1 },
    runs: { maxHistory: 20 },
    gauge: { enable: true, intervalMs: 1000, history: DEFAULT_HISTORY, thresholds: { ...DEFAULT_THRESHOLDS } },
  };
}

export interface ParsedSettings {
  settings: ServerSettings;
  /** One sentence per ignored value. */
  problems: string[];
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Accepts `{ perfLens: {...} }`, the inner object, or VS Code's flat dotted keys
 * (`{ 'perfLens.lens.format': ... }`).
 */
export function parseSettings(raw: unknown): ParsedSettings {
  const settings = defaultSettings();
  const problems: string[] = [];
  const top = record(raw);
  if (!top) return { settings, problems };
  const root = record(top.perfLens) ?? top;
  const lens = record(root.lens) ?? {};
  const runs = record(root.runs) ?? {};
  const gauge = record(root.gauge) ?? {};
  const thresholds = record(gauge.thresholds) ?? {};
  const pick = (nested: unknown, dotted: string): unknown => (nested !== undefined ? nested : (top[`perfLens.${dotted}`] ?? root[dotted]));

  const format = pick(lens.format, 'lens.format');
  if (format !== undefined) {
    if (typeof format === 'string' && format.trim() !== '') settings.lens.format = format;
    else problems.push(`perfLens.lens.format must be a non-empty string; using "${DEFAULT_LENS_FORMAT}"`);
  }
  const minCalls = pick(lens.minCalls, 'lens.minCalls');
  if (minCalls !== undefined) {
    if (typeof minCalls === 'number' && Number.isInteger(minCalls) && minCalls >= 0) settings.lens.minCalls = minCalls;
    else problems.push('perfLens.lens.minCalls must be a non-negative integer; using 1');
  }
  const maxHistory = pick(runs.maxHistory, 'runs.maxHistory');
  if (maxHistory !== undefined) {
    if (typeof maxHistory === 'number' && Number.isInteger(maxHistory) && maxHistory >= 1) settings.runs.maxHistory = maxHistory;
    else problems.push('perfLens.runs.maxHistory must be an integer >= 1; using 20');
  }
  const enable = pick(gauge.enable, 'gauge.enable');
  if (enable !== undefined) {
    if (typeof enable === 'boolean') settings.gauge.enable = enable;
    else problems.push('perfLens.gauge.enable must be true or false; using true');
  }
  const number = (v: unknown, min: number, max: number, integer: boolean): v is number =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
  const intervalMs = pick(gauge.intervalMs, 'gauge.intervalMs');
  if (intervalMs !== undefined) {
    if (number(intervalMs, 200, 60_000, true)) settings.gauge.intervalMs = intervalMs;
    else problems.push('perfLens.gauge.intervalMs must be an integer from 200 to 60000; using 1000');
  }
  const history = pick(gauge.history, 'gauge.history');
  if (history !== undefined) {
    if (number(history, 10, 100_000, true)) settings.gauge.history = history;
    else problems.push(`perfLens.gauge.history must be an integer from 10 to 100000; using ${DEFAULT_HISTORY}`);
  }
  for (const key of ['cpuPercent', 'eventLoopDelayMs', 'memoryGrowthPercent'] as const) {
    const v = pick(thresholds[key], `gauge.thresholds.${key}`);
    if (v === undefined) continue;
    if (number(v, 0, Number.MAX_SAFE_INTEGER, false)) settings.gauge.thresholds[key] = v;
    else problems.push(`perfLens.gauge.thresholds.${key} must be a number >= 0 (0 turns the check off); using ${DEFAULT_THRESHOLDS[key]}`);
  }
  return { settings, problems };
}
