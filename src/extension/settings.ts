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

/** What the insight server reads (protocol ServerSettings), as plain JSON. */
export function serverSettings(): { perfLens: { lens: { format?: string; minCalls?: number }; runs: { maxHistory?: number } } } {
  const config = vscode.workspace.getConfiguration('perfLens');
  return {
    perfLens: {
      lens: { format: config.get<string>('lens.format'), minCalls: config.get<number>('lens.minCalls') },
      runs: { maxHistory: config.get<number>('runs.maxHistory') },
    },
  };
}
