import * as path from 'path';

/** Run modes of the Perf Lens runtime (`perfLens.mode`, `perf-lens run --mode`). */
export const RUN_MODES = ['adaptive', 'full', 'sampled', 'count'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/** File extensions Node (with a TypeScript loader for .ts) can run and Perf Lens can instrument. */
const RUNNABLE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx']);
const RUNNABLE_LANGUAGES = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact']);

/** True for a JavaScript/TypeScript file, judged by language id or, failing that, by extension. */
export function isRunnableFile(fileName: string, languageId: string): boolean {
  return RUNNABLE_LANGUAGES.has(languageId) || RUNNABLE_EXTENSIONS.has(path.extname(fileName).toLowerCase());
}

/** Coerces a settings value to a known mode; unknown values fall back to the default. */
export function toRunMode(value: unknown): RunMode {
  return (RUN_MODES as readonly unknown[]).includes(value) ? (value as RunMode) : 'adaptive';
}

/** The argv of a run: `node <cli> run --mode <mode> -- node <file>`. */
export function runArgv(cliPath: string, file: string, mode: RunMode): string[] {
  return ['node', cliPath, 'run', '--mode', mode, '--', 'node', file];
}

/**
 * Quotes one argument for the terminal's shell. POSIX shells: single quotes; Windows shells
 * (cmd, PowerShell): double quotes. Plain words stay bare, so the usual line reads naturally.
 */
export function quoteArg(arg: string, platform: NodeJS.Platform = process.platform): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  if (platform === 'win32') return `"${arg.replace(/"/g, '""')}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The line typed into the terminal. The first word is always a bare `node` (PowerShell needs no `&`). */
export function runCommandLine(argv: readonly string[], platform: NodeJS.Platform = process.platform): string {
  return argv.map((a) => quoteArg(a, platform)).join(' ');
}
