// Installs, starts and stops code-server (the real VS Code 1.100.3 workbench and extension host)
// through scripts/e2e/*.sh. Each server runs in its own process group with isolated HOME,
// user-data and extensions dirs; stop() kills that group and nothing else.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onCleanup } from './cleanup';
import { CODE_SERVER_CACHE, SCRIPTS_DIR } from './paths';

/** The test harness itself failed (install, start, package): not a product bug, but a failed run. */
export class HarnessError extends Error {
  override name = 'HarnessError';
}

export interface CodeServer {
  url: string;
  port: number;
  pgid: number;
  stateDir: string;
  log: string;
  /** Kills the server's process group (idempotent). */
  stop(): Promise<void>;
}

/** Installs code-server (and the Debian packages it needs) once; returns its binary. */
export function installCodeServer(): string {
  const r = spawnSync('bash', [path.join(SCRIPTS_DIR, 'install-code-server.sh'), CODE_SERVER_CACHE],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    throw new HarnessError(`could not install code-server into ${CODE_SERVER_CACHE} (scripts/e2e/install-code-server.sh exited ${r.status ?? r.signal}; see its message above)`);
  }
  return r.stdout.trim().split('\n').pop()!;
}

export interface StartOptions {
  /** Folder the server opens by default. */
  workspace?: string;
  /** .vsix files installed into the fresh extensions dir before start. */
  vsix?: string[];
  /** Keep this dir (and its logs) after stop; default: a temp dir removed by stop(). */
  stateDir?: string;
}

export function startCodeServer(options: StartOptions = {}): CodeServer {
  const args = [path.join(SCRIPTS_DIR, 'start-code-server.sh'), '--cache-dir', CODE_SERVER_CACHE];
  for (const v of options.vsix ?? []) args.push('--vsix', v);
  if (options.stateDir) args.push('--state-dir', options.stateDir);
  if (options.workspace) args.push(options.workspace);
  const r = spawnSync('bash', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new HarnessError(`code-server did not start (scripts/e2e/start-code-server.sh exited ${r.status ?? r.signal}; see its message above)`);
  const kv: Record<string, string> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const stateDir = kv.STATE_DIR;
  const pgid = Number(kv.PGID);
  let stopped = false;
  const stop = onCleanup(() => {
    if (stopped) return;
    stopped = true;
    spawnSync('bash', [path.join(SCRIPTS_DIR, 'start-code-server.sh'), '--stop', stateDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  });
  // Last resort if the process exits some other way: never leave a server behind.
  process.once('exit', () => {
    if (!stopped) try { process.kill(-pgid, 'SIGTERM'); } catch { /* already gone */ }
  });
  return { url: kv.URL, port: Number(kv.PORT), pgid, stateDir, log: kv.LOG, stop };
}

/**
 * Installs a .vsix with code-server's own installer into `extensionsDir` (emptied first) and
 * returns the installed extension's folder: exactly what a user who installs the .vsix gets.
 */
export function installVsix(vsix: string, extensionsDir: string): string {
  const bin = path.join(CODE_SERVER_CACHE, 'node_modules', '.bin', 'code-server');
  fs.rmSync(extensionsDir, { recursive: true, force: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  // Any code-server call writes ~/.config/code-server: keep it in a throw-away HOME.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'perf-lens-vsix-install-'));
  try {
    execFileSync(bin, ['--extensions-dir', extensionsDir, '--user-data-dir', path.join(home, 'user-data'), '--install-extension', vsix], {
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local/share'), XDG_CACHE_HOME: path.join(home, '.cache'), EXTENSIONS_GALLERY: '{}' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch (err) {
    throw new HarnessError(`code-server --install-extension ${vsix} failed: ${(err as Error).message}`);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  const installed = fs.readdirSync(extensionsDir).filter((d) => fs.existsSync(path.join(extensionsDir, d, 'package.json')));
  if (installed.length !== 1) throw new HarnessError(`expected one extension in ${extensionsDir} after installing ${vsix}, found: ${installed.join(', ') || 'none'}`);
  return path.join(extensionsDir, installed[0]);
}
