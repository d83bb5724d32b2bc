import * as vscode from 'vscode';
import { type RunMode, toRunMode } from './runCommandLine';

/** The `perfLens.*` settings, read fresh each time (they can change at any moment). */
export interface PerfLensSettings {
  enable: boolean;
  mode: RunMode;
}

export function readSettings(scope?: vscode.ConfigurationScope): PerfLensSettings {
  const config = vscode.workspace.getConfiguration('perfLens', scope);
  return { enable: config.get<boolean>('enable', true), mode: toRunMode(config.get('mode')) };
}
