import * as path from 'path';
import * as vscode from 'vscode';
import * as P from '../protocol/lsp';
import type { InsightClient } from './insightClient';

export const ATTACH_COMMAND = 'perfLens.attachToProcess';

/** A process the insight server is measuring right now, with the live session it reports to. */
export interface MeasuredProcess {
  pid: number;
  argv: string[];
  sessionId: string;
  sessionName: string;
}

/** Live, running processes of live sessions, newest session first. */
export async function measuredProcesses(insight: InsightClient): Promise<MeasuredProcess[]> {
  const { sessions } = await insight.request<P.ListSessionsResult>(P.ListSessions);
  return sessions
    .filter((s) => s.state === 'live')
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .flatMap((s) => s.processes
      .filter((p) => p.state === 'running')
      .map((p) => ({ pid: p.pid, argv: p.argv, sessionId: s.id, sessionName: s.name })));
}

/**
 * Where the debug configuration provider notes an attach configuration's pid: js-debug replaces
 * `processId` by the inspector's port while resolving, so the started session no longer has it.
 */
export const ATTACH_PID_KEY = '__perfLensAttachPid';

/** The pid an attach configuration names: `processId` is a number, "1234" or js-debug's "1234:9229". */
export function attachPid(config: vscode.DebugConfiguration): number | undefined {
  if (config.request !== 'attach') return undefined;
  if (typeof config[ATTACH_PID_KEY] === 'number') return config[ATTACH_PID_KEY];
  const id: unknown = config.processId;
  const match = /^\s*(\d+)(?::\d+)?\s*$/.exec(typeof id === 'number' ? String(id) : typeof id === 'string' ? id : '');
  return match ? Number(match[1]) : undefined;
}

/** `node /x/y/app.js --flag` -> `node app.js --flag`: short enough for a quick pick label. */
export function argvSummary(argv: string[]): string {
  const parts = argv.slice(0, 4).map((a, i) => (i < 2 && path.isAbsolute(a) ? path.basename(a) : a));
  return parts.join(' ') + (argv.length > 4 ? ' …' : '');
}

/** Makes the lenses show the session that `pid` reports to; returns its id, or undefined when not measured. */
export async function selectSessionOf(insight: InsightClient, pid: number): Promise<string | undefined> {
  const found = (await measuredProcesses(insight)).find((p) => p.pid === pid);
  if (!found) return undefined;
  await insight.request(P.SelectSession, { sessionId: found.sessionId } satisfies P.SelectSessionParams);
  return found.sessionId;
}

export interface AttachResult {
  pid: number;
  sessionId: string;
  /** What vscode.debug.startDebugging returned. */
  started: boolean;
}

/**
 * "Attach Debugger to a Measured Process": js-debug attaches by pid (on Linux/macOS it turns the
 * inspector on with SIGUSR1), and the lenses switch to that process's live session. Argument
 * `{ pid }` (keybindings, tests) skips the quick pick.
 */
export async function attachToProcess(insight: InsightClient, args?: { pid?: number }): Promise<AttachResult | undefined> {
  if (args?.pid !== undefined && (!Number.isInteger(args.pid) || args.pid <= 0)) throw new Error(`"${String(args.pid)}" is not a process id`);
  const processes = await measuredProcesses(insight);
  let target: MeasuredProcess | undefined;
  if (args?.pid !== undefined) {
    target = processes.find((p) => p.pid === args.pid);
    if (!target) throw new Error(`process ${args.pid} is not measured by Perf Lens (or has exited); start it with "perf-lens run" from the Perf Lens terminal first`);
  } else {
    if (processes.length === 0) {
      void vscode.window.showInformationMessage('Perf Lens: no measured process is running. Start one with "Run Current File with Perf Lens" (or `perf-lens run` with PERF_LENS_ATTACH_FILE), then attach.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(processes.map((p) => ({ label: `${p.pid}: ${argvSummary(p.argv)}`, description: p.sessionName, detail: p.argv.join(' '), process: p })),
      { title: 'Perf Lens: Attach Debugger to a Measured Process', placeHolder: 'Which measured Node process to debug' });
    if (!pick) return undefined;
    target = pick.process;
  }
  await insight.request(P.SelectSession, { sessionId: target.sessionId } satisfies P.SelectSessionParams);
  const folder = vscode.workspace.workspaceFolders?.[0];
  const started = await vscode.debug.startDebugging(folder, {
    type: 'pwa-node',
    request: 'attach',
    name: `Attach to ${target.pid} (Perf Lens)`,
    processId: String(target.pid),
  });
  return { pid: target.pid, sessionId: target.sessionId, started };
}
