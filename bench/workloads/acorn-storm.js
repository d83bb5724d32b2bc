// Workload: a storm of tiny calls — acorn (a real npm package) parsing a large real file.
// Prints {"ms": <time of the measured section>, "calls": <rough call volume hint>} on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const acorn = require('acorn');

const file = process.env.BENCH_FILE || path.join(__dirname, '../../node_modules/typescript/lib/_tsc.js');
const source = fs.readFileSync(file, 'utf8');
const rounds = Number(process.env.BENCH_ROUNDS || 1);
acorn.parse(fs.readFileSync(require.resolve('acorn'), 'utf8'), { ecmaVersion: 'latest' }); // warm-up
const t0 = performance.now();
let nodes = 0;
for (let i = 0; i < rounds; i++) nodes += acorn.parse(source, { ecmaVersion: 'latest' }).body.length;
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, bytes: source.length * rounds, nodes }) + '\n');
