/**
 * Unit tests of the transform's output: no newline ever inserted, original text intact around the
 * insertions, names, positions, directives, hashbang, every function form, source maps (real maps
 * made by esbuild), the on-disk cache, and clear failures on code it cannot parse.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
import * as acorn from 'acorn';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import { FnKind, type FnTuple } from '../../src/runtime/node/abi';
import { defaultCacheDir, instrumentSource, type InstrumentOptions } from '../../src/runtime/node/instrument';
import { INSTRUMENTED_MARK, lineStartsOf, transform } from '../../src/runtime/node/transform';
import { findMapComment } from '../../src/runtime/node/source-maps';
import { root, tempDir } from './transform-harness';

const cjs: InstrumentOptions = { format: 'commonjs', cacheDir: null };
const esm: InstrumentOptions = { format: 'module', cacheDir: null };

/** FILES and FNS from an instrumented file's prologue (the arguments of its `.file(...)` call). */
function prologueOf(code: string): { files: string[]; fns: FnTuple[] } {
  const at = code.indexOf(').file([');
  assert.ok(at > 0 && code.lastIndexOf(INSTRUMENTED_MARK, at) >= 0, 'an instrumented file');
  const args = acorn.parseExpressionAt(code, at + ').file('.length, { ecmaVersion: 'latest' });
  if (args.type !== 'SequenceExpression') throw new Error(`unexpected ${args.type} in the prologue`);
  const [files, fns] = args.expressions;
  return { files: JSON.parse(code.slice(files.start, files.end)) as string[], fns: JSON.parse(code.slice(fns.start, fns.end)) as FnTuple[] };
}

function names(code: string, format: 'commonjs' | 'module' = 'commonjs'): string[] {
  return transform(code, format).fns.map((f) => f.name);
}

/** Removes everything the transform inserts, so the rest can be compared with the original line. */
function stripInsertions(line: string): string {
  const noop = String.raw`\{file:function\(f,n\)\{var z=function\(\)\{return 0\},c=new Float64Array\(n\.length\),a=new Float64Array\(1\);return\{c:c,m:new Float64Array\(n\.length\),a:a,t:z,ta:z,d:function\(\)\{return a\},s:z,r:z,sa:z,ra:z,e:z\}\}\}`;
  const register = String.raw`\(globalThis\[Symbol\.for\("perf-lens\.runtime"\)\]\|\|${noop}\)\.file\(\[.*?\],\[(?:\[.*?\])?\]\)`;
  const start = String.raw`--(?:__pl\$c|\(__pl\$c\|\|__pl\$f\(\)\.c\))\[(\d+)\]===0\?__pl\$\.(?:t\(\1\):-1|ta\(\1\):0)`;
  const end = String.raw`(?:catch\(__e\$\)\{__pl\$\.e\(\d+\);throw __e\$\})?finally\{(?:\(__o\$===0\|\|__t\$!==-1\?__pl\$\.d\((\d+),__t\$,__o\$\):__pl\$a\)\[0\]\+=__pl\$m\[\1\]|__o\$===0\|\|__t\$!==0\?__pl\$\.ra\(\d+,__t\$,__o\$\):0)\}`;
  return line
    .replace(new RegExp(String.raw`var __pl\$=${register},__pl\$c=__pl\$\.c,__pl\$m=__pl\$\.m,__pl\$a=__pl\$\.a;`), '')
    .replace(new RegExp(String.raw`var __pl\$=\(globalThis\[Symbol\.for\("perf-lens\.runtime"\)\],__pl\$f\(\)\),__pl\$c,__pl\$m,__pl\$a;function __pl\$f\(\)\{if\(!__pl\$\)\{__pl\$=${register};__pl\$c=__pl\$\.c;__pl\$m=__pl\$\.m;__pl\$a=__pl\$\.a\}return __pl\$\}`), '')
    .replace(new RegExp(String.raw`\{const __t\$=${start};let __o\$=0,__v\$;try\{return __v\$=\(`, 'g'), '')
    .replace(new RegExp(String.raw`const __t\$=${start};let __o\$=0,__v\$;try\{`, 'g'), '')
    .replace(new RegExp(String.raw`\),__o\$=1,__v\$(?:\)|\}${end}\})?`, 'g'), '')
    .replace(new RegExp(String.raw`;__o\$=1\}${end}`, 'g'), '')
    .replace(/\(__v\$=\(/g, '')
    .replace(/ \(__o\$=1,void 0\)/g, '');
}

function assertOnlyInsertions(original: string, instrumented: string, format: 'commonjs' | 'module' = 'commonjs'): void {
  const before = original.split(/\r\n?|\n/);
  const after = instrumented.split(/\r\n?|\n/);
  assert.equal(after.length, before.length, 'line count');
  // Every line starts with its original text up to the first insertion on it.
  const t = transform(original, format);
  const starts = lineStartsOf(original);
  const firstInsertion = new Map<number, number>();
  for (const ins of [...t.insertions, { pos: t.prologuePos, text: '' }]) {
    let line = starts.findIndex((s, i) => ins.pos >= s && (i + 1 === starts.length || ins.pos < starts[i + 1]));
    if (line < 0) line = starts.length - 1;
    const col = ins.pos - starts[line];
    firstInsertion.set(line, Math.min(firstInsertion.get(line) ?? Infinity, col));
  }
  for (let i = 0; i < before.length; i++) {
    const prefix = before[i].slice(0, firstInsertion.get(i) ?? before[i].length);
    assert.ok(after[i].startsWith(prefix), `line ${i + 1} keeps its text up to the first insertion:\n${before[i]}\n${after[i]}`);
    assert.equal(stripInsertions(after[i]), before[i], `line ${i + 1} is the original plus insertions only`);
  }
}

const EVERY_FORM = `'use strict';
function declared(a, b) { return a + b; }
const expr = function () { return 1; };
const arrow = (x) => x * 2;
const arrowBlock = async (x) => { await x; return; };
class Base {
  static count = 0;
  field = () => this;
  static staticField = () => 1;
  static { Base.count = 1; }
  constructor(x) { this.x = x; }
  method() { return this.x; }
  static make() { return new Base(1); }
  get prop() { return 1; }
  set prop(v) { this.x = v; }
  static get sprop() { return 2; }
  #priv() { return 3; }
  *gen() { yield 1; }
  async am() { return 1; }
  async *ag() { yield 1; }
  [Symbol.iterator]() { return [][Symbol.iterator](); }
  [\`\${'very'}\${'long'}\${'computed'}\${'key'}\${'expression'}\`]() {}
}
class Derived extends Base {
  constructor() {
    super(2);
  }
}
const obj = { m() { return 1; }, p: function () {}, a: () => 2, get g() { return 1; }, 'str-key'() {}, 7() {}, inner: { deep() {} } };
module.exports.exported = function () {};
exports.short = () => {};
Base.prototype.legacy = function () {};
this.onThis = function () {};
function withDefault(cb = () => 1) { return cb(); }
[1, 2].map((x) => x + 1);
const C = class { m() {} };
function* g() {}
async function af() {}
async function* agf() {}
module.exports = { fromExports() {} };
`;

describe('transform: output shape', () => {
  it('never inserts a newline and keeps every original line intact around the insertions', () => {
    const out = instrumentSource(EVERY_FORM, '/app/every.js', cjs);
    assert.ok(out.fnCount > 35, String(out.fnCount));
    assertOnlyInsertions(EVERY_FORM, out.code);
  });

  it('keeps lines intact on a large real file (acorn dist), CRLF and U+2028 files too', () => {
    const acornDist = fs.readFileSync(require.resolve('acorn'), 'utf8');
    const out = instrumentSource(acornDist, '/app/acorn.js', cjs);
    assert.ok(out.fnCount > 300, String(out.fnCount));
    assertOnlyInsertions(acornDist, out.code);
    const acornEsm = fs.readFileSync(path.join(path.dirname(require.resolve('acorn')), 'acorn.mjs'), 'utf8');
    assertOnlyInsertions(acornEsm, instrumentSource(acornEsm, '/app/acorn.mjs', esm).code, 'module');
    const crlf = 'function a() {\r\n  return 1;\r\n}\r\nconst b = () =>\r\n  2;\r\n';
    const crlfOut = instrumentSource(crlf, '/app/crlf.js', cjs).code;
    assert.equal(crlfOut.split('\r\n').length, crlf.split('\r\n').length);
    assert.ok(!/[^\r]\n/.test(crlfOut), 'no bare LF added');
    const ls = 'const s = "a\u2028b";\nfunction f() { return s; }\n';
    const lsOut = instrumentSource(ls, '/app/ls.js', cjs).code;
    assert.equal(lsOut.split('\n').length, ls.split('\n').length);
    assert.equal(prologueOf(lsOut).fns[0][2], 3, 'V8 counts U+2028 as a line break in stack traces, so do we');
  });

  it('columns of a multi-line function body do not move; a `{` line and `return` lines do', () => {
    const src = 'function f(x) {\n  const y = x + 1;\n  if (y) throw new Error(y);\n  return y;\n}\n';
    const lines = instrumentSource(src, '/app/f.js', cjs).code.split('\n');
    assert.equal(lines[1], '  const y = x + 1;');
    assert.equal(lines[2], '  if (y) throw new Error(y);');
    assert.equal(lines[3], '  return (__v$=(y),__o$=1,__v$);');
    assert.equal(lines[4], ';__o$=1}finally{(__o$===0||__t$!==-1?__pl$.d(0,__t$,__o$):__pl$a)[0]+=__pl$m[0]}}');
  });

  it('wraps bodies per abi.ts: inline countdown + t/r for sync, ta/ra for async, ta/ra + catch/e for generators', () => {
    const out = instrumentSource('function s(){}\nasync function a(){}\nfunction* g(){}\nasync function* ag(){}\n', '/app/k.js', cjs).code;
    const lines = out.split('\n');
    assert.ok(lines[0].endsWith('function s(){const __t$=--__pl$c[0]===0?__pl$.t(0):-1;let __o$=0,__v$;try{;__o$=1}finally{(__o$===0||__t$!==-1?__pl$.d(0,__t$,__o$):__pl$a)[0]+=__pl$m[0]}}'), lines[0]);
    assert.equal(lines[1], 'async function a(){const __t$=--__pl$c[1]===0?__pl$.ta(1):0;let __o$=0,__v$;try{;__o$=1}finally{__o$===0||__t$!==0?__pl$.ra(1,__t$,__o$):0}}');
    assert.equal(lines[2], 'function* g(){const __t$=--__pl$c[2]===0?__pl$.ta(2):0;let __o$=0,__v$;try{;__o$=1}catch(__e$){__pl$.e(2);throw __e$}finally{__o$===0||__t$!==0?__pl$.ra(2,__t$,__o$):0}}');
    assert.equal(lines[3], 'async function* ag(){const __t$=--__pl$c[3]===0?__pl$.ta(3):0;let __o$=0,__v$;try{;__o$=1}catch(__e$){__pl$.e(3);throw __e$}finally{__o$===0||__t$!==0?__pl$.ra(3,__t$,__o$):0}}');
    assert.deepEqual(prologueOf(out).fns.map((f) => f[4]), [FnKind.Sync, FnKind.Async, FnKind.Generator, FnKind.AsyncGenerator]);
  });

  it('rewrites returns of the function they belong to, and only those', () => {
    const src = 'function outer() { const inner = () => { return 1; }; return inner() + (() => 2)(); }\nreturn 5;\n';
    const out = instrumentSource(src, '/app/r.js', cjs).code;
    assert.ok(out.includes('{const __t$=--__pl$c[1]===0?__pl$.t(1):-1;let __o$=0,__v$;try{ return (__v$=(1),__o$=1,__v$);'), out);
    assert.ok(out.includes('return (__v$=(inner() + (() =>{const __t$=--__pl$c[2]===0?__pl$.t(2):-1;let __o$=0,__v$;try{return __v$=( 2),__o$=1,__v$}finally{(__o$===0||__t$!==-1?__pl$.d(2,__t$,__o$):__pl$a)[0]+=__pl$m[2]}})()),__o$=1,__v$);'), out);
    assert.ok(out.endsWith('\nreturn 5;\n'), 'a CommonJS top-level return is left alone');
  });

  it('wraps expression-bodied arrows right after `=>`, also around parenthesised objects and nested arrows', () => {
    const out = instrumentSource('const o = () => ({ a: 1 });\nconst c = a => b =>\n  a + b;\n', '/app/a.js', cjs).code.split('\n');
    assert.ok(out[0].endsWith('const o = () =>{const __t$=--__pl$c[0]===0?__pl$.t(0):-1;let __o$=0,__v$;try{return __v$=( ({ a: 1 })),__o$=1,__v$}finally{(__o$===0||__t$!==-1?__pl$.d(0,__t$,__o$):__pl$a)[0]+=__pl$m[0]}};'), out[0]);
    assert.equal(out[2], '  a + b),__o$=1,__v$}finally{(__o$===0||__t$!==-1?__pl$.d(2,__t$,__o$):__pl$a)[0]+=__pl$m[2]}}),__o$=1,__v$}finally{(__o$===0||__t$!==-1?__pl$.d(1,__t$,__o$):__pl$a)[0]+=__pl$m[1]}};');
    const run = vm.runInNewContext(`${out.join('\n')}; [o().a, c(1)(2)]`) as number[];
    assert.deepEqual([...run], [1, 3]);
  });

  it('keeps directive prologues first: program, functions, directives without a semicolon', () => {
    const src = '"use strict"\n\'use asm\';\nfunction f() {\n  "use strict"\n  return this;\n}\nfunction g() { \'use strict\'; return 1 }\n';
    const out = instrumentSource(src, '/app/d.js', cjs).code.split('\n');
    assert.equal(out[0], '"use strict"');
    assert.ok(out[1].startsWith("'use asm';var __pl$="), out[1]);
    assert.equal(out[3], '  "use strict";const __t$=--__pl$c[0]===0?__pl$.t(0):-1;let __o$=0,__v$;try{');
    assert.ok(out[6].startsWith("function g() { 'use strict';const __t$=--__pl$c[1]===0?__pl$.t(1):-1;"), out[6]);
    const program = acorn.parse(out.join('\n'), { ecmaVersion: 'latest' });
    assert.equal((program.body[0] as acorn.ExpressionStatement).directive, 'use strict');
    assert.equal((program.body[1] as acorn.ExpressionStatement).directive, 'use asm');
    assert.equal(vm.runInNewContext(`${out.join('\n')}; f()`), undefined, 'f is still strict');
  });

  it('puts the prologue on line 2 after a hashbang and leaves line 1 alone', () => {
    const src = '#!/usr/bin/env node\nconst f = () => 1;\n';
    const out = instrumentSource(src, '/app/bin.js', cjs).code.split('\n');
    assert.equal(out[0], '#!/usr/bin/env node');
    assert.ok(out[1].startsWith('var __pl$=') && out[1].endsWith('const f = () =>{const __t$=--__pl$c[0]===0?__pl$.t(0):-1;let __o$=0,__v$;try{return __v$=( 1),__o$=1,__v$}finally{(__o$===0||__t$!==-1?__pl$.d(0,__t$,__o$):__pl$a)[0]+=__pl$m[0]}};'), out[1]);
    const withDirective = instrumentSource('#!/usr/bin/env node\n"use strict";\nfunction f() {}\n', '/app/bin2.js', cjs).code.split('\n');
    assert.ok(withDirective[1].startsWith('"use strict";var __pl$='), withDirective[1]);
  });

  it('ES modules register lazily, once, so a hoisted function called before the prologue (import cycle) works', () => {
    const out = instrumentSource('function early() { return 1; }\nfunction late() { return 2; }\n', '/app/cycle.mjs', esm).code;
    assert.ok(out.startsWith(INSTRUMENTED_MARK), out);
    assert.ok(out.includes('function early() {const __t$=--(__pl$c||__pl$f().c)[0]===0?__pl$.t(0):-1;'), out);
    const registered: string[][] = [];
    const calls: number[] = [];
    const sandbox: Record<string | symbol, unknown> = {};
    sandbox[Symbol.for('perf-lens.runtime')] = {
      file: (files: string[]) => {
        registered.push(files);
        // Countdowns set back to 1 at every start: every call reaches t().
        const c = new Float64Array(2).fill(1);
        const t = (i: number) => { c[i] = 1; calls.push(i); return 1; };
        const a = new Float64Array(1);
        return { c, m: new Float64Array(2), a, t, ta: t, s: t, d: () => a, r: () => undefined, sa: t, ra: () => undefined, e: () => undefined };
      },
    };
    // Function declarations are hoisted above the prologue, as a cyclic import would see them.
    vm.runInNewContext(`var before = early();\n${out}\nvar after = [early(), late()];`, sandbox);
    assert.equal(registered.length, 1, 'file() called once');
    assert.deepEqual(calls, [0, 0, 1]);
    assert.deepEqual([sandbox.before, ...(sandbox.after as number[])], [1, 1, 2]);
  });

  it('leaves alone a body that declares functions and calls eval directly (eval var would clash)', () => {
    const src = [
      'function clash() { function g() {} eval("var g = 1"); return g; }',
      'function onlyEval() { return eval("1 + 1"); }',
      'function indirect() { function g() {} (0, eval)("1"); return g; }',
      'function nested() { function g() {} return () => eval("g"); }',
      '',
    ].join('\n');
    const out = instrumentSource(src, '/app/eval.js', cjs).code;
    assert.deepEqual(prologueOf(out).fns.map((f) => f[0]), ['g', 'onlyEval', 'indirect', 'g', 'nested', 'g', '<anonymous>@4:44']);
    assert.ok(out.split('\n')[0].endsWith('function clash() { function g() {const __t$=--__pl$c[0]===0?__pl$.t(0):-1;let __o$=0,__v$;try{;__o$=1}finally{(__o$===0||__t$!==-1?__pl$.d(0,__t$,__o$):__pl$a)[0]+=__pl$m[0]}} eval("var g = 1"); return g; }'));
    assert.equal(vm.runInNewContext(`${out}\nclash()`), 1);
  });

  it('runs without the runtime global (the inline no-op recorder) and keeps results', () => {
    const out = instrumentSource(EVERY_FORM, '/app/every.js', cjs).code;
    const module = { exports: {} as Record<string, unknown> };
    vm.runInNewContext(out, { module, exports: module.exports });
    assert.deepEqual(Object.keys(module.exports), ['fromExports']);
  });

  it('calls the runtime global registered under Symbol.for("perf-lens.runtime")', () => {
    const out = instrumentSource('function f(n) { return n < 2 ? n : f(n - 1) + f(n - 2); }\nresult = f(10);\n', '/app/fib.js', cjs).code;
    const calls: number[] = [];
    const sandbox: Record<string | symbol, unknown> = {};
    sandbox[Symbol.for('perf-lens.runtime')] = {
      file: (files: string[], fns: FnTuple[]) => {
        assert.equal(JSON.stringify([files, fns]), JSON.stringify([['/app/fib.js'], [['f', 0, 1, 1, FnKind.Sync]]]));
        // The countdown is set back to 1 at every start: every call takes the timed path (t, then r).
        const c = new Float64Array(1).fill(1);
        const t = (i: number) => { c[i] = 1; calls.push(i); return 7; };
        const scratch = new Float64Array(1);
        const d = (i: number, tok: number, ok: number) => { ends++; assert.ok(i === 0 && tok === 7 && ok === 1); return scratch; };
        return { c, m: new Float64Array(1), a: new Float64Array(1), t, ta: () => 0, s: t, d, r: () => assert.fail('the inline tail calls d'), sa: () => 0, ra: () => undefined, e: () => undefined };
      },
    };
    let ends = 0;
    vm.runInNewContext(out, sandbox);
    assert.equal(sandbox.result, 55);
    assert.equal(calls.length, 177);
    assert.equal(ends, 177);
  });

  it('returns code without functions unchanged, and does not instrument twice', () => {
    const plain = 'const a = 1;\nconsole.log(a);\n';
    assert.deepEqual(instrumentSource(plain, '/app/p.js', cjs), { code: plain, fnCount: 0, cached: false });
    const once = instrumentSource('function f() {}\n', '/app/o.js', cjs);
    const twice = instrumentSource(once.code, '/app/o.js', cjs);
    assert.equal(twice.code, once.code);
  });
});

describe('transform: real packages', function () {
  this.timeout(120_000);

  /** The module format Node gives a file: its extension, else the nearest package.json `type`. */
  function formatOf(file: string): 'commonjs' | 'module' {
    if (file.endsWith('.mjs')) return 'module';
    if (file.endsWith('.cjs')) return 'commonjs';
    for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const pkg = path.join(dir, 'package.json');
      if (fs.existsSync(pkg)) return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module' ? 'module' : 'commonjs';
    }
    return 'commonjs';
  }

  it('turns every file of eslint, ajv, tsx and typescript-estree into code that parses, line for line', () => {
    let files = 0;
    let functions = 0;
    for (const pkg of ['eslint', 'ajv', 'tsx', '@typescript-eslint/typescript-estree']) {
      const dir = path.join(root, 'node_modules', pkg);
      for (const rel of fs.readdirSync(dir, { recursive: true }).map(String)) {
        if (!/\.[cm]?js$/.test(rel) || rel.split(path.sep).includes('node_modules')) continue;
        const file = path.join(dir, rel);
        const code = fs.readFileSync(file, 'utf8');
        const format = formatOf(file);
        const out = instrumentSource(code, file, { format, cacheDir: null });
        acorn.parse(out.code, { ecmaVersion: 'latest', sourceType: format === 'module' ? 'module' : 'script', allowHashBang: true, allowReturnOutsideFunction: format === 'commonjs' });
        assert.equal(out.code.split('\n').length, code.split('\n').length, file);
        files++;
        functions += out.fnCount;
      }
    }
    assert.ok(files > 500 && functions > 5000, `${files} files, ${functions} functions`);
  });
});

describe('transform: names and positions', () => {
  it('names every function form readably', () => {
    assert.deepEqual(names(EVERY_FORM), [
      'declared', 'expr', 'arrow', 'arrowBlock',
      'Base.field', 'static Base.staticField', 'Base.<static>', 'Base.constructor', 'Base.method', 'static Base.make',
      'get Base.prop', 'set Base.prop', 'static get Base.sprop', 'Base.#priv', 'Base.gen', 'Base.am', 'Base.ag',
      'Base[Symbol.iterator]', 'Base[computed]@22:4', 'Derived.constructor',
      'obj.m', 'obj.p', 'obj.a', 'get obj.g', 'obj.str-key', 'obj.7', 'obj.inner.deep',
      'exported', 'short', 'Base.legacy', 'onThis', 'withDefault', 'cb', '<anonymous>@35:12', 'C.m', 'g', 'af', 'agf', 'fromExports',
    ]);
  });

  it('names ESM default exports, named function expressions and class expressions', () => {
    assert.deepEqual(names('export default function () {}\nexport const x = function named() {};\nexport const K = class { static s() {} };\n', 'module'),
      ['default', 'named', 'static K.s']);
    assert.deepEqual(names('export default () => {};\nexport default class { m() {} }\n'.split('\n')[0], 'module'), ['default']);
    assert.deepEqual(names('export default class { m() {} }', 'module'), ['default.m']);
  });

  it('reports 1-based line and column of the function start (methods: incl. static/async/get)', () => {
    const src = 'class A {\n  static async m() {}\n  get p() { return 1; }\n}\nconst f =\n    () => 1;\n\tfunction t() {}\n';
    const { fns } = prologueOf(instrumentSource(src, '/app/pos.js', cjs).code);
    assert.deepEqual(fns.map(([name, , line, column]) => [name, line, column]), [
      ['static A.m', 2, 3], ['get A.p', 3, 3], ['f', 6, 5], ['t', 7, 2],
    ]);
  });

  it('counts columns in UTF-16 units, like V8 stack traces', () => {
    const src = 'const s = "😀"; const f = () => 1;\n';
    const { fns } = prologueOf(instrumentSource(src, '/app/u.js', cjs).code);
    assert.equal(fns[0][3], src.indexOf('()') + 1);
  });
});

describe('transform: source maps', function () {
  this.timeout(60_000);
  const TS = [
    'interface Point { x: number; y: number }',
    '',
    'export function norm(p: Point): number {',
    '  return Math.sqrt(p.x * p.x + p.y * p.y);',
    '}',
    '',
    'export class Shape {',
    '  constructor(private readonly name: string) {}',
    '',
    '  describe(): string {',
    '    if (this.name === "bad") {',
    '      throw new Error("bad shape");',
    '    }',
    '    return `shape ${this.name}`;',
    '  }',
    '}',
    '',
    'console.log(norm({ x: 3, y: 4 }), new Shape("square").describe());',
    'new Shape("bad").describe();',
    '',
  ].join('\n');

  function compiled(dir: string, sourcemap: 'inline' | 'external'): { tsFile: string; jsFile: string; js: string } {
    const tsFile = path.join(dir, 'shape.ts');
    const jsFile = path.join(dir, 'shape.js');
    fs.writeFileSync(tsFile, TS);
    const r = esbuild.transformSync(TS, { loader: 'ts', format: 'cjs', sourcemap, sourcefile: tsFile, target: 'node18' });
    let js = r.code;
    if (sourcemap === 'external') {
      fs.writeFileSync(path.join(dir, 'maps', 'shape.js.map'), r.map, { flag: 'w' });
      js += '//# sourceMappingURL=maps/shape.js.map\n';
    }
    fs.writeFileSync(jsFile, js);
    return { tsFile, jsFile, js };
  }

  it('maps function positions through an inline map to the TypeScript file', () => {
    const dir = tempDir('maps');
    const { tsFile, jsFile, js } = compiled(dir, 'inline');
    const out = instrumentSource(js, jsFile, cjs);
    const { files, fns } = prologueOf(out.code);
    const byName = new Map(fns.map((f) => [f[0], f])); // later entries win: `norm` the declaration, not the export getter
    assert.equal(files[byName.get('norm')![1]], tsFile);
    assert.deepEqual(byName.get('norm')!.slice(2, 4), [3, 8], 'export function norm -> the `function` keyword in TS');
    assert.deepEqual(byName.get('Shape.describe')!.slice(2, 4), [10, 3]);
    assert.deepEqual(byName.get('Shape.constructor')!.slice(2, 4), [8, 3]);
  });

  it('replaces the map comment with a composed inline map: --enable-source-maps still shows TS positions', () => {
    const dir = tempDir('maps');
    const { jsFile, js } = compiled(dir, 'inline');
    const out = instrumentSource(js, jsFile, cjs);
    const comment = findMapComment(out.code);
    assert.ok(comment?.url.startsWith('data:application/json;charset=utf-8;base64,'));
    assert.equal(out.code.split('\n').length, js.split('\n').length);
    const instrumentedFile = path.join(dir, 'instrumented.js');
    // Same directory and name would clash with shape.js; the map's sources are absolute.
    fs.writeFileSync(instrumentedFile, out.code);
    const bare = spawnSync(process.execPath, ['--enable-source-maps', jsFile], { encoding: 'utf8' });
    const inst = spawnSync(process.execPath, ['--enable-source-maps', instrumentedFile], { encoding: 'utf8' });
    assert.equal(inst.stdout, bare.stdout);
    const tsFrames = (s: string): string[] => s.split('\n').filter((l) => l.includes('shape.ts:')).map((l) => l.trim());
    assert.ok(tsFrames(bare.stderr).length >= 2, bare.stderr);
    assert.deepEqual(tsFrames(inst.stderr), tsFrames(bare.stderr));
    assert.ok(tsFrames(inst.stderr).some((l) => l.includes('at Shape.describe (') && l.includes('shape.ts:12:13')), inst.stderr);
    // Columns on lines with insertions are mapped exactly too.
    const map = new TraceMap(JSON.parse(Buffer.from(comment!.url.split(',')[1], 'base64').toString()) as string);
    const lines = out.code.split('\n');
    const retLine = lines.findIndex((l) => l.includes('Math.sqrt'));
    const pos = originalPositionFor(map, { line: retLine + 1, column: lines[retLine].indexOf('Math.sqrt') });
    assert.deepEqual([pos.line, pos.column], [4, 9]);
  });

  it('leaves code the map does not cover (loader helpers) alone, and names keepNames-wrapped functions', () => {
    const dir = tempDir('maps');
    const tsFile = path.join(dir, 'keep.ts');
    const ts = 'export class Keep {\n  static { void 0; }\n  m(): number {\n    return 1;\n  }\n}\nexport const arrow = (x: number): number => x + 1;\n';
    fs.writeFileSync(tsFile, ts);
    // What tsx hands Node: esbuild output with keepNames (`__name` helper, injected static blocks).
    const js = esbuild.transformSync(ts, { loader: 'ts', format: 'cjs', sourcemap: 'inline', sourcefile: tsFile, keepNames: true, target: 'node20' }).code;
    assert.ok(js.includes('var __name = (') && js.includes('static {\n    __name(this, "Keep");'), js);
    const out = instrumentSource(js, tsFile, cjs).code;
    const { fns } = prologueOf(out);
    // No `Keep`/`arrow` export getters (esbuild maps them to 1:1), no injected `static { __name(...) }`;
    // esbuild has no segment on the arrow's `(`, so its start maps to the first one inside: `x`.
    assert.deepEqual(fns.map(([name, , line, column]) => [name, line, column]), [['Keep.<static>', 2, 3], ['Keep.m', 3, 3], ['arrow', 7, 23]]);
    const helper = out.split('\n').find((l) => l.startsWith('var __name = ('))!;
    assert.ok(!helper.includes('__pl$') && !helper.includes('__v$'), `helpers are not instrumented: ${helper}`);
  });

  it('reads a map file named relative to the source file', () => {
    const dir = tempDir('maps');
    fs.mkdirSync(path.join(dir, 'maps'));
    const { tsFile, jsFile, js } = compiled(dir, 'external');
    const warnings: string[] = [];
    const out = instrumentSource(js, jsFile, { ...cjs, warn: (m) => warnings.push(m) });
    const { files, fns } = prologueOf(out.code);
    assert.deepEqual(warnings, []);
    assert.equal(files[fns.filter((f) => f[0] === 'norm').pop()![1]], tsFile);
    assert.ok(findMapComment(out.code)?.url.startsWith('data:'), 'replaced with the composed inline map');
  });

  it('ignores a missing map file and the string sourceMappingURL inside code, silently', () => {
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    const missing = 'function f() {}\n//# sourceMappingURL=does-not-exist.js.map\n';
    const out = instrumentSource(missing, path.join(tempDir('maps'), 'm.js'), { ...cjs, warn });
    assert.ok(out.code.endsWith('//# sourceMappingURL=does-not-exist.js.map\n'), 'comment left as it was');
    assert.equal(prologueOf(out.code).fns[0][2], 1);
    const inString = 'const s = `\n//# sourceMappingURL=data:application/json;base64,e30=\n`;\nfunction f() { return s; }\n';
    const out2 = instrumentSource(inString, '/app/s.js', { ...cjs, warn });
    assert.ok(out2.code.includes('//# sourceMappingURL=data:application/json;base64,e30=\n`'), 'code string untouched');
    const inTemplateAtEnd = 'function f() { return 1; }\nconst s = `\n//# sourceMappingURL=data:application/json;base64,e30=\n`';
    assert.ok(instrumentSource(inTemplateAtEnd, '/app/t.js', { ...cjs, warn }).code.endsWith('e30=\n`'));
    assert.deepEqual(warnings, []);
  });

  it('falls back to the JavaScript position when the original file is not on disk (sourcesContent only)', () => {
    const dir = tempDir('maps');
    const r = esbuild.transformSync(TS, { loader: 'ts', format: 'cjs', sourcemap: 'inline', sourcefile: path.join(dir, 'gone.ts') });
    const jsFile = path.join(dir, 'gone.js');
    const { files, fns } = prologueOf(instrumentSource(r.code, jsFile, cjs).code);
    assert.deepEqual(files, [jsFile]);
    const norm = fns.filter((f) => f[0] === 'norm').pop()!; // the declaration, not esbuild's export getter
    const line = r.code.split('\n').findIndex((l) => l.includes('function norm')) + 1;
    assert.equal(norm[2], line);
  });

  it('warns once about a malformed map and still instruments with JavaScript positions', () => {
    const warnings: string[] = [];
    const bad = 'function f() {}\n//# sourceMappingURL=data:application/json;base64,' + Buffer.from('{not json').toString('base64') + '\n';
    const out = instrumentSource(bad, '/app/bad.js', { ...cjs, warn: (m) => warnings.push(m) });
    assert.equal(out.fnCount, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /ignoring the source map of \/app\/bad\.js: not JSON/);
  });
});

describe('transform: cache', () => {
  const big = fs.readFileSync(require.resolve('acorn'), 'utf8');

  it('serves a warm start from the cache with the same code', () => {
    const dir = tempDir('cache');
    const cold = instrumentSource(big, '/app/acorn.js', { format: 'commonjs', cacheDir: dir });
    const warm = instrumentSource(big, '/app/acorn.js', { format: 'commonjs', cacheDir: dir });
    assert.equal(cold.cached, false);
    assert.equal(warm.cached, true);
    assert.equal(warm.code, cold.code);
    assert.equal(warm.fnCount, cold.fnCount);
    assert.equal(instrumentSource(big, '/app/other.js', { format: 'commonjs', cacheDir: dir }).cached, false, 'filename is in the key');
    assert.equal(instrumentSource(big, '/app/acorn.js', { format: 'module', cacheDir: dir }).cached, false, 'format is in the key');
    const files = fs.readdirSync(dir, { recursive: true }).map(String);
    assert.ok(!files.some((f) => f.endsWith('.tmp')), 'no temporary files left');
  });

  it('keys on the content of an external map', () => {
    const dir = tempDir('cache');
    const src = tempDir('cache-src');
    const code = 'function f() {}\n//# sourceMappingURL=f.js.map\n';
    const map = (line: number): string => JSON.stringify({ version: 3, sources: ['f.ts'], names: [], mappings: line === 1 ? 'AAAA' : 'AACA' });
    fs.writeFileSync(path.join(src, 'f.ts'), 'function f() {}\n');
    fs.writeFileSync(path.join(src, 'f.js.map'), map(1));
    const opts = { format: 'commonjs' as const, cacheDir: dir };
    const first = instrumentSource(code, path.join(src, 'f.js'), opts);
    fs.writeFileSync(path.join(src, 'f.js.map'), map(2));
    const second = instrumentSource(code, path.join(src, 'f.js'), opts);
    assert.equal(second.cached, false);
    assert.deepEqual([prologueOf(first.code).fns[0][2], prologueOf(second.code).fns[0][2]], [1, 2]);
  });

  it('ignores a corrupt entry', () => {
    const dir = tempDir('cache');
    const opts = { format: 'commonjs' as const, cacheDir: dir };
    const cold = instrumentSource('function f() {}\n', '/app/c.js', opts);
    for (const f of fs.readdirSync(dir, { recursive: true }).map(String)) {
      const p = path.join(dir, f);
      if (fs.statSync(p).isFile()) fs.writeFileSync(p, 'garbage');
    }
    const again = instrumentSource('function f() {}\n', '/app/c.js', opts);
    assert.equal(again.cached, false);
    assert.equal(again.code, cold.code);
  });

  it('an unusable cache directory warns once and the transform still works', () => {
    const blocker = path.join(tempDir('cache'), 'a-file');
    fs.writeFileSync(blocker, '');
    const warnings: string[] = [];
    const opts: InstrumentOptions = { format: 'commonjs', cacheDir: path.join(blocker, 'cache'), warn: (m) => warnings.push(m) };
    const a = instrumentSource('function f() {}\n', '/app/a.js', opts);
    const b = instrumentSource('function g() {}\n', '/app/b.js', opts);
    assert.equal(a.fnCount + b.fnCount, 2);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /transform cache off: cannot write .*cache \(ENOTDIR\); set PERF_LENS_CACHE_DIR/);
  });

  it('picks the cache directory from PERF_LENS_CACHE_DIR, XDG_CACHE_HOME or the home directory', () => {
    const saved = { c: process.env.PERF_LENS_CACHE_DIR, x: process.env.XDG_CACHE_HOME };
    try {
      process.env.PERF_LENS_CACHE_DIR = '/tmp/pl-cache';
      assert.equal(defaultCacheDir(), '/tmp/pl-cache');
      delete process.env.PERF_LENS_CACHE_DIR;
      if (process.platform === 'linux') {
        process.env.XDG_CACHE_HOME = '/tmp/xdg';
        assert.equal(defaultCacheDir(), '/tmp/xdg/perf-lens/transform');
        delete process.env.XDG_CACHE_HOME;
        assert.equal(defaultCacheDir(), path.join(os.homedir(), '.cache/perf-lens/transform'));
      }
      process.env.PERF_LENS_CACHE_DIR = 'off';
      const dir = tempDir('cache-off');
      process.env.XDG_CACHE_HOME = dir;
      instrumentSource('function f() {}\n', '/app/off.js', { format: 'commonjs' });
      assert.deepEqual(fs.readdirSync(dir), [], 'PERF_LENS_CACHE_DIR=off disables the default cache');
    } finally {
      for (const [k, v] of [['PERF_LENS_CACHE_DIR', saved.c], ['XDG_CACHE_HOME', saved.x]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

describe('transform: input it cannot handle', () => {
  it('throws on syntax errors, ESM syntax in CommonJS, JSX and TypeScript', () => {
    assert.throws(() => instrumentSource('function (', '/app/x.js', cjs), SyntaxError);
    assert.throws(() => instrumentSource('import x from "y";\nfunction f() {}\n', '/app/x.js', cjs), /'import' and 'export' may appear only with 'sourceType: module'/);
    assert.throws(() => instrumentSource('await 1;\nfunction f() {}\n', '/app/x.js', cjs), SyntaxError);
    assert.throws(() => instrumentSource('const el = <div />;', '/app/x.jsx', esm), SyntaxError);
    assert.throws(() => instrumentSource('function f(x: number) {}', '/app/x.ts', esm), SyntaxError);
  });

  it('parses what Node parses: hashbang, top-level await in ESM, CommonJS top-level return, newest syntax', () => {
    assert.equal(instrumentSource('#!/usr/bin/env node\nawait Promise.resolve();\nexport const f = () => 1;\n', '/app/x.mjs', esm).fnCount, 1);
    assert.equal(instrumentSource('if (process.env.X) return;\nfunction f() {}\n', '/app/x.js', cjs).fnCount, 1);
    const modern = 'class A { static #x = 1; static has(o) { return #x in o; } accessor = 1 }\nconst r = /(?<y>\\d{4})/v;\nconst b = 1n ** 2n;\nconst o = a?.b ?? c;\n';
    assert.equal(instrumentSource(modern, '/app/m.js', cjs).fnCount, 1);
  });

  it('is what the repository bundles (no ESM-only import breaks the CommonJS runtime bundle)', () => {
    const out = esbuild.buildSync({ entryPoints: [path.join(root, 'src/runtime/node/instrument.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' });
    assert.equal(out.errors.length, 0);
  });
});
