#!/usr/bin/env node
// Throughput of the source transform (src/runtime/node/instrument.ts, bundled by esbuild exactly as
// the runtime ships it) on real large files: cold (no cache), cold with a cache write, warm (served
// from the on-disk cache), next to a bare acorn parse of the same file for scale.
// Medians of interleaved rounds, because this 2-core machine is noisy (the cold ÷ parse ratio is
// the steadiest figure under load). Targets: cold >= 5 MB/s, warm >= 10x faster than cold.
// Usage: node bench/transform.js [--rounds N]   (writes bench/results/transform.json)
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-bench-transform-'));

const bundle = path.join(tmp, 'instrument.js');
esbuild.buildSync({ entryPoints: [path.join(root, 'src/runtime/node/instrument.ts')], bundle: true, platform: 'node',
  format: 'cjs', target: 'node18.19', outfile: bundle, logLevel: 'error' });
const { instrumentSource } = require(bundle);
const acorn = require('acorn');

// A tsx/ts-node-like input: TypeScript compiled to JS with an inline source map (the CLI's sources).
const withMap = path.join(tmp, 'cli-with-inline-map.js');
esbuild.buildSync({ entryPoints: [path.join(root, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'cjs',
  sourcemap: 'inline', outfile: withMap, logLevel: 'error' });

const inputs = [
  { name: 'typescript/lib/typescript.js', file: path.join(root, 'node_modules/typescript/lib/typescript.js'), format: 'commonjs' },
  { name: 'acorn/dist/acorn.js', file: path.join(root, 'node_modules/acorn/dist/acorn.js'), format: 'commonjs' },
  { name: 'acorn/dist/acorn.mjs (ESM)', file: path.join(root, 'node_modules/acorn/dist/acorn.mjs'), format: 'module' },
  { name: 'CLI bundle + inline source map', file: withMap, format: 'commonjs' },
].filter((i) => fs.existsSync(i.file));

function time(fn) {
  const t = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const rows = [];
for (const input of inputs) {
  const code = fs.readFileSync(input.file, 'utf8');
  const mb = Buffer.byteLength(code) / 1e6;
  const samples = { parse: [], cold: [], coldWrite: [], warm: [] };
  let fnCount = 0;
  // Untimed passes warm up the JIT for this input shape.
  for (let i = 0; i < (mb < 1 ? 5 : 1); i++) instrumentSource(code, input.file, { format: input.format, cacheDir: null });
  for (let r = 0; r < rounds; r++) {
    const cacheDir = path.join(tmp, `cache-${rows.length}-${r}`);
    samples.parse.push(time(() => acorn.parse(code, { ecmaVersion: 'latest', sourceType: input.format === 'module' ? 'module' : 'script', allowHashBang: true, allowReturnOutsideFunction: input.format === 'commonjs' })).ms);
    const cold = time(() => instrumentSource(code, input.file, { format: input.format, cacheDir: null }));
    samples.cold.push(cold.ms);
    fnCount = cold.result.fnCount;
    const coldWrite = time(() => instrumentSource(code, input.file, { format: input.format, cacheDir }));
    if (coldWrite.result.cached) throw new Error('expected a cache miss');
    samples.coldWrite.push(coldWrite.ms);
    const warm = time(() => instrumentSource(code, input.file, { format: input.format, cacheDir }));
    if (!warm.result.cached || warm.result.code !== cold.result.code) throw new Error('expected an identical cache hit');
    samples.warm.push(warm.ms);
  }
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  rows.push({
    input: input.name, mb: +mb.toFixed(2), functions: fnCount,
    parseMs: +m.parse.toFixed(1), coldMs: +m.cold.toFixed(1), coldWithCacheWriteMs: +m.coldWrite.toFixed(1), warmMs: +m.warm.toFixed(1),
    coldMBps: +(mb / (m.cold / 1000)).toFixed(1), coldVsParse: +(m.cold / m.parse).toFixed(2), warmMBps: +(mb / (m.warm / 1000)).toFixed(1), warmSpeedup: +(m.coldWrite / m.warm).toFixed(1),
  });
}

const header = '| input | MB | functions | acorn parse ms | cold ms | cold MB/s | cold ÷ parse | cold + cache write ms | warm ms | warm MB/s | warm speed-up |';
console.log(`Transform throughput, Node ${process.version}, ${os.cpus().length} CPUs, median of ${rounds} rounds\n`);
console.log(header);
console.log(header.replace(/[^|]+/g, ' --- '));
for (const r of rows) {
  console.log(`| ${r.input} | ${r.mb} | ${r.functions} | ${r.parseMs} | ${r.coldMs} | ${r.coldMBps} | ${r.coldVsParse}x | ${r.coldWithCacheWriteMs} | ${r.warmMs} | ${r.warmMBps} | ${r.warmSpeedup}x |`);
}
fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench/results/transform.json'), JSON.stringify({ node: process.version, rounds, rows }, null, 2) + '\n');
fs.rmSync(tmp, { recursive: true, force: true });
