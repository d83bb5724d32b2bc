import * as dotenv from 'dotenv';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import * as P from '../protocol/lsp';
import { ATTACH_PID_KEY, attachPid, selectSessionOf } from './attach';
import type { InsightClient } from './insightClient';
import { readSettings } from './settings';

/** The configuration key that marks a launch we injected into: the server session id. */
export const SESSION_KEY = '__perfLensSession';
/** How long a resolved launch may take to become a debug session before its server session is ended. */
const START_TIMEOUT_MS = 60_000;
/** Whether the user's configuration set showAsyncStacks, noted before js-debug adds its default. */
const ASYNC_STACKS_KEY = '__perfLensUserAsyncStacks';
/** Evaluated in the paused debuggee: the runtime stops timing calls that span the pause. */
export const PAUSE_EXPRESSION = 'globalThis.__perfLensPause?.()';

/** js-debug's own child session (one per process) carries these; it is never injected into. */
export function isJsDebugChild(config: vscode.DebugConfiguration): boolean {
  return config.__pendingTargetId !== undefined || config.__parentId !== undefined;
}

/**
 * Measures Node launches from VS Code's debugger: before js-debug starts the program, asks the insight
 * server for a session and merges its env (NODE_OPTIONS with our preload, PERF_LENS_* vars) into the
 * launch configuration. Registered for `node` and `pwa-node`: a launch.json `node` configuration
 * becomes `pwa-node` and only then reaches resolveDebugConfigurationWithSubstitutedVariables.
 */
export class PerfLensDebugInjection implements vscode.DebugConfigurationProvider, vscode.Disposable {
  /** Debug session id (the parent js-debug session) -> server session id. */
  private readonly measured = new Map<string, string>();
  /** Server sessions whose debug session has not started yet -> timer that ends them. */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** Attach debug sessions to a process Perf Lens already measures -> its server session (not ours to end). */
  private readonly attached = new Map<string, string>();
  /** Attach sessions whose measured process is still being looked up (a stop may come first). */
  private readonly linking = new Map<string, Promise<void>>();
  /** Server sessions whose debug session the user stopped (Stop/Restart), and when: its processes are killed, not crashed. */
  private readonly stoppedByUser = new Map<string, number>();
  private warnedAsyncStacks = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly insight: InsightClient) {
    for (const type of ['node', 'pwa-node']) this.subscriptions.push(vscode.debug.registerDebugConfigurationProvider(type, this));
    this.subscriptions.push(
      vscode.debug.onDidStartDebugSession((s) => this.onStart(s)),
      vscode.debug.onDidTerminateDebugSession((s) => void this.onTerminate(s)),
      vscode.debug.registerDebugAdapterTrackerFactory('pwa-node', { createDebugAdapterTracker: (s) => this.tracker(s) }),
    );
  }

  /** Server session of a debug session or of the js-debug session it belongs to. */
  serverSessionOf(session: vscode.DebugSession | undefined): string | undefined {
    for (let s = session; s; s = s.parentSession) {
      const id = this.measured.get(s.id) ?? this.attached.get(s.id) ?? (isJsDebugChild(s.configuration) ? undefined : (s.configuration[SESSION_KEY] as string | undefined));
      if (id) return id;
    }
    return undefined;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(
    folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    this.noteAttachPid(config);
    if (config.request !== 'launch' || isJsDebugChild(config) || config[SESSION_KEY] !== undefined) return config;
    const settings = readSettings(folder?.uri);
    if (!settings.enable || !settings.debugEnable || !vscode.workspace.isTrusted) return config;
    const env = { ...((config.env ?? {}) as Record<string, string | null>) };
    // js-debug gives the program: the editor's env < the envFile < `env`. Ours goes into `env`, so
    // it must carry the user's NODE_OPTIONS from whichever of those would have won.
    const userNodeOptions = env.NODE_OPTIONS !== undefined ? (env.NODE_OPTIONS ?? '') : (this.envFileNodeOptions(config, folder) ?? process.env.NODE_OPTIONS);
    let started: P.StartSessionResult;
    try {
      started = await this.insight.request<P.StartSessionResult>(P.StartSession, {
        name: typeof config.name === 'string' && config.name ? config.name : 'Debug session',
        mode: settings.mode,
        include: settings.include.length ? settings.include : undefined,
        exclude: settings.exclude.length ? settings.exclude : undefined,
        includeNodeModules: settings.includeNodeModules,
        root: folder?.uri.fsPath,
        nodeOptions: userNodeOptions,
      } satisfies P.StartSessionParams);
    } catch (err) {
      // The program still runs, unmeasured; the user has been told why (start failure) or is told now.
      const message = err instanceof Error ? err.message : String(err);
      if (this.insight.running) void vscode.window.showWarningMessage(`Perf Lens: not measuring "${String(config.name)}": ${message}`);
      return config;
    }
    this.expectStart(started.sessionId);
    // A new launch shows its own numbers, even if a saved run was picked before (Show Last Run, Select Session).
    void this.insight.request(P.SelectSession, { sessionId: null } satisfies P.SelectSessionParams).catch(() => undefined);
    config.env = { ...env, ...started.env };
    config[SESSION_KEY] = started.sessionId;
    if (!this.userSetAsyncStacks(folder, config)) {
      // js-debug's async stack tracking makes every await much slower: timings would be inflated.
      config.showAsyncStacks = false;
    } else if (config.showAsyncStacks !== false && config.showAsyncStacks !== undefined && !this.warnedAsyncStacks) {
      this.warnedAsyncStacks = true;
      void vscode.window.showWarningMessage(`Perf Lens: "${String(config.name)}" sets showAsyncStacks, which slows down every await: async timings are inflated. Remove it (or set it to false) for accurate numbers.`);
    }
    this.insight.output.appendLine(`measuring debug launch "${String(config.name)}" as session ${started.sessionId}`);
    return config;
  }

  /** NODE_OPTIONS of the launch's envFile (dotenv syntax, as js-debug reads it), if it sets one. */
  private envFileNodeOptions(config: vscode.DebugConfiguration, folder: vscode.WorkspaceFolder | undefined): string | undefined {
    if (typeof config.envFile !== 'string' || config.envFile === '') return undefined;
    try {
      return dotenv.parse(fs.readFileSync(path.resolve(folder?.uri.fsPath ?? '', config.envFile))).NODE_OPTIONS;
    } catch (err) {
      // js-debug reports a missing envFile itself; we only could not read the user's NODE_OPTIONS.
      this.insight.output.appendLine(`could not read NODE_OPTIONS from envFile ${config.envFile}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * Did the user set showAsyncStacks? js-debug usually fills in its default (`true`) before we see the
   * configuration, so: what our resolver saw while it was still a `node` one (if it ran before
   * js-debug's), else any value but js-debug's default, else the key in launch.json. A programmatic
   * configuration that sets exactly `true` is indistinguishable from the default (and turned off).
   */
  private userSetAsyncStacks(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): boolean {
    const seen = config[ASYNC_STACKS_KEY] as boolean | undefined;
    if (seen !== undefined) return seen;
    if (config.showAsyncStacks !== undefined && config.showAsyncStacks !== true) return true;
    const launches = vscode.workspace.getConfiguration('launch', folder?.uri).get<unknown[]>('configurations') ?? [];
    return launches.some((c) => typeof c === 'object' && c !== null && (c as { name?: unknown }).name === config.name && 'showAsyncStacks' in c);
  }

  resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration {
    // Still of type `node`: js-debug has not applied its defaults yet.
    if (config.type === 'node' && config[ASYNC_STACKS_KEY] === undefined) config[ASYNC_STACKS_KEY] = 'showAsyncStacks' in config;
    this.noteAttachPid(config);
    return config;
  }

  /** Attach configurations are not injected into; their pid is kept to link the session once it starts. */
  private noteAttachPid(config: vscode.DebugConfiguration): void {
    if (isJsDebugChild(config)) return;
    const pid = attachPid(config);
    if (pid !== undefined) config[ATTACH_PID_KEY] = pid;
  }

  /** A launch that never starts (bad program path, cancelled) must not leave its server session open. */
  private expectStart(sessionId: string): void {
    const timer = setTimeout(() => {
      this.pending.delete(sessionId);
      void this.insight.request(P.EndSession, { sessionId, graceMs: 0 } satisfies P.EndSessionParams).catch(() => undefined);
    }, START_TIMEOUT_MS);
    this.pending.set(sessionId, timer);
  }

  private onStart(session: vscode.DebugSession): void {
    const linking = this.linkAttach(session);
    if (linking) {
      this.linking.set(session.id, linking);
      void linking.finally(() => this.linking.delete(session.id));
    }
    const id = session.configuration[SESSION_KEY] as string | undefined;
    if (!id || isJsDebugChild(session.configuration) || [...this.measured.values()].includes(id)) return;
    this.measured.set(session.id, id);
    clearTimeout(this.pending.get(id));
    this.pending.delete(id);
  }

  /**
   * An attach configuration (never injected into) whose processId is a measured process: the lenses
   * show that process's session, and pauses are excluded from its timings like for launches.
   */
  private linkAttach(session: vscode.DebugSession): Promise<void> | undefined {
    const pid = attachPid(session.configuration);
    if (pid === undefined || isJsDebugChild(session.configuration) || session.parentSession) return undefined;
    return this.link(session, pid);
  }

  private async link(session: vscode.DebugSession, pid: number): Promise<void> {
    try {
      const id = await selectSessionOf(this.insight, pid);
      if (!id) return;
      this.attached.set(session.id, id);
      this.insight.output.appendLine(`debugger "${session.name}" attached to measured process ${pid} (session ${id})`);
    } catch (err) {
      this.insight.output.appendLine(`could not link "${session.name}" to a measured process: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async onTerminate(session: vscode.DebugSession): Promise<void> {
    this.attached.delete(session.id);
    const id = this.measured.get(session.id);
    if (!id) return;
    this.measured.delete(session.id);
    try {
      const result = await this.insight.request<P.EndSessionResult>(P.EndSession, { sessionId: id, stoppedAt: this.stoppedByUser.get(id) } satisfies P.EndSessionParams);
      if (result.runFile) this.insight.output.appendLine(`run of "${session.name}" saved to ${result.runFile}`);
    } catch (err) {
      this.insight.output.appendLine(`ending session ${id} failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      // The server says how the session's processes ended before it answers EndSession (their
      // connections close first), so nothing asks about this id any more.
      this.stoppedByUser.delete(id);
    }
  }

  /**
   * Did the user stop this server session's debug session? VS Code asks the adapter to terminate or
   * disconnect before js-debug kills the program, so this is known before the processes' ends reach
   * the server (which can only see a connection that dropped).
   */
  wasStoppedByUser(serverSessionId: string): boolean {
    return this.stoppedByUser.has(serverSessionId);
  }

  /**
   * Tells the runtime when the debugger stopped the program, so the pause is not timed; notes a
   * Stop by the user (a terminate/disconnect request while the program runs).
   */
  private tracker(session: vscode.DebugSession): vscode.DebugAdapterTracker | undefined {
    return {
      onWillReceiveMessage: (message: { type?: string; command?: string }) => {
        if (message.type !== 'request' || (message.command !== 'terminate' && message.command !== 'disconnect')) return;
        // Detaching from an attached process leaves it running (js-debug's child sessions of an
        // attach sit below it): only the end of a launch is a stop.
        for (let s: vscode.DebugSession | undefined = session; s; s = s.parentSession) if (this.attached.has(s.id)) return;
        const id = this.serverSessionOf(session);
        if (id && !this.stoppedByUser.has(id)) this.stoppedByUser.set(id, Date.now());
      },
      onDidSendMessage: (message: { type?: string; event?: string; body?: { threadId?: number } }) => {
        if (message.type !== 'event' || message.event !== 'stopped') return;
        void this.onStopped(session, message.body?.threadId);
      },
    };
  }

  private async onStopped(session: vscode.DebugSession, threadId: number | undefined): Promise<void> {
    for (let s: vscode.DebugSession | undefined = session; s; s = s.parentSession) await this.linking.get(s.id);
    if (this.serverSessionOf(session)) await this.notePause(session, threadId);
  }

  private async notePause(session: vscode.DebugSession, threadId: number | undefined): Promise<void> {
    try {
      let frameId: number | undefined;
      if (threadId !== undefined) {
        const trace = (await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 1 })) as { stackFrames?: { id: number }[] };
        frameId = trace.stackFrames?.[0]?.id;
      }
      await session.customRequest('evaluate', { expression: PAUSE_EXPRESSION, frameId, context: 'repl' });
    } catch (err) {
      this.insight.output.appendLine(`could not tell the runtime about a pause: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const d of this.subscriptions) d.dispose();
  }
}
