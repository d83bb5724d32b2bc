/**
 * The source transform: finds every function in one JavaScript file and wraps its body with the
 * recorder calls of abi.ts.
 *
 * What changes for the program (and what does not):
 * - Edits are insertions only and never contain a newline, so every line keeps its number (stack
 *   traces, breakpoints). A column moves only when something is inserted earlier on its line: the
 *   prologue's line, a line with a function's `{` or `=>` followed by code, a `return X` line, and
 *   code after a function's closing `}` on the same line. Multi-line function bodies keep their
 *   columns. When the file came with a source map, the composed map covers the shifted columns too.
 * - `Function.prototype.toString()` of an instrumented function shows the inserted code.
 * - Hoisting, `arguments`, `this`, `super`, `new.target`, `fn.length`, `fn.name`, default
 *   parameters, directives, direct `eval`, labels and ASI behave as before: bodies are wrapped in
 *   place (`{HEAD try{BODY}finally{...}}`), never moved into another function. A function that
 *   declares functions in its body and calls `eval` directly is not instrumented (in the block,
 *   those declarations would clash with a sloppy `eval('var g')`). One corner is measured wrong: a
 *   `return` overridden by a throw in the function's own `finally` counts as a normal return.
 * - Code an incoming source map does not cover (helpers a loader or bundler adds) is left alone.
 *
 * Names (see names.ts): `Class.method`, `static Class.m` (static members keep a `static ` prefix so
 * they never merge with an instance member of the same name), `get Class.p`, `Class.field`,
 * `Class.<static>`, `obj.key`, `f`, `<anonymous>@line:col`.
 *
 * Output is a list of insertions (offset, text) in a meaningful order: at one offset, earlier
 * insertions come first. Heads are added before a node's children and tails after them, so nested
 * wrappers that end at the same offset close in the right order.
 */
import * as acorn from 'acorn';
import { FnKind, RUNTIME_GLOBAL_KEY } from './abi';
import { nameClass, nameFunction, type AnyNode, type FunctionNode, type NameContext } from './names';

export type SourceFormat = 'commonjs' | 'module';

export interface Insertion {
  pos: number;
  text: string;
}

/** Where a function comes from; `file` is an absolute path. */
export interface SourcePosition {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, UTF-16 units. */
  column: number;
}

/**
 * Maps offsets of the input to original positions (through an incoming source map).
 * `locate` returns null for code the map does not cover (helpers a loader or bundler injected):
 * such functions are left as they are.
 */
export interface Locator {
  /** `strict`: only a mapping that starts within the header counts (no earlier one on the line). */
  locate(start: number, headerEnd: number, strict?: boolean, expectText?: string): SourcePosition | null;
}

export interface FoundFunction extends SourcePosition {
  name: string;
  kind: FnKind;
}

export interface TransformResult {
  insertions: Insertion[];
  fns: FoundFunction[];
  /** Where the prologue goes; the caller builds its text once positions are mapped. */
  prologuePos: number;
  /** Text to put before the prologue at prologuePos (`;` after a directive without one). */
  prologueLead: string;
}

export function parse(code: string, format: SourceFormat): acorn.Program {
  return acorn.parse(code, {
    ecmaVersion: 'latest',
    sourceType: format === 'module' ? 'module' : 'script',
    allowHashBang: true,
    // CommonJS modules run inside Node's function wrapper.
    allowReturnOutsideFunction: format === 'commonjs',
  });
}

const RUNTIME_LOOKUP = `globalThis[Symbol.for(${JSON.stringify(RUNTIME_GLOBAL_KEY)})]`;
// Without a runtime the countdowns start at 0 and only run negative: nothing is ever timed.
const NOOP_RUNTIME = '{file:function(f,n){var z=function(){return 0},c=new Float64Array(n.length),a=new Float64Array(1);'
  + 'return{c:c,m:new Float64Array(n.length),a:a,t:z,ta:z,d:function(){return a},s:z,r:z,sa:z,ra:z,e:z}}}';
/** Module-level copies of the recorder's typed arrays (abi.ts): the inline fast path reads them. */
const VIEWS = '__pl$c=__pl$.c;__pl$m=__pl$.m;__pl$a=__pl$.a';

/**
 * The prologue of abi.ts for the given FILES/FNS JSON texts.
 *
 * ES modules get a lazy variant: in an import cycle, another module can call one of this module's
 * hoisted function declarations before this module's body (and so the prologue) has run. There,
 * function heads call `(__pl$||__pl$f())` and the hoisted `__pl$f` registers the file on first
 * use, once. CommonJS needs none of this: the prologue runs before any `require`.
 * Both variants start with INSTRUMENTED_MARK, which tells instrumented code apart.
 */
export function prologue(filesJson: string, fnsJson: string, format: SourceFormat): string {
  const register = `(${RUNTIME_LOOKUP}||${NOOP_RUNTIME}).file(${filesJson},${fnsJson})`;
  if (format === 'commonjs') return `var __pl$=${register},${VIEWS.replace(/;/g, ',')};`;
  return `var __pl$=(${RUNTIME_LOOKUP},__pl$f()),__pl$c,__pl$m,__pl$a;function __pl$f(){if(!__pl$){__pl$=${register};${VIEWS}}return __pl$}`;
}

/** How every instrumented file starts (after a hashbang and directives). */
export const INSTRUMENTED_MARK = `var __pl$=(${RUNTIME_LOOKUP}`;

/** Positions in the input itself (no source map). */
export function generatedLocator(code: string, filename: string): Locator {
  let lineStarts: number[] | undefined;
  return {
    locate: (start) => ({ file: filename, ...lineColumn(lineStarts ??= lineStartsOf(code), start) }),
  };
}

export function transform(
  code: string, format: SourceFormat, locator: Locator = generatedLocator(code, ''), program: acorn.Program = parse(code, format),
): TransformResult {
  const walker = new Walker(code, format === 'module', locator);
  walker.visitChildren(program);
  const { pos, lead } = prologuePosition(code, program);
  return { insertions: walker.insertions, fns: walker.fns, prologuePos: pos, prologueLead: lead };
}

function prologuePosition(code: string, program: acorn.Program): { pos: number; lead: string } {
  const directive = lastDirective(program.body);
  if (directive) return { pos: directive.end, lead: code.charCodeAt(directive.end - 1) === 59 /* ; */ ? '' : ';' };
  if (code.startsWith('#!')) {
    // The hashbang comment fills line 1: the prologue starts line 2.
    const nl = code.search(/[\r\n\u2028\u2029]/);
    if (nl < 0) return { pos: code.length, lead: '' }; // only a hashbang: no function, no prologue needed
    return { pos: code[nl] === '\r' && code[nl + 1] === '\n' ? nl + 2 : nl + 1, lead: '' };
  }
  return { pos: 0, lead: '' };
}

function lastDirective(body: readonly AnyNode[]): acorn.ExpressionStatement | undefined {
  let found: acorn.ExpressionStatement | undefined;
  for (const stmt of body) {
    if (stmt.type === 'ExpressionStatement' && typeof stmt.directive === 'string') found = stmt;
    else break;
  }
  return found;
}

/**
 * Child keys of ESTree nodes in source order (a for-in over every node is the walker's main cost on
 * large files). Types not listed fall back to all keys; leaves are listed as empty.
 */
const CHILD_KEYS: Partial<Record<string, readonly string[]>> = {
  Program: ['body'], ExpressionStatement: ['expression'], BlockStatement: ['body'], StaticBlock: ['body'],
  EmptyStatement: [], DebuggerStatement: [], WithStatement: ['object', 'body'], ReturnStatement: ['argument'],
  LabeledStatement: ['body'], BreakStatement: [], ContinueStatement: [], IfStatement: ['test', 'consequent', 'alternate'],
  SwitchStatement: ['discriminant', 'cases'], SwitchCase: ['test', 'consequent'], ThrowStatement: ['argument'],
  TryStatement: ['block', 'handler', 'finalizer'], CatchClause: ['param', 'body'], WhileStatement: ['test', 'body'],
  DoWhileStatement: ['body', 'test'], ForStatement: ['init', 'test', 'update', 'body'], ForInStatement: ['left', 'right', 'body'],
  ForOfStatement: ['left', 'right', 'body'], FunctionDeclaration: ['id', 'params', 'body'], VariableDeclaration: ['declarations'],
  VariableDeclarator: ['id', 'init'], ThisExpression: [], ArrayExpression: ['elements'], ObjectExpression: ['properties'],
  Property: ['key', 'value'], FunctionExpression: ['id', 'params', 'body'], ArrowFunctionExpression: ['params', 'body'],
  UnaryExpression: ['argument'], UpdateExpression: ['argument'], BinaryExpression: ['left', 'right'],
  AssignmentExpression: ['left', 'right'], LogicalExpression: ['left', 'right'], MemberExpression: ['object', 'property'],
  ChainExpression: ['expression'], ConditionalExpression: ['test', 'consequent', 'alternate'], CallExpression: ['callee', 'arguments'],
  NewExpression: ['callee', 'arguments'], SequenceExpression: ['expressions'], YieldExpression: ['argument'],
  AwaitExpression: ['argument'], TemplateLiteral: ['quasis', 'expressions'], TaggedTemplateExpression: ['tag', 'quasi'],
  TemplateElement: [], SpreadElement: ['argument'], ObjectPattern: ['properties'], ArrayPattern: ['elements'],
  RestElement: ['argument'], AssignmentPattern: ['left', 'right'], ClassBody: ['body'], ClassDeclaration: ['id', 'superClass', 'body'],
  ClassExpression: ['id', 'superClass', 'body'], MethodDefinition: ['key', 'value'], PropertyDefinition: ['key', 'value'],
  MetaProperty: [], ImportExpression: ['source', 'options'], ParenthesizedExpression: ['expression'],
  Identifier: [], PrivateIdentifier: [], Literal: [], Super: [],
  ImportDeclaration: ['specifiers', 'source', 'attributes'], ImportSpecifier: ['imported', 'local'],
  ImportDefaultSpecifier: ['local'], ImportNamespaceSpecifier: ['local'], ImportAttribute: ['key', 'value'],
  ExportNamedDeclaration: ['declaration', 'specifiers', 'source', 'attributes'], ExportSpecifier: ['local', 'exported'],
  ExportDefaultDeclaration: ['declaration'], ExportAllDeclaration: ['exported', 'source', 'attributes'],
};

const KIND_BY_FLAGS: readonly FnKind[] = [FnKind.Sync, FnKind.Generator, FnKind.Async, FnKind.AsyncGenerator];

class Walker {
  readonly insertions: Insertion[] = [];
  readonly fns: FoundFunction[] = [];
  /** Index of the innermost enclosing instrumented function; -1 at top level or in a function left alone. */
  private current = -1;
  private readonly ancestors: AnyNode[] = [];
  private readonly classNames: (string | undefined)[] = [];
  private readonly nameCtx: NameContext;
  private generated: Locator | undefined;
  private evalOffsets: number[] | undefined;

  /** `lazy`: function heads register the file themselves if the prologue has not run (ESM). */
  constructor(private readonly code: string, private readonly lazy: boolean, private readonly locator: Locator) {
    const self = this; // eslint-disable-line @typescript-eslint/no-this-alias
    this.nameCtx = {
      code,
      ancestors: this.ancestors,
      get className() { return self.classNames[self.classNames.length - 1]; },
      where: (offset) => this.where(offset),
    };
  }

  visit(node: AnyNode): void {
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        this.fn(node);
        return;
      case 'StaticBlock':
        this.staticBlock(node);
        return;
      case 'ReturnStatement':
        this.ret(node);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression':
        this.classNames.push(nameClass(node, this.nameCtx));
        this.visitChildren(node);
        this.classNames.pop();
        return;
      default:
        this.visitChildren(node);
    }
  }

  visitChildren(node: AnyNode): void {
    this.ancestors.push(node);
    const record = node as unknown as Record<string, unknown>;
    const keys = CHILD_KEYS[node.type] ?? Object.keys(record);
    for (let k = 0; k < keys.length; k++) {
      const value = record[keys[k]];
      if (typeof value !== 'object' || value === null) continue;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item = value[i] as AnyNode | null;
          if (item !== null && typeof item.type === 'string') this.visit(item);
        }
      } else if (typeof (value as AnyNode).type === 'string') {
        this.visit(value as AnyNode);
      }
    }
    this.ancestors.pop();
  }

  private fn(node: FunctionNode): void {
    const block = node.body.type === 'BlockStatement';
    // Expression body: `=> X` becomes `=>{HEAD return __v$=(X),__o$=1,__v$ TAIL}`, inserted right
    // after `=>` (not at X, which may sit inside parentheses or on the next line).
    const arrow = block ? -1 : findArrow(this.code, node.params.length ? node.params[node.params.length - 1].end : node.start);
    const named = nameFunction(node, this.nameCtx);
    const at = this.locator.locate(named.pos, block ? node.body.start : arrow);
    const outer = this.current;
    if (!at || (node.body.type === 'BlockStatement' && this.evalWouldConflict(node.body))) {
      this.current = -1; // its returns are its own, and stay as they are
      this.visitChildren(node);
      this.current = outer;
      return;
    }
    const kind = KIND_BY_FLAGS[(node.async ? 2 : 0) + (node.generator ? 1 : 0)];
    const name = named.anonymous ? `${named.name}@${at.line}:${at.column}` : named.name;
    const index = this.fns.push({ name, kind, ...at }) - 1;
    const head = headText(index, kind, this.lazy);
    this.current = index;
    if (node.body.type === 'BlockStatement') {
      const directive = lastDirective(node.body.body);
      if (directive) this.insert(directive.end, (this.code.charCodeAt(directive.end - 1) === 59 ? '' : ';') + head);
      else this.insert(node.body.start + 1, head);
      this.visitChildren(node);
      this.insert(node.body.end - 1, tailText(index, kind));
    } else {
      this.insert(arrow, `{${head}return __v$=(`);
      this.visitChildren(node);
      this.insert(node.end, `),__o$=1,__v$${tailText(index, kind, false)}}`);
    }
    this.current = outer;
  }

  private staticBlock(node: acorn.StaticBlock): void {
    const open = findChar(this.code, node.start + 'static'.length, '{');
    // A static block the map does not place on a `static` keyword is one a loader added (tsx and
    // esbuild's keepNames emit `static { __name(this, "C") }`, mapped to the top of the file).
    const at = this.locator.locate(node.start, open, true, 'static');
    const outer = this.current;
    if (!at) {
      this.current = -1;
      this.visitChildren(node);
      this.current = outer;
      return;
    }
    const index = this.fns.push({ name: `${this.nameCtx.className ?? '<anonymous>'}.<static>`, kind: FnKind.Sync, ...at }) - 1;
    this.current = index;
    this.insert(open + 1, headText(index, FnKind.Sync, this.lazy));
    this.visitChildren(node);
    this.insert(node.end - 1, tailText(index, FnKind.Sync));
    this.current = outer;
  }

  /**
   * A body that declares functions at its top level and calls `eval` directly is left alone:
   * wrapped in a block, those declarations become block-scoped, and a sloppy `eval('var g')`
   * naming one of them would throw where it did not before.
   */
  private evalWouldConflict(body: acorn.BlockStatement): boolean {
    if (!body.body.some((stmt) => stmt.type === 'FunctionDeclaration')) return false;
    const candidates = (this.evalOffsets ??= evalOffsets(this.code));
    if (!hasOffsetIn(candidates, body.start, body.end)) return false;
    return containsDirectEval(body);
  }

  private ret(node: acorn.ReturnStatement): void {
    if (this.current < 0) {
      // A CommonJS top-level return belongs to Node's module wrapper, and the returns of a function
      // left alone are its own: neither is a measured function's.
      this.visitChildren(node);
      return;
    }
    if (!node.argument) {
      this.insert(node.start + 'return'.length, ' (__o$=1,void 0)');
      return;
    }
    this.insert(node.argument.start, '(__v$=(');
    this.visitChildren(node);
    this.insert(node.argument.end, '),__o$=1,__v$)');
  }

  private insert(pos: number, text: string): void {
    this.insertions.push({ pos, text });
  }

  /** `line:col` for anonymous names, in the original source when the locator knows it. */
  private where(offset: number): string {
    const at = this.locator.locate(offset, offset) ?? (this.generated ??= generatedLocator(this.code, '')).locate(offset, offset)!;
    return `${at.line}:${at.column}`;
  }
}

/** Offsets of `eval(` in the text (a superset of direct eval calls: strings and comments too). */
function evalOffsets(code: string): number[] {
  const offsets: number[] = [];
  if (!code.includes('eval')) return offsets;
  const re = /\beval\s*\(/g;
  while (re.exec(code)) offsets.push(re.lastIndex);
  return offsets;
}

function hasOffsetIn(sorted: readonly number[], start: number, end: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] < end;
}

/** Whether `node` calls `eval(...)` directly, outside nested functions (which have their own scope). */
function containsDirectEval(node: AnyNode): boolean {
  if (node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === 'eval' && !node.optional) return true;
  const record = node as unknown as Record<string, unknown>;
  for (const key of CHILD_KEYS[node.type] ?? Object.keys(record)) {
    const value = record[key];
    const children = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const child of children) {
      if (child === null || typeof child !== 'object' || typeof (child as AnyNode).type !== 'string') continue;
      const type = (child as AnyNode).type;
      if (type === 'FunctionDeclaration' || type === 'FunctionExpression' || type === 'ArrowFunctionExpression') continue;
      if (containsDirectEval(child as AnyNode)) return true;
    }
  }
  return false;
}

/** The untimed call is inline (a countdown decrement); only a timed one calls the recorder. */
function headText(index: number, kind: FnKind, lazy: boolean): string {
  const countdown = lazy ? '(__pl$c||__pl$f().c)' : '__pl$c';
  const start = kind === FnKind.Sync ? `__pl$.t(${index}):-1` : `__pl$.ta(${index}):0`;
  return `const __t$=--${countdown}[${index}]===0?${start};let __o$=0,__v$;try{`;
}

/** `completes`: whether the body can run off its end (a block body can; `return X` cannot). */
function tailText(index: number, kind: FnKind, completes = true): string {
  // Generators: a finally cannot tell `.return()` from a throw, so throws are reported by a catch.
  const rethrow = kind === FnKind.Generator || kind === FnKind.AsyncGenerator ? `catch(__e$){__pl$.e(${index});throw __e$}` : '';
    // Every operation except the calls runs on every call (see abi.ts: no path without type feedback).
  const end = kind === FnKind.Sync
    ? `(__o$===0||__t$!==-1?__pl$.d(${index},__t$,__o$):__pl$a)[0]+=__pl$m[${index}]`
    : `__o$===0||__t$!==0?__pl$.ra(${index},__t$,__o$):0`;
  return `${completes ? ';__o$=1' : ''}}${rethrow}finally{${end}}`;
}

/** Offset just after the `=>` at or after `from`, skipping comments (only punctuation precedes it). */
function findArrow(code: string, from: number): number {
  let i = skipTrivia(code, from);
  while (i < code.length) {
    if (code.charCodeAt(i) === 61 /* = */ && code.charCodeAt(i + 1) === 62 /* > */) return i + 2;
    i = skipTrivia(code, i + 1);
  }
  throw new Error('perf-lens transform: no `=>` found for an arrow function');
}

/** Offset of `ch` at or after `from`, skipping comments. */
function findChar(code: string, from: number, ch: string): number {
  let i = skipTrivia(code, from);
  while (i < code.length && code[i] !== ch) i = skipTrivia(code, i + 1);
  if (i >= code.length) throw new Error(`perf-lens transform: expected \`${ch}\``);
  return i;
}

function skipTrivia(code: string, i: number): number {
  for (;;) {
    const c = code.charCodeAt(i);
    if (c === 47 /* / */ && code.charCodeAt(i + 1) === 42 /* * */) {
      const end = code.indexOf('*/', i + 2);
      i = end < 0 ? code.length : end + 2;
    } else if (c === 47 && code.charCodeAt(i + 1) === 47) {
      const m = /[\r\n\u2028\u2029]/g;
      m.lastIndex = i;
      i = m.exec(code) ? m.lastIndex : code.length;
    } else {
      return i;
    }
  }
}

/** Offsets where lines start, with JavaScript's line terminators (CRLF counts once). */
export function lineStartsOf(code: string): number[] {
  const starts = [0];
  const re = /\r\n?|[\n\u2028\u2029]/g;
  while (re.exec(code)) starts.push(re.lastIndex);
  return starts;
}

/** 1-based line and column (UTF-16 units, as V8 reports them) of an offset. */
export function lineColumn(lineStarts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}

/** Applies insertions (stable by offset: at one offset, earlier insertions first). */
export function applyInsertions(code: string, insertions: readonly Insertion[]): string {
  const sorted = sortInsertions(insertions);
  const parts: string[] = [];
  let last = 0;
  for (const ins of sorted) {
    if (ins.pos !== last) parts.push(code.slice(last, ins.pos));
    parts.push(ins.text);
    last = ins.pos;
  }
  parts.push(code.slice(last));
  return parts.join('');
}

export function sortInsertions(insertions: readonly Insertion[]): Insertion[] {
  // Array.prototype.sort is stable, which keeps the order of insertions at one offset.
  return insertions.slice().sort((a, b) => a.pos - b.pos);
}

/** The code that decides this module's output, as text: part of the cache key (see instrument.ts). */
export function transformCodeParts(): string[] {
  return [NOOP_RUNTIME, VIEWS, Walker, headText, tailText, findArrow, findChar, skipTrivia, prologue, prologuePosition, lastDirective, transform, applyInsertions,
    evalOffsets, hasOffsetIn, containsDirectEval]
    .map(String).concat(JSON.stringify(CHILD_KEYS), JSON.stringify(KIND_BY_FLAGS));
}
