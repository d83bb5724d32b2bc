/**
 * Custom LSP messages between the Perf Lens insight server (src/server) and any client: the VS Code
 * extension (through vscode-languageclient) or another editor. Standard LSP carries lenses and
 * hovers; these carry sessions, runs and details. Shared by both sides: plain method names and
 * JSON types, no dependency on either LSP library.
 *
 * Versioning: the server announces LSP_PROTOCOL_VERSION in `InitializeResult.capabilities.
 * experimental.perfLens.protocol`; a client that finds another number must not send these
 * requests. Changes are additive within one version.
 */
import type { Mode } from './runtime';
import type { Format } from '../model/format';
import type { FunctionReport } from '../model/report';
import type { GaugeHistoryData, GaugeState, GaugeThresholds } from '../model/gauge';

export const LSP_PROTOCOL_VERSION = 1;

/**
 * Node/V8 options the insight server is started with (src/extension/insightClient.ts; and
 * bench/server.js, to measure what users get). `--no-memory-reducer`: V8's memory reducer takes a
 * server fed ten deltas a second for an idle one and runs a pair of full GCs now and then, after
 * which V8 drops the optimised code of the delta decoder ("weak objects") and compiles it again:
 * 5-s windows at 4-6% of a core in a 1.6-2% steady state (`--trace-gc`, `--trace-deopt`). Without
 * it the heap keeps ~15 MB more committed. It has to be a start option: set later
 * (v8.setFlagsFromString) the reducer still runs.
 */
export const SERVER_EXEC_ARGV: readonly string[] = ['--no-memory-reducer'];

/** `initializationOptions` the client passes in `initialize`. All optional. */
export interface InitializationOptions {
  /**
   * Private per-user directory (the extension's globalStorageUri / storageUri). The server creates it
   * with mode 0700 and writes the attach file (ATTACH_FILE_NAME, mode 0600) there. Without it, no
   * attach socket is opened.
   */
  storageDir?: string;
  /** Settings as in workspace/didChangeConfiguration (`{ perfLens: {...} }` or the inner object). */
  settings?: unknown;
}

/** Settings under `perfLens` the server reads (initializationOptions.settings or didChangeConfiguration). */
export interface ServerSettings {
  lens: {
    /**
     * Lens text template. Placeholders: {avg} {p50} {p95} {p99} {min} {max} {total} {self}
     * {calls} (`1,204 calls`), {count} (`1,204`), {errors} {percent} (of the run's wall time) and
     * {sampled} (` · sampled` when timings come from a sample, else empty).
     * Default `avg {avg} · p95 {p95} · {calls}{sampled}`.
     */
    format: string;
    /** Functions with fewer calls get no lens. Default 1. */
    minCalls: number;
  };
  runs: {
    /** Saved runs kept in `.perf-lens/runs` (older ones are deleted when a run is saved). Default 20. */
    maxHistory: number;
  };
  gauge: {
    /** Sample the measured process tree (pidusage) and send perfLens/resources. Default true. */
    enable: boolean;
    /** Gauge tick, ms. Default 1000. */
    intervalMs: number;
    /** Ticks kept per session (and saved in the run). Default 1000. */
    history: number;
    thresholds: GaugeThresholds;
  };
}

/** Name of the attach file in `storageDir`: `{ version, socket, token, session, pid }` (AttachFile). */
export const ATTACH_FILE_NAME = 'attach.json';

/**
 * Env var a process started OUTSIDE the editor can use to find the attach file (src/cli/attach-relay.ts):
 * `perf-lens run` with PERF_LENS_ATTACH_FILE=<storageDir>/attach.json reads
 * `{socket, token, session}` and relays every runtime line to that socket (after its own hello with
 * the server's token), so the editor's lenses update live while the CLI still writes its report.
 */
export const ATTACH_FILE_ENV = 'PERF_LENS_ATTACH_FILE';

export interface AttachFile {
  version: typeof LSP_PROTOCOL_VERSION;
  socket: string;
  token: string;
  session: string;
  /** pid of the server (a stale file names a dead process). */
  pid: number;
}

/** Identity of a measured function: the runtime's original path, 1-based position and name. */
export interface FunctionKey {
  file: string;
  line: number;
  column: number;
  name: string;
}

/** The lens command (`Command.command`); arguments: [ShowDetailsArgs]. The extension implements it. */
export const SHOW_DETAILS_COMMAND = 'perfLens.showDetails';
export interface ShowDetailsArgs {
  /** Session or run id the lens was computed from. */
  sessionId: string;
  key: FunctionKey;
}

export type SessionState = 'live' | 'ended' | 'run';

export interface SessionInfo {
  id: string;
  /** What the user started (debug configuration name, command line, run file name). */
  name: string;
  state: SessionState;
  /** ISO time. */
  startedAt: string;
  processes: ProcessInfo[];
  functions: number;
  /** The saved run file once the session ended (or the run it was loaded from). */
  runFile: string | null;
}

export interface ProcessInfo {
  pid: number;
  threadId: number;
  argv: string[];
  state: 'running' | 'exited' | 'crashed';
  /** `exit`, `uncaughtException`, `SIGTERM`, `disconnected` (closed without a bye), ... */
  reason: string | null;
  exitCode: number | null;
}

/* ---------------------------- requests ---------------------------- */

export const StartSession = 'perfLens/startSession';
export interface StartSessionParams {
  /** Shown in lists and notifications (e.g. the debug configuration name). */
  name?: string;
  mode?: Mode;
  sampleEvery?: number;
  include?: string[];
  exclude?: string[];
  includeNodeModules?: boolean;
  /** Directory relative include/exclude globs resolve against (default: the workspace folder). */
  root?: string;
  /**
   * The NODE_OPTIONS the debuggee would get without us (the launch configuration's env, else the
   * inherited one): ours goes in front, theirs is kept verbatim.
   */
  nodeOptions?: string;
}
export interface StartSessionResult {
  sessionId: string;
  socketPath: string;
  token: string;
  /** Merge into the debuggee's environment: NODE_OPTIONS (with the preload) and PERF_LENS_* vars. */
  env: Record<string, string>;
}

export const EndSession = 'perfLens/endSession';
export interface EndSessionParams {
  sessionId: string;
  exitCode?: number | null;
  signal?: string | null;
  /** How long to wait for processes still connected (children) before cutting the run. Default 2000. */
  graceMs?: number;
  /**
   * When the user stopped the debug session (Date.now() in the client), if they did: processes
   * whose connection dropped from then on without a `bye` were stopped, not crashed, and the run
   * says so (exitReason 'stopped').
   */
  stoppedAt?: number;
}
export interface EndSessionResult {
  /** Absolute path of the saved run, or null when nothing was measured or the workspace is unknown. */
  runFile: string | null;
  functions: number;
}

export const ListSessions = 'perfLens/listSessions';
export interface ListSessionsResult {
  sessions: SessionInfo[];
  /** What lenses show now (null: nothing). */
  selected: string | null;
  /** True when the selection follows the default (most recent live session, else the last run). */
  automatic: boolean;
}

export const SelectSession = 'perfLens/selectSession';
/** `sessionId: null` returns to the automatic choice. */
export interface SelectSessionParams {
  sessionId: string | null;
}

export const FunctionDetails = 'perfLens/functionDetails';
export interface FunctionDetailsParams {
  /** Default: the selected session. */
  sessionId?: string;
  key: FunctionKey;
}
export interface FunctionDetailsResult {
  sessionId: string;
  function: FunctionReport | null;
  /** The same function in every session/run held in memory. */
  bySession: { sessionId: string; name: string; calls: number; meanMs: number | null; totalMs: number }[];
  /** The hover text. */
  markdown: string;
}

export interface RunEntry {
  /** File name without `.json` (a timestamp). */
  id: string;
  file: string;
  startedAt: string | null;
  command: string[];
  functions: number;
}

export const ListRuns = 'perfLens/listRuns';
export interface ListRunsResult {
  runs: RunEntry[];
}

/** Loads a saved run and selects it. */
export const OpenRun = 'perfLens/openRun';
export interface OpenRunParams {
  id: string;
}

/** Selects the newest saved run (loads it if needed). Result: the selected id or null. */
export const ShowLastRun = 'perfLens/showLastRun';

/** Forgets ended sessions and loaded runs (files stay on disk); lenses disappear until new data. */
export const Clear = 'perfLens/clear';

export const ExportRun = 'perfLens/export';
export interface ExportParams {
  /** Session or run id; default the selected one. */
  sessionId?: string;
  format: Exclude<Format, 'table'>;
  /** Also write it here (absolute path). */
  path?: string;
}
export interface ExportResult {
  content: string;
  path: string | null;
}

export const PruneRuns = 'perfLens/pruneRuns';
export interface PruneRunsParams {
  /** Keep this many newest runs (default: the perfLens.runs.maxHistory setting). */
  keep?: number;
}
export interface PruneRunsResult {
  deleted: string[];
}

/** Diagnostics of the server itself (used by bench/server.js). */
export const DebugStats = 'perfLens/debugStats';
export interface DebugStatsResult {
  pid: number;
  /** process.cpuUsage() of the server, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  deltasReceived: number;
  refreshesSent: number;
  /** ms from a delta's arrival to the workspace/codeLens/refresh it caused, most recent last (≤ 100). */
  refreshLatenciesMs: number[];
  /** Gauge sampling timers running now (one per live session with running processes). */
  gaugeTimers: number;
  /**
   * Time spent merging runtime messages into live sessions so far (ms), how many deltas, their
   * function rows, and the rows among those that took the (slower) per-row path.
   */
  merge: { ms: number; deltas: number; rows: number; perRowRows: number };
  /** process.getActiveResourcesInfo() of the server: what keeps its event loop alive (timers, sockets). */
  activeResources: string[];
}

/* -------------------------- notifications ------------------------- */

export const SessionChanged = 'perfLens/sessionChanged';
export type SessionChangeKind =
  | 'started'
  | 'processConnected'
  | 'processExited'
  | 'processCrashed'
  | 'connectionRejected'
  | 'ended'
  | 'runSaved'
  | 'selected';
export interface SessionChangedParams {
  sessionId: string | null;
  kind: SessionChangeKind;
  /** One sentence for the user. */
  message: string;
  pid?: number;
  /** For runSaved. */
  runFile?: string;
}

/* ------------------------- resource gauge ------------------------- */

/**
 * Server -> client, once per gauge tick (1 Hz by default) of every live session with running
 * processes, and once more with `state: 'ended'` when the session ends (the last message for it).
 */
export const ResourcesChanged = 'perfLens/resources';
export type ResourcesChangedParams = GaugeState;

/** The gauge history of a live or ended session, or of a saved run (loaded on demand). */
export const ResourceHistory = 'perfLens/resourceHistory';
export interface ResourceHistoryParams {
  /** A session id, `run:<id>` of a loaded run, or a saved run id; default the selected session. */
  sessionId?: string;
}
export interface ResourceHistoryResult extends GaugeHistoryData {
  sessionId: string;
  name: string;
  state: SessionState;
  /** `pidusage`: 1 Hz process-tree samples; `runtime`: a run without them (e.g. from the CLI), rebuilt from the runtimes' own samples. */
  origin: 'gauge' | 'runtime';
}
