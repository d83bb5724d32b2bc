// A program that works its resources, for the Perf Lens status-bar gauge and resource view:
// it burns CPU, grows its memory, and runs a child process that does lighter work, for
// PERF_LENS_EXAMPLE_SECONDS seconds (default 20). Try it with F5 ("Resources example").
'use strict';
const { fork } = require('child_process');

const seconds = Number(process.env.PERF_LENS_EXAMPLE_SECONDS) || 20;
const isChild = process.argv[2] === '--child';
const kept = [];

function burn(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}

function allocate(megabytes) {
  // Filled arrays, so the memory is really resident (not just reserved).
  for (let i = 0; i < megabytes; i++) kept.push(new Array(128 * 1024).fill(i));
}

function tick(started) {
  if (Date.now() - started >= seconds * 1000) {
    console.log(`${isChild ? 'child' : 'parent'}: done, holding ${kept.length} MiB of arrays`);
    if (!isChild) process.exitCode = 0;
    return;
  }
  burn(isChild ? 20 : 90); // the parent keeps one core about 90% busy, the child about 20%
  allocate(isChild ? 1 : 2);
  setTimeout(tick, isChild ? 80 : 10, started);
}

if (!isChild) {
  const child = fork(__filename, ['--child'], { stdio: 'inherit' });
  child.on('exit', (code) => console.log(`child exited with code ${code}`));
}
console.log(`${isChild ? 'child' : 'parent'} ${process.pid}: working for ${seconds} s`);
tick(Date.now());
