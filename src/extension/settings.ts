import * as vscode from 'vscode';
import { type RunMode, toRunMode } from './runCommandLine';

/** The `perfLens.*` settings, read fresh each time (they can change at any moment). */
export interface PerfLensSettings {
  enable: boolean;
  mode: RunMode;
  include: string[];
  exclude: string[];
  includeNodeModules: boolean;
  debugEnable: boolean;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : [];
}

export function readSettings(scope?: vscode.ConfigurationScope): PerfLensSettings {
  const config = vscode.workspace.getConfiguration('perfLens', scope);
  return {
    enable: config.get<boolean>('enable', true),
    mode: toRunMode(config.get('mode')),
    include: stringList(config.get('include')),
    exclude: stringList(config.get('exclude')),
    includeNodeModules: config.get<boolean>('includeNodeModules', false),
    debugEnable: config.get<boolean>('debug.enable', true),
  };
}

/** What the insight server reads (protocol ServerSettings), as plain JSON; the server validates it. */
export function serverSettings(): { perfLens: Record<string, unknown> } {
  const config = vscode.workspace.getConfiguration('perfLens');
  return {
    perfLens: {
      lens: { format: config.get<string>('lens.format'), minCalls: config.get<number>('lens.minCalls') },
      runs: { maxHistory: config.get<number>('runs.maxHistory') },
      gauge: {
        enable: config.get<boolean>('gauge.enable'),
        intervalMs: config.get<number>('gauge.intervalMs'),
        history: config.get<number>('gauge.history'),
        thresholds: {
          cpuPercent: config.get<number>('gauge.thresholds.cpuPercent'),
          eventLoopDelayMs: config.get<number>('gauge.thresholds.eventLoopDelayMs'),
          memoryGrowthPercent: config.get<number>('gauge.thresholds.memoryGrowthPercent'),
        },
      },
    },
  };
}
