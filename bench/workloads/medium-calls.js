// Workload: functions that each take a few microseconds (the "≥ 2 µs" overhead target).
'use strict';

function scoreWords(words) {
  let score = 0;
  for (let round = 0; round < 40; round++) {
    for (const w of words) score += w.length * (w.charCodeAt(round % w.length) % 7);
  }
  return score;
}

function sortAndSummarise(values) {
  const sorted = Float64Array.from(values).sort(); // no comparator closure: every function here is ≥ 1 µs
  const mid = sorted[sorted.length >> 1];
  return { min: sorted[0], max: sorted[sorted.length - 1], mid };
}

function handleRequest(i) {
  const values = [];
  for (let k = 0; k < 160; k++) values.push((i * 7919 + k * 104729) % 1000);
  const words = [];
  for (const d of String(i * 2654435761)) words.push('w' + d.repeat(3));
  const summary = sortAndSummarise(values);
  return summary.mid + scoreWords(words);
}

const n = Number(process.env.BENCH_CALLS || 200_000);
let acc = 0;
for (let i = 0; i < 5000; i++) acc += handleRequest(i); // warm-up
const t0 = performance.now();
for (let i = 0; i < n; i++) acc += handleRequest(i);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, calls: n, acc }) + '\n');
