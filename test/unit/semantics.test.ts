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

/**
 * A fixture file run under some node flags. TypeScript fixtures run through the loaders people
 * use: tsx and ts-node hand Node JavaScript with an inline source map, which the transform maps
 * positions through and composes with its own edits (their stack traces must not change).
 */
interface Fixture {
  title: string;
  file: string;
  nodeArgs: string[];
  /**
   * false: compare stack-trace lines but not columns. ts-node maps frames with its own copy of the
   * map (source-map-support over its compile cache), not the composed map in the code, so a frame
   * on a line with an insertion (`return f()`) keeps the shifted column (documented limitation).
   */
  exactColumns: boolean;
  /** Expected counts: `<name>.expected.json`, or `<name>.<loader>.expected.json` (loaders emit different helpers). */
  expected: string;
}

const fixtures: Fixture[] = fs.readdirSync(semanticsDir).filter((f) => /^[^_].*\.(c|m)?[jt]s$/.test(f)).sort().flatMap((f) => {
  const base = f.replace(/\.(c|m)?[jt]s$/, '');
  if (!f.endsWith('.ts')) return [{ title: f, file: f, nodeArgs: [], exactColumns: true, expected: `${base}.expected.json` }];
  return [
    { title: `${f} (tsx)`, file: f, nodeArgs: ['--require', 'tsx/cjs'], exactColumns: true, expected: `${base}.tsx.expected.json` },
    {
      title: `${f} (ts-node)`, file: f, nodeArgs: ['--require', 'ts-node/register/transpile-only'], exactColumns: false,
      expected: `${base}.ts-node.expected.json`,
    },
  ];
});

function expectedFor(fixture: Fixture): Expected {
  return JSON.parse(fs.readFileSync(path.join(semanticsDir, fixture.expected), 'utf8')) as Expected;
}

function summarize(functions: CountedFunction[]): Expected['functions'] {
  const out: Expected['functions'] = {};
  for (const f of functions) {
    assert.ok(!(f.name in out), `fixture names must be unique; ${f.name} appears twice`);
    out[f.name] = { at: `${path.basename(f.file)}:${f.line}:${f.column}`, calls: f.calls, errors: f.errors };
  }
  return out;
}

function assertSameBehaviour(bare: RunResult, instrumented: RunResult, exactColumns = true): void {
  const lines = (s: string): string => (exactColumns ? s : s.replace(/(\.ts:\d+):\d+/g, '$1'));
  assert.ok(bare.stdout.length > 0, 'the fixture printed something');
  assert.equal(lines(instrumented.stdout), lines(bare.stdout), 'stdout');
  assert.equal(lines(normalizeStderr(instrumented.stderr)), lines(normalizeStderr(bare.stderr)), 'stderr');
  assert.equal(instrumented.status, bare.status, 'exit code');
}

const bareRuns = new Map<string, RunResult>();
function bare(fixture: Fixture): RunResult {
  let r = bareRuns.get(fixture.title);
  if (!r) bareRuns.set(fixture.title, (r = runBare(path.join(semanticsDir, fixture.file), { nodeArgs: fixture.nodeArgs })));
  return r;
}

describe('semantics: fixtures bare vs instrumented (counting recorder, transform bundled from source)', function () {
  this.timeout(120_000);

  it('covers CommonJS and ES modules', () => {
    const files = fixtures.map((f) => f.file);
    assert.ok(['.cjs', '.mjs', '.ts'].every((ext) => files.some((f) => f.endsWith(ext))), files.join());
  });

  for (const fixture of fixtures) {
    it(`${fixture.title}: identical stdout/stderr/exit code, exact calls, errors and positions`, () => {
      const counted = runCounted(path.join(semanticsDir, fixture.file), { nodeArgs: fixture.nodeArgs });
      assertSameBehaviour(bare(fixture), counted, fixture.exactColumns);
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
    it(`${fixture.title}: identical behaviour, exact calls per function in r.json`, () => {
      const viaCli = runWithCli(path.join(semanticsDir, fixture.file), { nodeArgs: fixture.nodeArgs });
      assertSameBehaviour(bare(fixture), viaCli, fixture.exactColumns);
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
