/**
 * How to spawn the user's command without a shell, everywhere. On Windows, `npm`, `npx` and
 * friends are `.cmd` scripts, which Node can only start through cmd.exe (spawn refuses them
 * otherwise), so those get `shell: true` with every argument quoted for cmd.exe.
 */
import * as path from 'path';

export interface SpawnPlan {
  file: string;
  args: string[];
  shell: boolean;
}

/** Finds `command` on PATH with PATHEXT (Windows semantics). Pure: `exists` is injected. */
export function resolveOnWindowsPath(command: string, env: NodeJS.ProcessEnv, exists: (p: string) => boolean): string | undefined {
  const exts = (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean);
  const hasExt = path.win32.extname(command) !== '';
  const candidates = (base: string): string[] => (hasExt ? [base] : exts.map((e) => base + e.toLowerCase()));
  if (/[\\/]/.test(command)) return candidates(command).find(exists);
  const dirs = (env.Path ?? env.PATH ?? '').split(';').filter(Boolean);
  for (const dir of dirs) {
    const hit = candidates(path.win32.join(dir, command)).find(exists);
    if (hit) return hit;
  }
  return undefined;
}

// The same escaping as cross-spawn (the well-trodden path for running .cmd shims without a shell).
const CMD_META = /([()\][%!^"`<>&|;, *?])/g;

/** Escapes the program path for cmd.exe. */
export function escapeCmdCommand(file: string): string {
  return file.replace(CMD_META, '^$1');
}

/**
 * Quotes one argument for a .cmd shim run by cmd.exe: CommandLineToArgvW quoting, then carets
 * before cmd.exe's metacharacters, twice (the shim passes %* through cmd.exe once more).
 */
export function quoteForCmd(arg: string): string {
  let a = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1');
  a = `"${a}"`;
  return a.replace(CMD_META, '^$1').replace(CMD_META, '^$1');
}

export function planSpawn(command: string[], platform: NodeJS.Platform, env: NodeJS.ProcessEnv, exists: (p: string) => boolean): SpawnPlan {
  const [file, ...args] = command;
  if (platform !== 'win32') return { file, args, shell: false };
  const resolved = resolveOnWindowsPath(file, env, exists);
  if (resolved && /\.(cmd|bat)$/i.test(resolved)) {
    return { file: escapeCmdCommand(path.win32.normalize(resolved)), args: args.map(quoteForCmd), shell: true };
  }
  return { file, args, shell: false };
}
