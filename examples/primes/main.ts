// The primes example in TypeScript, run through tsx (see .vscode/launch.json).
type Limit = number;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) return false;
  }
  return true;
}

function primesBelow(limit: Limit): number[] {
  const out: number[] = [];
  for (let n = 2; n < limit; n++) {
    if (isPrime(n)) out.push(n);
  }
  return out;
}

interface Summary {
  count: number;
  largest: number;
}

function summarize(primes: readonly number[]): Summary {
  return { count: primes.length, largest: primes[primes.length - 1] ?? 0 };
}

const summary = summarize(primesBelow(200_000));
console.log(`primes below 200000: ${summary.count} (largest ${summary.largest})`);
