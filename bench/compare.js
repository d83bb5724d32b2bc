#!/usr/bin/env node
// Perf Lens against a bare run, `node --cpu-prof`, and an OpenTelemetry span per call, on the same
// workloads (bench/workloads/*). Each workload times its own measured section, so process start-up
// and report writing are not part of the ratio. Rounds are interleaved and the median is kept,
// because this 2-core machine is noisy. Usage: node bench/compare.js [--rounds N]
// Writes bench/results/compare.json and prints a Markdown table (pasted into the README).
'use strict';
const { execFileSync } = require('child_process');
const esbuild = require('esbuild');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-bench-'));
const cli = path.join(root, 'dist/cli.js');
if (!fs.existsSync(cli)) throw new Error('dist/cli.js missing: run `npm run build` first');

const otelPreload = path.join(tmp, 'otel-preload.js');
esbuild.buildSync({ entryPoints: [path.join(__dirname, 'lib/otel-preload.js')], bundle: true, platform: 'node',
  format: 'cjs', target: 'node18', outfile: otelPreload, logLevel: 'error' });

const workloads = [
  { name: 'acorn parsing 6 MB (tiny-call storm, node_modules included)', file: 'workloads/acorn-storm.js',
    scope: [path.join(root, 'node_modules/acorn/')], nodeModules: true },
  { name: 'functions of ≥ 2 µs (100k requests)', file: 'workloads/medium-calls.js', env: { BENCH_CALLS: '100000' },
    scope: [path.join(__dirname, 'workloads/')], nodeModules: false },
];

function variants(w) {
  const script = path.join(__dirname, w.file);
  const perfLens = (mode) => ({
    name: `perf-lens ${mode}`,
    cmd: [process.execPath, cli, 'run', '--quiet', '--mode', mode, ...(w.nodeModules ? ['--include-node-modules'] : []),
      '--out', path.join(tmp, `report-${mode}.json`), '--', process.execPath, script],
  });
  return [
    { name: 'bare', cmd: [process.execPath, script] },
    perfLens('adaptive'),
    perfLens('full'),
    perfLens('count'),
    { name: 'node --cpu-prof', cmd: [process.execPath, '--cpu-prof', '--cpu-prof-dir', path.join(tmp, 'prof'), script] },
    { name: 'OpenTelemetry span per call', cmd: [process.execPath, '--require', otelPreload, script],
      env: { BENCH_OTEL_SCOPE: w.scope.join(path.delimiter) } },
  ];
}

function runOnce(v, w) {
  const out = execFileSync(v.cmd[0], v.cmd.slice(1), {
    env: { ...process.env, ...w.env, ...v.env, PERF_LENS_CACHE_DIR: path.join(tmp, 'cache') },
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop()).ms;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const results = [];
for (const w of workloads) {
  const vs = variants(w);
  const times = new Map(vs.map((v) => [v.name, []]));
  runOnce(vs[1], w); // fills the transform cache so every perf-lens round is a warm start
  for (let r = 0; r < rounds; r++) for (const v of vs) times.get(v.name).push(runOnce(v, w));
  const bare = median(times.get('bare'));
  const counted = (mode) => {
    const report = JSON.parse(fs.readFileSync(path.join(tmp, `report-${mode}.json`), 'utf8'));
    return report.functions.reduce((n, f) => n + f.calls, 0);
  };
  for (const v of vs) {
    const ms = median(times.get(v.name));
    const mode = v.name.startsWith('perf-lens ') ? v.name.slice(10) : null;
    results.push({ workload: w.name, variant: v.name, medianMs: +ms.toFixed(1), ratio: +(ms / bare).toFixed(2),
      callsCounted: mode ? counted(mode) : undefined, samples: times.get(v.name).map((x) => +x.toFixed(1)) });
  }
}

fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'results/compare.json'), JSON.stringify({ node: process.version, rounds, results }, null, 2));
console.log(`| workload | variant | median ms | × bare | calls counted |\n| --- | --- | ---: | ---: | ---: |`);
for (const r of results) {
  console.log(`| ${r.workload} | ${r.variant} | ${r.medianMs} | ${r.ratio.toFixed(2)} | ${r.callsCounted?.toLocaleString('en-US') ?? ''} |`);
}
fs.rmSync(tmp, { recursive: true, force: true });
