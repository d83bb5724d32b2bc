/**
 * Instrumentation must not change what a program does. Each fixture in test/fixtures/semantics runs
 * bare and instrumented (real node processes); stdout, stderr (minus loader frames) and the exit
 * code must be identical, stack traces keep their line:column (the fixtures print them), and each
 * function is called exactly as often as `<fixture>.expected.json` says.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  cliUnavailableReason, normalizeStderr, runBare, runCounted, runWithCli, semanticsDir, type CountedFunction, type RunResult,
} from './transform-harness';

interface Expected {
  functions: Record<string, { at: string; calls: number; errors: number }>;
}

const fixtures = fs.readdirSync(semanticsDir).filter((f) => /^[^_].*\.(c|m)?js$/.test(f)).sort();

function expectedFor(fixture: string): Expected {
  return JSON.parse(fs.readFileSync(path.join(semanticsDir, fixture.replace(/\.(c|m)?js$/, '.expected.json')), 'utf8')) as Expected;
}

function summarize(functions: CountedFunction[]): Expected['functions'] {
  const out: Expected['functions'] = {};
  for (const f of functions) {
    assert.ok(!(f.name in out), `fixture names must be unique; ${f.name} appears twice`);
    out[f.name] = { at: `${path.basename(f.file)}:${f.line}:${f.column}`, calls: f.calls, errors: f.errors };
  }
  return out;
}

function assertSameBehaviour(bare: RunResult, instrumented: RunResult): void {
  assert.ok(bare.stdout.length > 0, 'the fixture printed something');
  assert.equal(instrumented.stdout, bare.stdout, 'stdout');
  assert.equal(normalizeStderr(instrumented.stderr), normalizeStderr(bare.stderr), 'stderr');
  assert.equal(instrumented.status, bare.status, 'exit code');
}

const bareRuns = new Map<string, RunResult>();
function bare(fixture: string): RunResult {
  let r = bareRuns.get(fixture);
  if (!r) bareRuns.set(fixture, (r = runBare(path.join(semanticsDir, fixture))));
  return r;
}

describe('semantics: fixtures bare vs instrumented (counting recorder, transform bundled from source)', function () {
  this.timeout(120_000);

  it('covers CommonJS and ES modules', () => {
    assert.ok(fixtures.some((f) => f.endsWith('.cjs')) && fixtures.some((f) => f.endsWith('.mjs')), fixtures.join());
  });

  for (const fixture of fixtures) {
    it(`${fixture}: identical stdout/stderr/exit code, exact calls, errors and positions`, () => {
      const counted = runCounted(path.join(semanticsDir, fixture));
      assertSameBehaviour(bare(fixture), counted);
      assert.deepEqual(counted.counts.problems, []);
      assert.deepEqual(summarize(counted.counts.functions), expectedFor(fixture).functions);
      for (const f of counted.counts.functions) {
        // Sync calls always reach their finally (even when they throw); async ones settle before exit here.
        if (f.kind === 0 || f.kind === 1) assert.equal(f.ends, f.calls, `${f.name}: every call ended`);
      }
    });
  }
});

describe('semantics: fixtures bare vs `perf-lens run` (real runtime and CLI)', function () {
  this.timeout(120_000);

  before(function () {
    const reason = cliUnavailableReason();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
  });

  for (const fixture of fixtures) {
    it(`${fixture}: identical behaviour, exact calls per function in r.json`, () => {
      const viaCli = runWithCli(path.join(semanticsDir, fixture));
      assertSameBehaviour(bare(fixture), viaCli);
      const expected = expectedFor(fixture).functions;
      const actual: Record<string, { at: string; calls: number; errors: number }> = {};
      for (const f of viaCli.report.functions) {
        if (f.calls === 0) continue;
        actual[f.name] = { at: `${path.basename(f.file)}:${f.line}:${f.column}`, calls: f.calls, errors: f.errors };
      }
      const called = Object.fromEntries(Object.entries(expected).filter(([, e]) => e.calls > 0));
      assert.deepEqual(actual, called);
    });
  }
});
