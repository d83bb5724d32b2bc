/**
 * CommonJS: wraps Module.prototype._compile, which every loader (plain require, tsx, ts-node,
 * babel-register) ends in with the final JavaScript, so we instrument what actually runs and the
 * loader's inline source map is still there to map positions back to the original source.
 */
import Module from 'module';

type Compile = (this: unknown, content: string, filename: string, ...rest: unknown[]) => unknown;
export type Transform = (code: string, filename: string, format: 'commonjs') => string;

export function installCjsHook(transform: Transform): void {
  const proto = (Module as unknown as { prototype: { _compile: Compile } }).prototype;
  const original = proto._compile;
  if (typeof original !== 'function') throw new Error('Module.prototype._compile is missing');
  proto._compile = function perfLensCompile(this: unknown, content: string, filename: string, ...rest: unknown[]): unknown {
    // Node 22+ passes a format ('commonjs-typescript', ...); only plain JS goes through the transform.
    const format = rest[0];
    const code = typeof content === 'string' && (format === undefined || format === 'commonjs') ? transform(content, filename, 'commonjs') : content;
    return original.call(this, code, filename, ...rest);
  };
}
