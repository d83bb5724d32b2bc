/**
 * Real npm packages doing real work, instrumented (node_modules included): acorn's CommonJS dist
 * parsing a large file, semver (CommonJS, many small modules), marked (ESM, minified, ships a
 * source map whose sources are not in the package) and the TypeScript compiler (one 9 MB file). Output must be identical to a bare run and
 * the counts must match what the program itself observed.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  cliUnavailableReason, normalizeStderr, root, runBare, runCounted, runWithCli, type Counts, type RunResult,
} from './transform-harness';

const dir = path.join(root, 'test/fixtures/thirdparty');
const fixture = (name: string): string => path.join(dir, name);

function assertSameBehaviour(bare: RunResult, instrumented: RunResult): void {
  assert.equal(bare.status, 0, bare.stderr);
  assert.equal(instrumented.stdout, bare.stdout, 'stdout');
  assert.equal(normalizeStderr(instrumented.stderr), normalizeStderr(bare.stderr), 'stderr');
  assert.equal(instrumented.status, bare.status, 'exit code');
}

function counted(name: string): { bare: RunResult; run: ReturnType<typeof runCounted>; summary: Record<string, unknown> } {
  const bare = runBare(fixture(name));
  const run = runCounted(fixture(name), { scope: root, nodeModules: true });
  assertSameBehaviour(bare, run);
  assert.deepEqual(run.counts.problems, []);
  return { bare, run, summary: JSON.parse(bare.stdout.split('\n')[0]) as Record<string, unknown> };
}

/** The one function of that name declared in a file under node_modules/<pkg>. */
function fnIn(counts: Counts, pkg: string, name: string, line?: number): Counts['functions'][number] {
  const found = counts.functions.filter((f) => f.name === name && f.file.includes(`node_modules/${pkg}/`) && (line === undefined || f.line === line));
  assert.equal(found.length, 1, `${pkg}: exactly one ${name}${line ? ` at line ${line}` : ''}: ${JSON.stringify(found)}`);
  return found[0];
}

/** Calls per function, keyed by position and name, for functions that were called. */
function callsByFunction(fns: { name: string; file: string; line: number; column: number; calls: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fns) if (f.calls > 0) out[`${path.relative(root, f.file)}:${f.line}:${f.column} ${f.name}`] = f.calls;
  return out;
}

const countedRuns = new Map<string, Counts>();

/** Whether the function at `file:line:col` in typescript.js is the `(arg) => ...` called per process.execArgv entry. */
let typescriptLines: string[] | undefined;
function isExecArgvCallback(key: string): boolean {
  const [, line, column] = /:(\d+):(\d+) /.exec(key)!;
  typescriptLines ??= fs.readFileSync(path.join(root, 'node_modules/typescript/lib/typescript.js'), 'utf8').split('\n');
  const text = typescriptLines[Number(line) - 1];
  return text.lastIndexOf('process.execArgv', Number(column)) >= 0 && text.slice(Number(column) - 1).startsWith('(arg)');
}

describe('third-party packages instrumented (counting recorder)', function () {
  this.timeout(120_000);

  it('acorn (CommonJS dist) parsing 260 kB: one pp.next per token, one Node per AST node', () => {
    const { run, summary } = counted('acorn-parse.cjs');
    countedRuns.set('acorn-parse.cjs', run.counts);
    const rounds = summary.rounds as number;
    assert.ok(run.counts.instrumentedFiles.some((f) => f.endsWith('node_modules/acorn/dist/acorn.js')));
    assert.equal(fnIn(run.counts, 'acorn', 'pp.next').calls, (summary.tokensPerRound as number) * rounds);
    assert.equal(fnIn(run.counts, 'acorn', 'Token').calls, (summary.tokensPerRound as number) * rounds);
    assert.equal(fnIn(run.counts, 'acorn', 'Node').calls, (summary.nodesPerRound as number) * rounds);
    const exportedParse = run.counts.functions.filter((f) => f.name === 'parse' && f.file.endsWith('acorn.js')).pop()!;
    assert.equal(exportedParse.calls, rounds, 'the exported parse() is the last `parse` in the file');
    assert.equal(run.counts.functions.reduce((n, f) => n + f.errors, 0), 0);
  });

  it('semver (CommonJS): satisfies() exactly once per check, one failing SemVer constructor', () => {
    const { run, summary } = counted('semver-ranges.cjs');
    countedRuns.set('semver-ranges.cjs', run.counts);
    assert.ok(run.counts.instrumentedFiles.length > 20, 'semver is many small modules');
    assert.equal(fnIn(run.counts, 'semver', 'satisfies').calls, summary.satisfiesCalls);
    const ctor = fnIn(run.counts, 'semver', 'SemVer.constructor');
    assert.equal(ctor.errors, 1, 'new SemVer("not-a-version") threw once');
    assert.ok(ctor.calls > (summary.versions as number), String(ctor.calls));
    assert.equal(fnIn(run.counts, 'semver', 'Range.test').calls, fnIn(run.counts, 'semver', 'satisfies').calls + (summary.versions as number),
      'each satisfies() tests once, and maxSatisfying() tests every version');
  });

  it('typescript (one 9 MB CommonJS file): same output and diagnostics, exact calls of the compiler entry points', () => {
    const bare = runBare(fixture('typescript-check.cjs'));
    const run = runCounted(fixture('typescript-check.cjs'), { scope: root, nodeModules: true });
    assertSameBehaviour(bare, run);
    assert.match(bare.stdout, /main\.ts:4:7 TS2322 Type 'number' is not assignable to type 'string'\./);
    assert.deepEqual(run.counts.problems, []);
    countedRuns.set('typescript-check.cjs', run.counts);
    const inTs = run.counts.functions.filter((f) => f.file.endsWith('node_modules/typescript/lib/typescript.js'));
    assert.ok(inTs.length > 20_000, String(inTs.length));
    // The declarations (the bundle also has `name: () => name` export getters of the same names).
    const declared = (name: string): number => {
      const found = inTs.filter((f) => f.name === name && f.column === 1);
      assert.equal(found.length, 1, name);
      return found[0].calls;
    };
    assert.deepEqual(['transpileModule', 'getPreEmitDiagnostics', 'createCompilerHost', 'createProgram'].map(declared), [1, 1, 1, 2],
      'transpileModule() builds a program of its own');
    assert.ok(inTs.reduce((n, f) => n + f.calls, 0) > 1_000_000);
  });

  it('marked (ESM, minified, map sources not shipped): positions fall back to marked.esm.js', () => {
    const { run } = counted('marked-render.mjs');
    countedRuns.set('marked-render.mjs', run.counts);
    const markedFns = run.counts.functions.filter((f) => f.file.includes('node_modules/marked/'));
    assert.ok(markedFns.length > 150, String(markedFns.length));
    assert.ok(markedFns.every((f) => f.file.endsWith('node_modules/marked/lib/marked.esm.js')), 'no position points at the unshipped src/*.ts');
    const called = markedFns.filter((f) => f.calls > 0);
    assert.ok(called.length > 80 && called.reduce((n, f) => n + f.calls, 0) > 5000, `${called.length} functions called`);
    assert.ok(markedFns.every((f) => f.line >= 1 && f.column >= 1 && f.kind >= 0 && f.kind <= 3));
  });
});

describe('third-party packages through `perf-lens run --include-node-modules` (real runtime and CLI)', function () {
  this.timeout(180_000);

  before(function () {
    const reason = cliUnavailableReason();
    if (reason) {
      console.log(`      skipped: ${reason}`);
      this.skip();
    }
  });

  for (const name of ['acorn-parse.cjs', 'semver-ranges.cjs', 'marked-render.mjs', 'typescript-check.cjs']) {
    it(`${name}: identical behaviour, the same calls per function as the counting recorder`, () => {
      const bare = runBare(fixture(name));
      const viaCli = runWithCli(fixture(name), { includeNodeModules: true });
      assertSameBehaviour(bare, viaCli);
      const reference = countedRuns.get(name) ?? runCounted(fixture(name), { scope: root, nodeModules: true }).counts;
      const expected = callsByFunction(reference.functions);
      const actual = callsByFunction(viaCli.report.functions);
      if (name === 'typescript-check.cjs') {
        // TypeScript tests each of process.execArgv with a callback; the counting run has one more
        // (`--require` of the test runner) than `perf-lens run` (NODE_OPTIONS).
        for (const counts of [expected, actual]) {
          for (const key of Object.keys(counts)) if (/typescript\.js:\d+:\d+ <anonymous>@\d+:\d+$/.test(key) && isExecArgvCallback(key)) delete counts[key];
        }
      }
      assert.deepEqual(actual, expected);
    });
  }
});
