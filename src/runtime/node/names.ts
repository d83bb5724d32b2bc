/**
 * Readable names for instrumented functions, derived from where the function sits in the AST:
 * `Class.method`, `static Class.m`, `get Class.prop`, `Class.field`, `Class.<static>`,
 * `obj.key`, `f` for `const f = () => {}`, `x` for `module.exports.x = function () {}`,
 * `Foo.bar` for `Foo.prototype.bar = function () {}`, and `<anonymous>@line:col` otherwise.
 * Static members carry a `static ` prefix so they never collide with a same-named instance member.
 */
import type * as acorn from 'acorn';

export type AnyNode = acorn.AnyNode;

/** Longest computed-key source text shown verbatim (`[Symbol.iterator]`); longer ones get a position. */
const MAX_COMPUTED_TEXT = 40;

export interface NameContext {
  code: string;
  /** Ancestors of the function being named, outermost first (the direct parent is last). */
  ancestors: AnyNode[];
  /** Name of the innermost enclosing class, if any. */
  className: string | undefined;
  /** `line:col` (1-based, generated source) of an offset, for anonymous names. */
  where(offset: number): string;
}

export interface FunctionName {
  name: string;
  /** Offset whose line/column is reported as the function's position. */
  pos: number;
  /** No name: the caller appends `@line:col` of the function's (mapped) position. */
  anonymous?: true;
}

export const ANONYMOUS = '<anonymous>';

export type FunctionNode =
  acorn.FunctionDeclaration | acorn.AnonymousFunctionDeclaration | acorn.FunctionExpression | acorn.ArrowFunctionExpression;
export type ClassNode = acorn.ClassDeclaration | acorn.AnonymousClassDeclaration | acorn.ClassExpression;

export function nameFunction(fn: FunctionNode, ctx: NameContext): FunctionName {
  const anc = ctx.ancestors;
  const parent = anc[anc.length - 1];
  if (parent?.type === 'MethodDefinition' && parent.value === fn) {
    const cls = ctx.className ?? '<anonymous>';
    const isStatic = parent.static ? 'static ' : '';
    if (parent.kind === 'constructor') return { name: `${cls}.constructor`, pos: parent.start };
    const accessor = parent.kind === 'get' || parent.kind === 'set' ? `${parent.kind} ` : '';
    return { name: `${isStatic}${accessor}${memberOf(cls, parent.key, parent.computed, ctx)}`, pos: parent.start };
  }
  if (fn.type !== 'ArrowFunctionExpression' && fn.id) return { name: fn.id.name, pos: fn.start };
  if (parent?.type === 'Property' && parent.value === fn) {
    const owner = objectName(anc.length - 2, ctx);
    const accessor = parent.kind === 'get' || parent.kind === 'set' ? `${parent.kind} ` : '';
    const isMethodSyntax = parent.method || accessor !== '';
    return { name: accessor + memberOf(owner, parent.key, parent.computed, ctx), pos: isMethodSyntax ? parent.start : fn.start };
  }
  if (parent?.type === 'PropertyDefinition' && parent.value === fn) {
    const cls = ctx.className ?? '<anonymous>';
    return { name: (parent.static ? 'static ' : '') + memberOf(cls, parent.key, parent.computed, ctx), pos: fn.start };
  }
  if (parent?.type === 'CallExpression' && parent.arguments[0] === fn && isKeepNamesCall(parent)) {
    // esbuild's keepNames (used by tsx): `const f = __name(() => {}, "f")`.
    return { name: String((parent.arguments[1] as acorn.Literal).value), pos: fn.start };
  }
  const inferred = inferredName(anc.length - 1, fn, ctx);
  return inferred ? { name: inferred, pos: fn.start } : { name: ANONYMOUS, pos: fn.start, anonymous: true };
}

function isKeepNamesCall(call: acorn.CallExpression): boolean {
  const name = call.arguments[1];
  return call.callee.type === 'Identifier' && call.callee.name === '__name' && call.arguments.length === 2 &&
    name.type === 'Literal' && typeof name.value === 'string';
}

/** Name of a class node (its id, or what it is assigned to). */
export function nameClass(cls: ClassNode, ctx: NameContext): string {
  if (cls.id) return cls.id.name;
  return inferredName(ctx.ancestors.length - 1, cls, ctx) ?? '<anonymous>';
}

/** The name a value gets from its syntactic position: `const x = V`, `a.b = V`, `p = V` default, `export default V`. */
function inferredName(parentIndex: number, value: AnyNode, ctx: NameContext): string | undefined {
  const parent = ctx.ancestors[parentIndex];
  if (!parent) return undefined;
  switch (parent.type) {
    case 'VariableDeclarator':
      return parent.init === value && parent.id.type === 'Identifier' ? parent.id.name : undefined;
    case 'AssignmentExpression':
      if (parent.right !== value) return undefined;
      if (parent.left.type === 'Identifier') return parent.left.name;
      if (parent.left.type === 'MemberExpression') return memberExpressionName(parent.left);
      return undefined;
    case 'AssignmentPattern':
      return parent.right === value && parent.left.type === 'Identifier' ? parent.left.name : undefined;
    case 'ExportDefaultDeclaration':
      return 'default';
    default:
      return undefined;
  }
}

/** Name of the object literal at ancestors[index], used as a prefix for its members ('' = none). */
function objectName(index: number, ctx: NameContext): string {
  const obj = ctx.ancestors[index];
  if (obj?.type !== 'ObjectExpression') return '';
  const parent = ctx.ancestors[index - 1];
  if (parent?.type === 'Property' && parent.value === obj) {
    return memberOf(objectName(index - 2, ctx), parent.key, parent.computed, ctx);
  }
  const name = inferredName(index - 1, obj, ctx);
  return name === 'module.exports' || name === 'exports' || name === 'default' ? '' : name ?? '';
}

function memberOf(owner: string, key: AnyNode, computed: boolean, ctx: NameContext): string {
  const k = keyName(key, computed, ctx);
  if (k.startsWith('[')) return owner + k;
  return owner ? `${owner}.${k}` : k;
}

function keyName(key: AnyNode, computed: boolean, ctx: NameContext): string {
  if (!computed) {
    if (key.type === 'Identifier') return key.name;
    if (key.type === 'PrivateIdentifier') return `#${key.name}`;
    if (key.type === 'Literal') return String(key.value);
  } else if (key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number')) {
    return String(key.value);
  }
  const text = ctx.code.slice(key.start, key.end);
  if (text.length <= MAX_COMPUTED_TEXT && !/[\r\n\u2028\u2029]/.test(text)) return `[${text}]`;
  return `[computed]@${ctx.where(key.start)}`;
}

/**
 * `module.exports.x` and `exports.x` -> `x`; `Foo.prototype.bar` -> `Foo.bar`; `this.x` -> `x`;
 * `a.b.c` -> `a.b.c`. Computed parts other than literals make it unnamed.
 */
function memberExpressionName(expr: acorn.MemberExpression): string | undefined {
  const parts: string[] = [];
  let cur: AnyNode = expr;
  while (cur.type === 'MemberExpression') {
    const p = cur.property;
    if (!cur.computed && p.type === 'Identifier') parts.unshift(p.name);
    else if (!cur.computed && p.type === 'PrivateIdentifier') parts.unshift(`#${p.name}`);
    else if (cur.computed && p.type === 'Literal' && (typeof p.value === 'string' || typeof p.value === 'number')) parts.unshift(String(p.value));
    else return undefined;
    cur = cur.object;
  }
  if (cur.type === 'Identifier') parts.unshift(cur.name);
  else if (cur.type !== 'ThisExpression') return undefined;
  const whole = parts.join('.');
  if (whole === 'module.exports' || whole === 'exports') return whole;
  if (parts[0] === 'module' && parts[1] === 'exports') parts.splice(0, 2);
  else if (parts[0] === 'exports') parts.splice(0, 1);
  const named = parts.filter((p) => p !== 'prototype');
  return named.length ? named.join('.') : undefined;
}

/** The code that decides the names, as text: part of the transform cache key. */
export function namesCodeParts(): string[] {
  return [nameFunction, nameClass, isKeepNamesCall, inferredName, objectName, memberOf, keyName, memberExpressionName].map(String);
}
