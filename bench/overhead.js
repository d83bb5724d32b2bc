#!/usr/bin/env node
// Overhead of the Perf Lens runtime, as ratios against a bare run in the same invocation.
// Each workload times its own measured section (process start-up is not part of it) in CPU time
// of the process (process.cpuUsage: less disturbed than wall time when the machine is shared);
// runs are interleaved and the minimum kept (the least disturbed run), because a 2-core machine is
// noisy. Wall-clock medians are written to the JSON too.
//
//   node esbuild.js && node bench/overhead.js [--rounds 5] [--quick] [--only tiny,acorn,medium,memory]
//
// Rows: added ns per timed call in `full` mode (target <= 100), `adaptive` on a storm of tiny calls
// (acorn parsing typescript.js with node_modules instrumented; target <= 1.5x, every call counted),
// functions of >= 2 us (target <= 3%), memory per instrumented function (<= 5 KiB), bytes on the
// wire per call (<= 1). Writes bench/results/overhead.json.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const preload = path.join(root, 'dist/runtime/preload.js');
if (!fs.existsSync(preload)) throw new Error('dist/runtime/preload.js missing: run `node esbuild.js` first');
const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const quick = process.argv.includes('--quick');
// --only tiny,acorn,medium,memory: run only these workloads
const only = arg('--only', 'tiny,acorn,medium,memory').split(',');
const want = (w) => only.includes(w);
const rounds = Number(arg('--rounds', quick ? 3 : 5));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-overhead-'));
const bigFile = path.join(root, 'node_modules/typescript/lib/typescript.js');

// ---- workloads (written to a temp dir: the runtime instruments them as user code) -------------
const TINY_CALLS = quick ? 2e6 : 5e6;
const MEDIUM_CALLS = quick ? 48000 : 120000;
const MEDIUM_BATCHES = 6;
const MANY_FNS = 5000;
const files = {
  'tiny.js': `'use strict';
function tiny(x) { return (x + 1) | 0; }
function loop(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + tiny(i)) | 0; return s; }
loop(1e5); // warm-up
const c0 = process.cpuUsage(); const t0 = performance.now();
const s = loop(${TINY_CALLS});
const ms = performance.now() - t0; const cu = process.cpuUsage(c0); const cpuMs = (cu.user + cu.system) / 1000;
console.log(JSON.stringify({ ms, cpuMs, calls: ${TINY_CALLS}, s }));
`,
  // Measured in batches: the first ones include the JIT warming up the instrumentation (a one-off
  // cost per process, reported apart); the steady state is the median of the later batches.
  'medium.js': `'use strict';
function work(i) {
  let h = i;
  for (let k = 0; k < 1500; k++) h = (Math.imul(h ^ k, 2654435761) + 7) | 0;
  return h;
}
function loop(n) { let s = 0; for (let i = 0; i < n; i++) s ^= work(i); return s; }
loop(2000);
const batches = [];
const c0 = process.cpuUsage(); const t0 = performance.now();
let s = 0;
for (let b = 0; b < ${MEDIUM_BATCHES}; b++) { const tb = performance.now(); s ^= loop(${MEDIUM_CALLS / MEDIUM_BATCHES}); batches.push(performance.now() - tb); }
const ms = performance.now() - t0; const cu = process.cpuUsage(c0); const cpuMs = (cu.user + cu.system) / 1000;
console.log(JSON.stringify({ ms, cpuMs, batches, calls: ${MEDIUM_CALLS}, perCallNs: ms * 1e6 / ${MEDIUM_CALLS}, s }));
`,
  'many-fns.js': `'use strict';
const fns = [${Array.from({ length: MANY_FNS }, (_, i) => `function f${i}(x) { return x + ${i}; }`).join(',\n')}];
module.exports = fns;
`,
  'many.js': `'use strict';
const mem = () => { global.gc(); global.gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const before = mem();
const fns = require('./many-fns.js');
let s = 0;
for (const f of fns) for (let k = 0; k < 3; k++) s += f(k);
const after = mem();
console.log(JSON.stringify({ ms: 0, cpuMs: 0, bytes: after - before, fns: fns.length, s }));
`,
  'acorn.js': `'use strict';
const fs = require('fs');
const acorn = require(${JSON.stringify(require.resolve('acorn'))});
const source = fs.readFileSync(${JSON.stringify(bigFile)}, 'utf8');
acorn.parse(fs.readFileSync(${JSON.stringify(require.resolve('acorn'))}, 'utf8'), { ecmaVersion: 'latest' });
const c0 = process.cpuUsage(); const t0 = performance.now();
const n = acorn.parse(source, { ecmaVersion: 'latest' }).body.length;
const ms = performance.now() - t0; const cu = process.cpuUsage(c0); const cpuMs = (cu.user + cu.system) / 1000;
console.log(JSON.stringify({ ms, cpuMs, n }));
`,
};
for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), text);

// ---- a collector that counts bytes and calls ---------------------------------------------------
function collector() {
  // Sum of a delta column (protocol 2: absent = 0, a number = that value for all n functions).
  const colSum = (c, n) => (c === undefined ? 0 : typeof c === 'number' ? c * n : c.reduce((a, v) => a + v, 0));
  const sock = path.join(tmp, `c${Math.random().toString(36).slice(2)}.sock`);
  const stats = { bytes: 0, calls: 0, timed: 0, fns: 0 };
  const server = net.createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      stats.bytes += d.length;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (m.type === 'functions') stats.fns += m.defs.length;
        if (m.type === 'delta') { stats.calls += colSum(m.cols.calls, m.n); stats.timed += colSum(m.cols.timed, m.n); }
      }
    });
  });
  return new Promise((resolve) => server.listen(sock, () => resolve({ sock, stats, close: () => new Promise((r) => server.close(r)) })));
}

async function runOnce(file, variant, extraArgs = []) {
  const c = variant.mode ? await collector() : undefined;
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('PERF_LENS_')) delete env[k];
    if (c) {
      Object.assign(env, {
        NODE_OPTIONS: `--require "${preload}"${env.NODE_OPTIONS ? ` ${env.NODE_OPTIONS}` : ''}`,
        PERF_LENS_SOCKET: c.sock, PERF_LENS_MODE: variant.mode, PERF_LENS_CACHE_DIR: path.join(tmp, 'cache'),
        PERF_LENS_RESOURCE_INTERVAL_MS: '100',
      });
      if (variant.nodeModules) env.PERF_LENS_INCLUDE_NODE_MODULES = '1';
    }
    const args = [...(variant.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(tmp, 'prof')] : []), ...extraArgs, path.join(tmp, file)];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('close', async (code) => {
      if (code !== 0) return reject(new Error(`${file} ${JSON.stringify(variant)} exited ${code}`));
      const res = JSON.parse(out.trim().split('\n').pop());
      if (c) {
        await new Promise((r) => setTimeout(r, 50));
        res.wire = { ...c.stats };
        await c.close();
      }
      resolve(res);
    });
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const min = (xs) => Math.min(...xs);

async function measure(file, variants, extraArgs) {
  const results = Object.fromEntries(variants.map((v) => [v.name, []]));
  await runOnce(file, variants[variants.length - 1], extraArgs); // fills the transform cache
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) results[v.name].push(await runOnce(file, v, extraArgs));
  }
  return Object.fromEntries(variants.map((v) => [v.name, {
    ms: min(results[v.name].map((x) => x.cpuMs)),
    wallMedianMs: median(results[v.name].map((x) => x.ms)),
    runs: results[v.name],
  }]));
}

(async () => {
  const rows = [];
  const json = {};
  const V = (name, o = {}) => ({ name, ...o });

  // 1. full mode: added ns per timed call on a tiny function
  if (want('tiny')) {
    const tiny = await measure('tiny.js', [V('bare'), V('full', { mode: 'full' }), V('count', { mode: 'count' }), V('adaptive', { mode: 'adaptive' })]);
    const fullNs = ((tiny.full.ms - tiny.bare.ms) * 1e6) / TINY_CALLS;
    const countNs = ((tiny.count.ms - tiny.bare.ms) * 1e6) / TINY_CALLS;
    const adaptiveNs = ((tiny.adaptive.ms - tiny.bare.ms) * 1e6) / TINY_CALLS;
    const tinyWire = tiny.full.runs[0].wire;
    json.tiny = { bareMs: tiny.bare.ms, fullMs: tiny.full.ms, countMs: tiny.count.ms, adaptiveMs: tiny.adaptive.ms, fullNs, countNs, adaptiveNs, wire: tinyWire };
    rows.push([`full: added ns per timed call (tiny fn, ${TINY_CALLS / 1e6}M calls)`, `${fullNs.toFixed(1)} ns`, '<= 100 ns', `bare ${tiny.bare.ms.toFixed(0)} ms, full ${tiny.full.ms.toFixed(0)} ms`]);
    rows.push(['wire bytes per call (tiny fn, full)', `${(tinyWire.bytes / tinyWire.calls).toFixed(4)} B`, '<= 1 B', '']);
    rows.push(['count: added ns per call', `${countNs.toFixed(1)} ns`, '-', `${tiny.count.ms.toFixed(0)} ms`]);
    rows.push(['adaptive: added ns per call (tiny fn)', `${adaptiveNs.toFixed(1)} ns`, '-', `${tiny.adaptive.ms.toFixed(0)} ms`]);
  }

  // 2. adaptive on acorn parsing typescript.js with node_modules instrumented
  if (want('acorn')) {
    const acorn = await measure('acorn.js', [V('bare'), V('adaptive', { mode: 'adaptive', nodeModules: true }), V('count', { mode: 'count', nodeModules: true }), V('cpu-prof', { cpuProf: true })]);
    const aRatio = acorn.adaptive.ms / acorn.bare.ms;
    const countedA = acorn.adaptive.runs.map((r) => r.wire.calls);
    const countedC = acorn.count.runs.map((r) => r.wire.calls);
    const allCounted = countedA.every((c) => c === countedC[0]) && countedC.every((c) => c === countedC[0]);
    const aWire = acorn.adaptive.runs[0].wire;
    json.acorn = { bareMs: acorn.bare.ms, adaptiveMs: acorn.adaptive.ms, countMs: acorn.count.ms, cpuProfMs: acorn['cpu-prof'].ms, ratio: aRatio, calls: countedC[0], allCounted, wire: aWire };
    rows.push(['adaptive: acorn parsing typescript.js (9 MB), node_modules on', `${aRatio.toFixed(2)}x`, '<= 1.5x',
      `bare ${acorn.bare.ms.toFixed(0)} ms, adaptive ${acorn.adaptive.ms.toFixed(0)} ms, ${(aWire.timed / aWire.calls * 100).toFixed(2)}% timed`]);
    rows.push(['  same, count mode / node --cpu-prof', `${(acorn.count.ms / acorn.bare.ms).toFixed(2)}x / ${(acorn['cpu-prof'].ms / acorn.bare.ms).toFixed(2)}x`, '-', '']);
    rows.push(['  every call counted (adaptive = count, all rounds)', allCounted ? 'yes' : 'NO', 'yes', `${countedC[0].toLocaleString('en')} calls`]);
    rows.push(['wire bytes per call (acorn, adaptive)', `${(aWire.bytes / aWire.calls).toFixed(4)} B`, '<= 1 B', `${aWire.bytes} B for ${aWire.calls} calls`]);
  }

  // 3. functions of >= 2 us: steady state (median over rounds of the batches after the first two,
  // wall time of the main thread) and the one-off warm-up (the first two batches, over bare)
  if (want('medium')) {
    const medium = await measure('medium.js', [V('bare'), V('adaptive', { mode: 'adaptive' }), V('full', { mode: 'full' }), V('count', { mode: 'count' })]);
    const perCall = medium.bare.runs[0].perCallNs;
    const steady = (v) => median(medium[v].runs.flatMap((r) => r.batches.slice(2)));
    const warm = (v) => median(medium[v].runs.map((r) => r.batches[0] + r.batches[1]));
    const over = (v) => steady(v) / steady('bare') - 1;
    const warmMs = (v) => warm(v) - warm('bare') - 2 * (steady(v) - steady('bare'));
    json.medium = { bareMs: medium.bare.ms, adaptiveMs: medium.adaptive.ms, fullMs: medium.full.ms, perCallNs: perCall,
      overhead: over('adaptive'), fullOverhead: over('full'), countOverhead: over('count'),
      wholeSectionOverhead: medium.adaptive.ms / medium.bare.ms - 1, warmUpMs: warmMs('adaptive') };
    const pct = (x) => `${(x * 100).toFixed(1)}%`;
    rows.push([`functions of ~${(perCall / 1000).toFixed(1)} us: adaptive overhead, steady state`, pct(over('adaptive')), '<= 3%',
      `full ${pct(over('full'))}, count ${pct(over('count'))}`]);
    rows.push(['  same, whole section incl. warm-up (CPU time)', pct(json.medium.wholeSectionOverhead), '-',
      `one-off JIT warm-up of the instrumentation ~${warmMs('adaptive').toFixed(1)} ms`]);
  }

  // 4. memory per instrumented function (each called 3 times, so each has a histogram)
  if (want('memory')) {
    const mem = await measure('many.js', [V('bare'), V('full', { mode: 'full' })], ['--expose-gc']);
    const bytesPerFn = (median(mem.full.runs.map((r) => r.bytes)) - median(mem.bare.runs.map((r) => r.bytes))) / MANY_FNS;
    json.memory = { bytesPerFn };
    rows.push(['memory per instrumented function (timed, with histogram)', `${(bytesPerFn / 1024).toFixed(2)} KiB`, '<= 5 KiB', `${MANY_FNS} functions`]);
  }

  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['what', 'measured', 'target', 'notes'][i].length));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`Perf Lens runtime overhead (node ${process.version}, ${os.cpus().length} CPUs, process CPU time, best of ${rounds} interleaved rounds)\n`);
  console.log(line(['what', 'measured', 'target', 'notes']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results/overhead.json'), JSON.stringify({ node: process.version, rounds, ...json }, null, 2));
  fs.rmSync(tmp, { recursive: true, force: true });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
