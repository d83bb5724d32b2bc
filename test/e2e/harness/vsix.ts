// Builds and packages the extension exactly as a release would (`vsce package`, which runs the
// `vscode:prepublish` production build), then checks what the .vsix holds. The build happens
// in a staging copy of the source tree so the working tree's dev `dist/` (used by other test
// suites meanwhile) is never replaced by a minified one. Each run stages in its own temp dir
// (removed at the end of the run), so two runs at once do not trip over each other.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { onCleanup } from './cleanup';
import { HarnessError } from './codeServer';
import { REPO_ROOT, WORK_DIR } from './paths';
import { zipEntryNames } from './zip';

/** Never copied into the stage: dependencies (linked instead), build output, local caches. */
const NOT_STAGED = new Set(['.git', 'node_modules', 'dist', 'out', '.vscode-test', 'test-artifacts', '.perf-lens']);

export interface PackagedExtension {
  vsix: string;
  entries: string[];
}

/**
 * Returns the path of a fresh .vsix (in this run's stage, valid until the run ends); a copy is
 * left at .vscode-test/<name>-<version>.vsix for trying it by hand.
 */
export function packageExtension(): PackagedExtension {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const stage = fs.mkdtempSync(path.join(WORK_DIR, 'vsix-stage-'));
  onCleanup(() => fs.rmSync(stage, { recursive: true, force: true }));
  stageSources(path.join(stage, 'src-tree'));
  const vsix = path.join(stage, `${pkg.name}-${pkg.version}.vsix`);
  const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  // --no-dependencies: everything is bundled by esbuild; the flags keep vsce from asking questions,
  // and --no-rewrite-relative-links keeps README's relative links and image as they are (no public repository URL).
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--out', vsix],
    { cwd: path.join(stage, 'src-tree'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new HarnessError(`vsce package failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  const entries = zipEntryNames(vsix);
  const problems = checkContents(entries);
  if (problems.length) throw new HarnessError(`${vsix} has the wrong contents:\n  ${problems.join('\n  ')}\nentries:\n  ${entries.join('\n  ')}`);
  const copy = path.join(WORK_DIR, path.basename(vsix));
  fs.copyFileSync(vsix, `${copy}.tmp-${process.pid}`);
  fs.renameSync(`${copy}.tmp-${process.pid}`, copy); // atomic: a concurrent run never sees half a file
  return { vsix, entries };
}

/** Copies the source tree (tracked and new files, as git sees them) into `dest`. */
function stageSources(dest: string): void {
  fs.mkdirSync(dest, { recursive: true });
  for (const rel of sourceFiles()) {
    if (NOT_STAGED.has(rel.split('/')[0])) continue;
    const from = path.join(REPO_ROOT, rel);
    if (!fs.existsSync(from) || !fs.statSync(from).isFile()) continue; // deleted in the work tree
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, rel));
  }
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dest, 'node_modules'), 'dir');
}

function sourceFiles(): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (git.status === 0) return git.stdout.split('\0').filter(Boolean);
  // Not a git checkout (e.g. an unpacked tarball): take every top-level entry but the excluded ones.
  return walk(REPO_ROOT, '');
}

function walk(dir: string, rel: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (!rel && NOT_STAGED.has(d.name)) return [];
    return d.isDirectory() ? walk(path.join(dir, d.name), r) : [r];
  });
}

/**
 * What users install: the bundles, manifest, README, LICENSE, media/ and schema/; never
 * node_modules, sources or source maps. Returns one line per problem.
 */
export function checkContents(entries: string[]): string[] {
  const problems: string[] = [];
  const files = entries.filter((e) => e.startsWith('extension/')).map((e) => e.slice('extension/'.length));
  const has = (f: string) => files.some((e) => e.toLowerCase() === f.toLowerCase()); // vsce writes readme.md
  const required = ['package.json', 'dist/extension.js', 'README.md'];
  if (fs.existsSync(path.join(REPO_ROOT, 'src/cli/main.ts'))) required.push('dist/cli.js');
  for (const f of required) if (!has(f)) problems.push(`missing ${f}`);
  if (!files.some((f) => /^LICENSE(\.txt|\.md)?$/i.test(f))) problems.push('missing LICENSE');
  for (const dir of ['media', 'schema']) {
    for (const f of listFiles(path.join(REPO_ROOT, dir))) if (!has(`${dir}/${f}`)) problems.push(`missing ${dir}/${f}`);
  }
  const allowed = /^(package\.json|README\.md|CHANGELOG\.md|LICENSE(\.txt|\.md)?|(dist|media|schema)\/.+)$/i;
  for (const f of files) {
    if (/(^|\/)node_modules\//.test(f) || /^src\//.test(f)) problems.push(`must not ship ${f}`);
    else if (f.endsWith('.map')) problems.push(`must not ship source map ${f}`);
    else if (!allowed.test(f)) problems.push(`unexpected file ${f}`);
  }
  const outside = entries.filter((e) => !e.startsWith('extension/') && !['extension.vsixmanifest', '[Content_Types].xml'].includes(e));
  for (const e of outside) problems.push(`unexpected entry ${e}`);
  return problems;
}

function listFiles(dir: string, rel = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? listFiles(path.join(dir, d.name), `${rel}${d.name}/`) : [`${rel}${d.name}`]);
}
