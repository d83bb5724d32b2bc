// A small CPU-bound program used by the README, demos and tests.
'use strict';

function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) return false;
  }
  return true;
}

function primesBelow(limit) {
  const out = [];
  for (let n = 2; n < limit; n++) {
    if (isPrime(n)) out.push(n);
  }
  return out;
}

class Stats {
  constructor(values) {
    this.values = values;
  }

  get mean() {
    return this.values.reduce((a, b) => a + b, 0) / this.values.length;
  }

  gaps() {
    return this.values.slice(1).map((v, i) => v - this.values[i]);
  }
}

async function main() {
  const primes = primesBelow(200_000);
  const stats = new Stats(primes);
  const gaps = new Stats(stats.gaps());
  await new Promise((resolve) => setTimeout(resolve, 20));
  console.log(`primes below 200000: ${primes.length}`);
  console.log(`mean prime: ${stats.mean.toFixed(1)}, mean gap: ${gaps.mean.toFixed(2)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
