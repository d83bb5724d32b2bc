/**
 * Server settings (`perfLens.*`) from initializationOptions or workspace/didChangeConfiguration.
 * Pure. Bad values fall back to the default and are reported, never thrown.
 */
import type { ServerSettings } from '../protocol/lsp';

export const DEFAULT_LENS_FORMAT = 'avg {avg} · p95 {p95} · {calls}{sampled}';

export function defaultSettings(): ServerSettings {
  return { lens: { format: DEFAULT_LENS_FORMAT, minCalls: 1 }, runs: { maxHistory: 20 } };
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
  return { settings, problems };
}
