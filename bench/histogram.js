#!/usr/bin/env node
// Cost of the model's histogram on the hot path (bucketIndex, record) and of report-time work
// (sparse merge, quantiles), next to a plain array push as the reference in the same run.
// Usage: node bench/histogram.js   (prints ns per operation; numbers are noisy on 2 cores)
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const os = require('os');
const path = require('path');

const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-bench-')), 'histogram.js');
esbuild.buildSync({ entryPoints: [path.join(__dirname, '../src/model/histogram.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error' });
const { Histogram, bucketIndex, mergeSparse } = require(out);

const N = 5_000_000;
const values = new Float64Array(1 << 16);
for (let i = 0; i < values.length; i++) values[i] = Math.floor(Math.exp(Math.random() * 20)); // 1 ns .. 0.5 s

function time(label, ops, fn) {
  fn(); // warm-up
  const best = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    best.push(Number(process.hrtime.bigint() - t0) / ops);
  }
  best.sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} ${best[2].toFixed(2).padStart(8)} ns/op (median of 5)`);
}

let sink = 0;
time('reference: sum of values', N, () => { let s = 0; for (let i = 0; i < N; i++) s += values[i & 0xffff]; sink += s; });
time('bucketIndex(ns)', N, () => { let s = 0; for (let i = 0; i < N; i++) s += bucketIndex(values[i & 0xffff]); sink += s; });
const dense = new Float64Array(1568);
time('dense[bucketIndex(ns)]++ (runtime style)', N, () => { for (let i = 0; i < N; i++) dense[bucketIndex(values[i & 0xffff])]++; });
const h = new Histogram();
time('Histogram.record(ns)', N, () => { for (let i = 0; i < N; i++) h.record(values[i & 0xffff]); });
const sparse = h.toSparse();
time(`mergeSparse of two ${sparse.length / 2}-bucket histograms`, 10_000, () => { for (let i = 0; i < 10_000; i++) sink += mergeSparse(sparse, sparse).length; });
time('p50+p95+p99 of a full histogram', 10_000, () => { for (let i = 0; i < 10_000; i++) sink += h.quantile(0.5) + h.quantile(0.95) + h.quantile(0.99); });
if (sink === 42) console.log('');
