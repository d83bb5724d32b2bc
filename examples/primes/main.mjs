// The primes example as an ES module (.mjs): top-level await, import/export.
import { setTimeout as sleep } from 'node:timers/promises';

export function isPrime(n) {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) return false;
  }
  return true;
}

export function primesBelow(limit) {
  const out = [];
  for (let n = 2; n < limit; n++) {
    if (isPrime(n)) out.push(n);
  }
  return out;
}

const primes = primesBelow(200_000);
await sleep(20);
console.log(`primes below 200000: ${primes.length}`);
