// The synthetic program of the server benchmarks (bench/server.js, bench/merge.js): 5,000
// instrumented functions (50 files x 100). BENCH_PER_DELTA functions are called per 100 ms, in
// rotation (four ticks per flush, each calling the next quarter), for BENCH_MS ms.
'use strict';
const fs = require('fs');
const path = require('path');

const FILES = 50;
const PER_FILE = 100;

/** Writes mod0.js .. mod49.js and main.js into `dir`; returns main.js's path. */
function writeSyntheticProgram(dir) {
  for (let f = 0; f < FILES; f++) {
    const body = [`'use strict';`];
    for (let i = 0; i < PER_FILE; i++) {
      body.push(`function f${f}_${i}(x) {`, `  let h = x;`, `  for (let k = 0; k < ${20 + (i % 7) * 10}; k++) h = (h * 31 + k) | 0;`, `  return h;`, `}`);
    }
    body.push(`module.exports = [${Array.from({ length: PER_FILE }, (_, i) => `f${f}_${i}`).join(', ')}];`);
    fs.writeFileSync(path.join(dir, `mod${f}.js`), `${body.join('\n')}\n`);
  }
  const main = path.join(dir, 'main.js');
  fs.writeFileSync(
    main,
    `'use strict';
const fns = [];
for (let f = 0; f < ${FILES}; f++) fns.push(...require('./mod' + f + '.js'));
// Four ticks per 100 ms flush, each calling the next quarter of BENCH_PER_DELTA functions in
// rotation, so one delta carries BENCH_PER_DELTA distinct functions.
const perTick = Math.ceil(Number(process.env.BENCH_PER_DELTA) / 4);
const until = Date.now() + Number(process.env.BENCH_MS);
for (const fn of fns) fn(1); // every function announced and called once
let next = 0;
const timer = setInterval(() => {
  if (Date.now() > until) return clearInterval(timer);
  for (let i = 0; i < perTick; i++) fns[next++ % fns.length](i);
}, 25);
`,
  );
  return main;
}

module.exports = { FILES, PER_FILE, writeSyntheticProgram };
