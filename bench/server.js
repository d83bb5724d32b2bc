#!/usr/bin/env node
// Cost of the insight language server while a program streams deltas into it.
//
//   node esbuild.js && node bench/server.js [--seconds 12] [--rounds 3] [--quick] [--only all]
//     [--server <other checkout>/dist/server.js]  (before/after comparisons in one session)
//     [--cpu-prof-dir <dir>]  (profile the server)  [--no-gauge]  (perfLens.gauge.enable false)
//     [--server-node-args=--trace-gc,...]  (V8/Node flags for the server process, added to the
//       ones the extension starts it with; `--no-exec-argv` leaves those out)
//     [--server-stdout <file>]  (LSP over a pipe; the server's stdout, e.g. --trace-opt, to the file)
//     [--per-delta N]  (one scenario with N functions per delta instead of the three)
//     [--first-only]  (only a fresh server's first session, not also a later one)
//     [--warmup S]  (seconds of each session before measuring; default 3: only those numbers are kept)
//     [--mode adaptive|full|sampled|count]  (the session's mode; default adaptive, as a debug session)
//     [--on-measure '<command>']  (run when each measured window starts, {pid} and {seconds}
//       replaced: e.g. 'perf record -g -o /tmp/w.data -p {pid} -- sleep {seconds}')
//
// A synthetic program with 5,000 instrumented functions (50 files x 100) runs under the runtime
// against a real server (`node dist/server.js --stdio`) driven by a plain LSP client that behaves
// like an editor: one of the files is open, and every workspace/codeLens/refresh is answered with
// a textDocument/codeLens request. The runtime ships a delta every 100 ms (10 deltas/s).
// Scenarios: how many distinct functions the program calls per 100 ms: 250 (5% of the program
// active in a window), 1,000 (20%), 5,000 (every function called in every window: the worst
// case). With more than 256 changed, the runtime spreads them over a second of deltas
// (PERF_LENS_SPREAD_MS), so a delta carries fewer rows than that (`rowsPerDelta`: ~500 at 5,000).
// Each scenario's server serves two sessions in turn, both measured: the first (JIT warm-up
// included) and a later one (the server lives as long as the editor window).
// Measured: server CPU (process.cpuUsage via perfLens/debugStats, cross-checked with
// /proc/<pid>/stat) over the steady state as % of one core (target <= 2%), delta-arrival-to-
// refresh latency inside the server (target <= 1 s), codeLens response time at the client, and
// the server's own timing of its merges per delta (`mergeMsPerDelta`: decode + rows into records)
// and the share of rows that took the slower per-row path (`perRowPercent`).
// An idle server (no session) is measured first as the floor. The machine is shared and noisy:
// scenarios are interleaved over rounds and the least disturbed round kept (all rounds listed).
// Writes bench/results/server.json.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const rpc = require('vscode-jsonrpc/node');
const { FILES, PER_FILE, writeSyntheticProgram } = require('./lib/synthetic-program');

const root = path.resolve(__dirname, '..');
const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const serverJs = path.resolve(arg('--server', path.join(root, 'dist/server.js')));
if (!fs.existsSync(serverJs)) throw new Error(`${serverJs} missing: run \`node esbuild.js\` first`);
const quick = process.argv.includes('--quick');
const seconds = Number(arg('--seconds', quick ? 8 : 12));
const rounds = Number(arg('--rounds', quick ? 1 : 3));
// Seconds of each session not measured (JIT warm-up, first sight of every function); e.g.
// `--warmup 20` for the steady state of a session that has run a while.
const DEFAULT_WARMUP_S = 3;
const WARMUP_S = Number(arg('--warmup', DEFAULT_WARMUP_S));
const MODE = arg('--mode', 'adaptive');
// Adaptive mode times a function's first ADAPT_FIRST calls (src/runtime/node/recorder.ts), then
// samples it. The synthetic program calls each of its functions perDelta/5,000 times per delta,
// so every row of every delta is timed for the first ALL_TIMED_CALLS * 5,000 / (10 * perDelta) s
// of a session (25.6 s at 5,000 per delta): windows after that measure sampled traffic, whose
// deltas are a third of the size.
const ALL_TIMED_CALLS = 256;
const allTimedUntilS = (perDelta) => (MODE === 'full' ? Infinity : MODE === 'adaptive' ? (ALL_TIMED_CALLS * FILES * PER_FILE) / (10 * perDelta) : 0);

// The options the extension starts the server with: SERVER_EXEC_ARGV in src/protocol/lsp.ts (a unit
// test keeps the two the same).
const SERVER_EXEC_ARGV = ['--no-memory-reducer'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-server-bench-'));
const workspace = path.join(tmp, 'ws');
fs.mkdirSync(workspace);

writeSyntheticProgram(workspace);

// ---- an editor-like LSP client -----------------------------------------------------------------
async function startServer() {
  const profile = arg('--cpu-prof-dir', null); // inspect where the server's time goes
  // Started as the extension starts it (SERVER_EXEC_ARGV); `--no-exec-argv`: without those options.
  const nodeArgs = process.argv.includes('--no-exec-argv') ? [] : [...SERVER_EXEC_ARGV];
  if (profile) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profile);
  // e.g. --server-node-args=--trace-gc (comma-separated): V8/Node flags for the server only.
  const extra = process.argv.find((a) => a.startsWith('--server-node-args='));
  if (extra) nodeArgs.push(...extra.slice('--server-node-args='.length).split(','));
  // --server-stdout <file>: the LSP stream goes over a pipe and the server's stdout (V8's
  // --trace-opt/--trace-deopt print there) into the file.
  const stdoutFile = arg('--server-stdout', null);
  let proc;
  let conn;
  if (stdoutFile) {
    const pipeName = rpc.generateRandomPipeName();
    const transport = await rpc.createClientPipeTransport(pipeName);
    proc = spawn(process.execPath, [...nodeArgs, serverJs, `--pipe=${pipeName}`], { stdio: ['ignore', fs.openSync(stdoutFile, 'a'), 'inherit'] });
    conn = rpc.createMessageConnection(...(await transport.onConnected()));
  } else {
    proc = spawn(process.execPath, [...nodeArgs, serverJs, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  }
  const state = { proc, conn, refreshes: 0, lensMs: [], lensCounts: [] };
  const openUri = `file://${path.join(workspace, 'mod0.js')}`;
  conn.onRequest('workspace/codeLens/refresh', () => {
    state.refreshes++;
    const t0 = performance.now();
    conn.sendRequest('textDocument/codeLens', { textDocument: { uri: openUri } }).then((lenses) => {
      state.lensMs.push(performance.now() - t0);
      state.lensCounts.push(lenses.length);
    }, () => undefined);
    return null;
  });
  conn.onNotification(() => undefined);
  conn.listen();
  state.init = async () => {
    await conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: `file://${workspace}`,
      capabilities: { workspace: { codeLens: { refreshSupport: true } } },
      // --no-gauge: the status-bar resource gauge off, to tell its share of the cost apart.
      initializationOptions: process.argv.includes('--no-gauge') ? { settings: { perfLens: { gauge: { enable: false } } } } : {},
    });
    conn.sendNotification('initialized', {});
    const text = fs.readFileSync(path.join(workspace, 'mod0.js'), 'utf8');
    conn.sendNotification('textDocument/didOpen', { textDocument: { uri: openUri, languageId: 'javascript', version: 1, text } });
  };
  state.stop = async () => {
    await conn.sendRequest('shutdown').catch(() => undefined);
    conn.sendNotification('exit');
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    conn.dispose();
  };
  return state;
}

const CLK_TCK = 100; // Linux USER_HZ
function procCpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000; // utime + stime
  } catch {
    return null;
  }
}

/** CPU ms per thread name (main thread `node`, V8's GC/compiler workers, libuv's pool) from /proc. */
function threadCpuMs(pid) {
  const out = {};
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = tid === String(pid) ? `${name} (main)` : name; // V8 and libuv helpers are named node too
      out[key] = (out[key] ?? 0) + ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
    }
  } catch {
    // not Linux, or the process is gone
  }
  return out;
}

async function sample(server) {
  const s = await server.conn.sendRequest('perfLens/debugStats');
  return {
    at: performance.now(),
    cpuMs: (s.cpuUserUs + s.cpuSystemUs) / 1000,
    systemMs: s.cpuSystemUs / 1000,
    procMs: procCpuMs(server.proc.pid),
    threadMs: threadCpuMs(server.proc.pid),
    stats: s,
  };
}

function pct(a, b) {
  const wall = b.at - a.at;
  const byThread = {};
  for (const [name, ms] of Object.entries(b.threadMs)) {
    const v = round(((ms - (a.threadMs[name] ?? 0)) / wall) * 100, 2);
    if (v > 0) byThread[name] = v;
  }
  return {
    cpuPercent: round(((b.cpuMs - a.cpuMs) / wall) * 100, 2),
    procStatPercent: a.procMs === null ? null : round(((b.procMs - a.procMs) / wall) * 100, 2),
    // Where it goes: kernel time (socket reads, wake-ups) and threads (the main thread is `node`).
    systemPercent: round(((b.systemMs - a.systemMs) / wall) * 100, 2),
    threadPercent: byThread,
  };
}

const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function quantile(xs, q) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

async function idle() {
  const server = await startServer();
  await server.init();
  await sleep(1000);
  const a = await sample(server);
  await sleep(Math.min(5, seconds) * 1000);
  const b = await sample(server);
  await server.stop();
  return pct(a, b);
}

/** One debug session of the synthetic program on `server`, measured over its steady state. */
async function measuredSession(server, name, perDelta) {
  const session = await server.conn.sendRequest('perfLens/startSession', { name, mode: MODE });
  const child = spawn(process.execPath, [path.join(workspace, 'main.js')], {
    env: { ...process.env, ...session.env, BENCH_PER_DELTA: String(perDelta), BENCH_MS: String((seconds + WARMUP_S + 1) * 1000), PERF_LENS_QUIET: '1' },
    stdio: 'inherit',
  });
  const exited = new Promise((r) => child.once('exit', r));
  await sleep(WARMUP_S * 1000);
  const a = await sample(server);
  const onMeasure = arg('--on-measure', null);
  const profiler = onMeasure && spawn('sh', ['-c', onMeasure.replaceAll('{pid}', String(server.proc.pid)).replaceAll('{seconds}', String(seconds))], { stdio: ['ignore', 'ignore', 'inherit'] });
  const refreshes0 = server.refreshes;
  // CPU per 5 s window too: how it moves as the JIT settles.
  const timeline = [];
  let last = a;
  for (let left = seconds; left > 0; left -= 5) {
    await sleep(Math.min(5, left) * 1000);
    const now = await sample(server);
    timeline.push(pct(last, now).cpuPercent);
    last = now;
  }
  const b = last;
  if (profiler) await new Promise((r) => (profiler.exitCode === null ? profiler.once('exit', r) : r()));
  const refreshes = server.refreshes - refreshes0;
  await exited;
  const deltas = b.stats.deltasReceived - a.stats.deltasReceived;
  const lat = b.stats.refreshLatenciesMs;
  const lensMs = server.lensMs.slice(-refreshes);
  await server.conn.sendRequest('perfLens/endSession', { sessionId: session.sessionId, graceMs: 2000 });
  const timedUntil = allTimedUntilS(perDelta);
  return {
    deltasPerSecond: round(deltas / ((b.at - a.at) / 1000), 1),
    // Whether the window saw every row timed, sampled rows, or both (see ALL_TIMED_CALLS).
    traffic: timedUntil >= WARMUP_S + seconds ? 'all timed' : timedUntil <= WARMUP_S ? 'sampled' : `all timed until ${round(timedUntil)} s, then sampled`,
    ...pct(a, b),
    cpuPercentPer5s: timeline,
    refreshesPerSecond: round(refreshes / ((b.at - a.at) / 1000), 2),
    refreshLatencyMs: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), max: quantile(lat, 1) },
    codeLensResponseMs: { p50: round(quantile(lensMs, 0.5) ?? NaN, 2), max: round(quantile(lensMs, 1) ?? NaN, 2) },
    lensesPerResponse: server.lensCounts[server.lensCounts.length - 1] ?? 0,
    serverRssMiB: round(b.stats.rss / 2 ** 20, 1),
    // Wall time of the merges into the session (decode + rows into records), per delta merged
    // (null from a server build older than this statistic, e.g. through --server).
    mergeMsPerDelta: b.stats.merge ? round((b.stats.merge.ms - a.stats.merge.ms) / Math.max(1, b.stats.merge.deltas - a.stats.merge.deltas), 3) : null,
    // Share of the merged function rows that took the per-row path instead of the block loops
    // (a function not seen yet, a count outside its histogram's window): each costs several rows'.
    perRowPercent: b.stats.merge?.rows !== undefined ? round((100 * (b.stats.merge.perRowRows - a.stats.merge.perRowRows)) / Math.max(1, b.stats.merge.rows - a.stats.merge.rows), 2) : null,
    // Function rows per delta: the runtime spreads thousands of busy functions over a second of
    // deltas (PERF_LENS_SPREAD_MS), so this is below the functions active per 100 ms.
    rowsPerDelta: b.stats.merge?.rows !== undefined ? round((b.stats.merge.rows - a.stats.merge.rows) / Math.max(1, b.stats.merge.deltas - a.stats.merge.deltas)) : null,
  };
}

/**
 * A fresh server's first session (what the first F5 in a window costs, JIT warm-up included), then
 * a later session on the same server (the server lives as long as the window: every F5 after the
 * first); `--first-only` skips the later one.
 */
async function scenario(name, perDelta) {
  const server = await startServer();
  await server.init();
  const first = await measuredSession(server, `${name} (first)`, perDelta);
  const later = process.argv.includes('--first-only') ? null : await measuredSession(server, `${name} (later)`, perDelta);
  await server.stop();
  return {
    name,
    functionsPerDelta: perDelta,
    ...first,
    later: later && { traffic: later.traffic, cpuPercent: later.cpuPercent, threadPercent: later.threadPercent, cpuPercentPer5s: later.cpuPercentPer5s, refreshLatencyMs: later.refreshLatencyMs, codeLensResponseMs: later.codeLensResponseMs, mergeMsPerDelta: later.mergeMsPerDelta, perRowPercent: later.perRowPercent, rowsPerDelta: later.rowsPerDelta },
  };
}

async function main() {
  const results = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, seconds, warmupSeconds: WARMUP_S, mode: MODE, functions: FILES * PER_FILE };
  results.idle = await idle();
  const only = arg('--only', null); // e.g. `--only all` to profile one scenario
  const perDelta = arg('--per-delta', null); // one scenario of its own, e.g. `--per-delta 4`: the cost of a live session itself
  const list = perDelta
    ? [[`${perDelta} per delta`, Number(perDelta)]]
    : [['5% active', 250], ['20% active', 1000], ['all active', FILES * PER_FILE]].filter(([name]) => !only || name.startsWith(only));
  // Rounds interleave the scenarios; the least disturbed round (lowest CPU) is kept, all are listed.
  const runs = list.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < list.length; i++) runs[i].push(await scenario(...list[i]));
  }
  results.rounds = rounds;
  results.scenarios = runs.map((rs) => ({
    ...rs.reduce((best, x) => (x.cpuPercent < best.cpuPercent ? x : best)),
    cpuPercentAllRounds: rs.map((x) => x.cpuPercent),
    laterCpuPercentAllRounds: rs.map((x) => x.later?.cpuPercent ?? null),
  }));
  console.log(JSON.stringify(results, null, 2));
  if (only || perDelta || WARMUP_S !== DEFAULT_WARMUP_S || arg('--cpu-prof-dir', null) || arg('--on-measure', null) || process.argv.includes('--no-exec-argv') || arg('--server', null) || process.argv.includes('--no-gauge')) return; // partial, profiled or another build: not the numbers to keep
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'server.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
