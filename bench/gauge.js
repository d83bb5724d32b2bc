#!/usr/bin/env node
// Cost of the resource gauge: what sampling a 5-process measured tree at 1 Hz adds to the insight
// server.
//
//   node esbuild.js && node bench/gauge.js [--seconds 20] [--rounds 3]
//
// A measured program (a parent that forks 4 children; each wakes every 50 ms for a little work, and
// each runtime ships its own resource samples every 100 ms) runs against a real server
// (`node dist/server.js --stdio`, plain JSON-RPC client) twice per round: gauge off
// (perfLens.gauge.enable false) and gauge on at 1 Hz. The server's CPU over the steady state
// (process.cpuUsage via perfLens/debugStats) is compared; the difference is the gauge's cost, as % of
// one core (target <= 0.5%). Rounds alternate the order (noisy shared machine); medians reported.
// Also measured directly: one gauge tick's OS read of the 5 pids, in µs (many ticks), by the server's
// reader (src/server/process-usage.ts: /proc read synchronously on Linux) and by pidusage alone.
// Writes bench/results/gauge.json.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const rpc = require('vscode-jsonrpc/node');
const pidusage = require('pidusage');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const serverJs = path.join(root, 'dist/server.js');
if (!fs.existsSync(serverJs)) throw new Error(`${serverJs} missing: run \`node esbuild.js\` first`);
const seconds = Number(arg('--seconds', 20));
const rounds = Number(arg('--rounds', 3));
const WARMUP_S = 3;
const CHILDREN = 4;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-gauge-bench-'));
const program = path.join(tmp, 'tree.js');
fs.writeFileSync(program, `'use strict';
const { fork } = require('child_process');
if (process.argv[2] !== 'child') for (let i = 0; i < ${CHILDREN}; i++) fork(__filename, ['child']);
function work(n) { let h = 0; for (let i = 0; i < n; i++) h = (h * 31 + i) | 0; return h; }
const until = Date.now() + Number(process.env.BENCH_MS);
const t = setInterval(() => { if (Date.now() > until) clearInterval(t); else work(20000); }, 50);
`);

function startServer(gaugeEnabled) {
  const proc = spawn(process.execPath, [serverJs, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  let ticks = 0;
  conn.onNotification((method) => { if (method === 'perfLens/resources') ticks++; });
  conn.listen();
  return {
    proc,
    conn,
    ticks: () => ticks,
    async init() {
      await conn.sendRequest('initialize', {
        processId: process.pid, rootUri: `file://${tmp}`, capabilities: {},
        initializationOptions: { settings: { perfLens: { gauge: { enable: gaugeEnabled, intervalMs: 1000 } } } },
      });
      conn.sendNotification('initialized', {});
    },
    async stop() {
      await conn.sendRequest('shutdown').catch(() => undefined);
      conn.sendNotification('exit');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      conn.dispose();
    },
  };
}

async function cpuMs(server) {
  const s = await server.conn.sendRequest('perfLens/debugStats');
  return { at: performance.now(), ms: (s.cpuUserUs + s.cpuSystemUs) / 1000 };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (v, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function scenario(gaugeEnabled) {
  const server = startServer(gaugeEnabled);
  await server.init();
  const session = await server.conn.sendRequest('perfLens/startSession', { name: 'tree' });
  const child = spawn(process.execPath, [program], {
    env: { ...process.env, ...session.env, BENCH_MS: String((WARMUP_S + seconds + 2) * 1000) }, stdio: 'ignore',
  });
  await sleep(WARMUP_S * 1000);
  const a = await cpuMs(server);
  const ticksBefore = server.ticks();
  await sleep(seconds * 1000);
  const b = await cpuMs(server);
  const ticks = server.ticks() - ticksBefore;
  await new Promise((r) => child.once('exit', r));
  const stats = await server.conn.sendRequest('perfLens/debugStats');
  const ended = await server.conn.sendRequest('perfLens/endSession', { sessionId: session.sessionId });
  await server.stop();
  return { gauge: gaugeEnabled, cpuPercent: round(((b.ms - a.ms) / (b.at - a.at)) * 100, 3), ticks, deltas: stats.deltasReceived, functions: ended.functions };
}

/** The server's reader of OS figures, bundled from the sources (dist/server.js does not export it). */
function processUsageReader() {
  const out = path.join(tmp, 'process-usage.js');
  esbuild.buildSync({ entryPoints: [path.join(root, 'src/server/process-usage.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, logLevel: 'error' });
  return require(out).ProcessUsageReader;
}

/** One gauge tick's OS reads for a 5-process tree, in µs: `read(pids)` is one tick's read of all of them. */
async function tickUs(read) {
  const kids = Array.from({ length: CHILDREN + 1 }, () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
  const pids = kids.map((k) => k.pid);
  await read(pids); // primed, as after the first tick
  const n = 2000;
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < n; i++) await read(pids);
  const cpu = process.cpuUsage(t0);
  const wall = performance.now() - w0;
  for (const k of kids) k.kill();
  return { cpuUsPerTick: round((cpu.user + cpu.system) / n, 1), wallUsPerTick: round((wall * 1000) / n, 1) };
}

async function main() {
  const reader = new (processUsageReader())(1000);
  const tick = await tickUs((pids) => reader.read(pids));
  reader.close();
  const pidusageTick = await tickUs((pids) => pidusage(pids, { maxage: 3000 }));
  pidusage.clear();
  for (const [name, t] of [['server reader', tick], ['pidusage alone', pidusageTick]]) {
    console.log(`${name}, 5 pids: ${t.cpuUsPerTick} µs CPU per tick (${round(t.cpuUsPerTick / 1e4, 4)}% of a core at 1 Hz), ${t.wallUsPerTick} µs wall`);
  }
  const all = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [false, true] : [true, false];
    for (const g of order) {
      const res = await scenario(g);
      all.push({ round: r + 1, ...res });
      console.log(`round ${r + 1}, gauge ${g ? 'on ' : 'off'}: server CPU ${res.cpuPercent}% of one core over ${seconds} s (${res.ticks} gauge ticks)`);
    }
  }
  const off = median(all.filter((x) => !x.gauge).map((x) => x.cpuPercent));
  const on = median(all.filter((x) => x.gauge).map((x) => x.cpuPercent));
  const pairs = [];
  for (let r = 1; r <= rounds; r++) {
    const x = all.filter((y) => y.round === r);
    pairs.push(round(x.find((y) => y.gauge).cpuPercent - x.find((y) => !y.gauge).cpuPercent, 3));
  }
  const result = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, node: process.version, seconds, rounds,
    osReadTick: tick, pidusageTick, serverCpuPercent: { gaugeOff: off, gaugeOn: on }, gaugeCostPercent: round(median(pairs), 3), pairs, runs: all,
  };
  console.log(`median server CPU: gauge off ${off}%, on ${on}%; gauge cost (median of per-round differences ${JSON.stringify(pairs)}): ${result.gaugeCostPercent}% of one core (target <= 0.5%)`);
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'gauge.json'), `${JSON.stringify(result, null, 2)}\n`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
