#!/usr/bin/env node
// Cost of the language server's delta path alone, in-process and repeatable: what bench/server.js
// measures in a live server, without the machine's noise around it.
//
//   node esbuild.js && node bench/merge.js [--per-delta 250,1000,5000] [--passes 3] [--rounds 5]
//     [--root <checkout>[,<checkout>...]]  (their src: before/after comparisons, replayed
//     interleaved in one process on the same captured traffic, so the machine's slow phases hit
//     every build alike; the first checkout's dist/runtime captures it)
//     [--capture-seconds 6]  (longer: durations drift as the program's JIT settles, see histogram.ts)
//     [--mode adaptive|full]  (the captured session's mode; full: every call timed however long)
//
// The synthetic program of bench/server.js runs under the runtime (dist/runtime/preload.js) against
// a real collector for a few seconds; its messages are captured, then replayed through what the
// live session does per message: JSON.parse + ReportBuilder.accept, and every 8th delta one file's
// function reports (what a lens request reads). Replays run warm (back to back), cold (64 MB
// touched between deltas, evicting the caches as the measured program and the rest of the server
// do between two deltas 100 ms apart) and held (evicted every 8th delta: the live session holds
// deltas and merges them back to back before a read). Prints ms per delta (median over rounds, all rounds listed)
// the share of rows that took the per-row path, and the wire size. Not a pass/fail test.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const esbuild = require('esbuild');
const { writeSyntheticProgram } = require('./lib/synthetic-program');

const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const roots = arg('--root', path.join(__dirname, '..')).split(',').map((r) => path.resolve(r));
const perDeltas = arg('--per-delta', '250,1000,5000').split(',').map(Number);
const passes = Number(arg('--passes', 3));
const rounds = Number(arg('--rounds', 5));
const captureMs = 1000 * Number(arg('--capture-seconds', 6));
const sessionMode = arg('--mode', 'adaptive');
const preload = path.join(roots[0], 'dist/runtime/preload.js');
if (!fs.existsSync(preload)) throw new Error(`${preload} missing: run \`node esbuild.js\` first`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-merge-bench-'));
/** lib/merge-parts.js of this checkout, reading the sources of `root`, bundled. */
function parts(root, k) {
  const entry = path.join(tmp, `entry${k}.js`);
  const partsJs = path.join(tmp, `merge-parts${k}.js`);
  fs.writeFileSync(entry, fs.readFileSync(path.join(__dirname, 'lib/merge-parts.js'), 'utf8').replaceAll("'../../src/", `'${root}/src/`));
  esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', outfile: partsJs, logLevel: 'error', nodePaths: [path.join(__dirname, '../node_modules')] });
  return require(partsJs);
}
const builds = roots.map(parts);
const { Collector, buildNodeOptions, runtimeEnv } = builds[0];
const main = writeSyntheticProgram(tmp);

/** The program's messages (JSON lines) with `perDelta` functions per delta, `captureMs` of them. */
async function capture(perDelta) {
  const lines = [];
  const collector = await Collector.start({ onMessage: (_conn, msg) => lines.push(JSON.stringify(msg)) });
  const env = {
    ...process.env,
    ...runtimeEnv({ socket: collector.socketPath, token: collector.token, session: collector.session, mode: sessionMode, root: tmp }),
    NODE_OPTIONS: buildNodeOptions(undefined, preload),
    BENCH_PER_DELTA: String(perDelta),
    BENCH_MS: String(captureMs),
    PERF_LENS_QUIET: '1',
  };
  const child = spawn(process.execPath, [main], { env, stdio: 'inherit' });
  await new Promise((resolve) => child.once('exit', resolve));
  await collector.waitForIdle(3000);
  await collector.close();
  return lines;
}

const evict = new Float64Array(8 << 20);
/** `evictEvery`: deltas merged between two evictions of the caches (0: never). */
function replay(ReportBuilder, lines, evictEvery) {
  const isDelta = (l) => l.startsWith('{"type":"delta"');
  // Steady state: everything up to the program's 10th delta (every function announced and called
  // once, so every function has its entry) is fed before timing.
  const tenth = lines.indexOf(lines.filter(isDelta)[10]);
  const setup = lines.slice(0, tenth);
  const deltas = lines.slice(tenth).filter(isDelta);
  const openFile = path.join(tmp, 'mod0.js');
  const builder = new ReportBuilder();
  for (const l of setup) builder.accept(1, JSON.parse(l));
  let parseMs = 0;
  let mergeMs = 0;
  let lensMs = 0;
  let n = 0;
  const rows0 = builder.rowStats ? { ...builder.rowStats } : undefined; // older builds have none
  for (let p = 0; p < passes; p++) {
    for (const line of deltas) {
      if (evictEvery && n % evictEvery === 0) for (let k = 0; k < evict.length; k += 8) evict[k]++;
      const t0 = performance.now();
      const msg = JSON.parse(line);
      const t1 = performance.now();
      builder.accept(1, msg);
      const t2 = performance.now();
      parseMs += t1 - t0;
      mergeMs += t2 - t1;
      if (++n % 8 === 0) {
        // Builds before the per-file index read one file through a filter.
        if (builder.functionReportsIn) builder.functionReportsIn(openFile);
        else builder.functionReports((def) => def.file === openFile);
        lensMs += performance.now() - t2;
      }
    }
  }
  // Share of rows that took the per-row path (a count outside the histogram's window, mostly).
  const perRowPercent = rows0 ? (100 * (builder.rowStats.perRow - rows0.perRow)) / Math.max(1, builder.rowStats.rows - rows0.rows) : null;
  return { parseMs: parseMs / n, mergeMs: mergeMs / n, lensReadMs: lensMs / Math.floor(n / 8), perRowPercent };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const r3 = (v) => Math.round(v * 1000) / 1000;

async function runAll() {
  const results = { date: new Date().toISOString(), node: process.version, roots, mode: sessionMode, captureSeconds: captureMs / 1000, passes, rounds, scenarios: [] };
  for (const perDelta of perDeltas) {
    const lines = await capture(perDelta);
    const deltaBytes = lines.filter((l) => l.startsWith('{"type":"delta"')).slice(10).map((l) => l.length);
    const scenario = { functionsPerDelta: perDelta, deltaBytesMedian: median(deltaBytes), builds: roots.map((root) => ({ root })) };
    // warm: back to back; cold: caches evicted before each delta (a delta merged on arrival, 100 ms
    // after the last); held: evicted every 8th (the live session merges held deltas before a read).
    for (const { ReportBuilder } of builds) replay(ReportBuilder, lines, 0); // JIT warm-up, not measured
    for (const [mode, evictEvery] of [['warm', 0], ['cold', 1], ['held', 8]]) {
      const runs = builds.map(() => []);
      for (let round = 0; round < rounds; round++) {
        builds.forEach(({ ReportBuilder }, k) => runs[k].push(replay(ReportBuilder, lines, evictEvery)));
      }
      runs.forEach((buildRuns, k) => {
        const summary = {};
        for (const key of ['parseMs', 'mergeMs', 'lensReadMs', 'perRowPercent']) {
          const values = buildRuns.map((x) => x[key]);
          summary[key] = values.includes(null) ? null : r3(median(values)); // null: a build without it
          summary[`${key}AllRounds`] = values.map((x) => (x === null ? null : r3(x)));
        }
        scenario.builds[k][mode] = summary;
      });
    }
    results.scenarios.push(scenario);
  }
  console.log(JSON.stringify(results, null, 2));
}

runAll()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
