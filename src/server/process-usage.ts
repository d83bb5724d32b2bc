/**
 * CPU% and RSS of processes from the operating system. Never throws: a pid it cannot read comes
 * back as the reason why, and does not hide the others.
 *
 * On Linux it reads /proc/<pid>/stat and /proc/<pid>/status itself, synchronously from files it
 * keeps open: procfs files are made in memory, so a read takes microseconds, where pidusage's
 * asynchronous reads cost several thread-pool round trips (each a wake-up of a pool thread and of
 * the event loop) per tick, a quarter of a live session's idle cost in bench/server.js. Elsewhere
 * (macOS: `ps`, Windows: wmic/PowerShell), and when PIDUSAGE_USE_PS asks for `ps`, pidusage does it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import pidusage from 'pidusage';

export const PROCESS_GONE = 'the process is gone';

/**
 * `first`: the reader had not read this pid before, so `cpuPercent` is not of the last interval
 * (on Linux the average since the process started, from pidusage 0).
 */
export type ProcessUsage = { cpuPercent: number; rss: number; first: boolean } | { error: string };

/**
 * The kernel's USER_HZ: the unit of the CPU times in /proc/<pid>/stat. 100 on every mainstream
 * architecture (the ABI fixes it), but asked once from `getconf CLK_TCK`, as pidusage does, so an
 * architecture where it differs reads right too; 100 when getconf cannot answer.
 */
let clockTicks: number | undefined;
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const answer = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      clockTicks = Number.isInteger(answer) && answer > 0 ? answer : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}
// Fields of /proc/<pid>/stat (proc(5) numbers them from 1), counted from the state (field 3), the
// first after the command name, which is in parentheses and may hold spaces.
const STATE = 3 - 3;
const UTIME = 14 - 3;
const STIME = 15 - 3;
const STARTTIME = 22 - 3;

/** A measured process's open /proc files and its previous reading (CPU seconds, when in ms of a monotonic clock). */
interface ProcfsPid {
  stat: number;
  status: number;
  cpuSeconds: number;
  atMs: number;
}

/**
 * Reads the usage of one monitor's processes, tick after tick (CPU% is the CPU time used since
 * the previous reading of the same pid; a first reading's, on Linux, the average since the
 * process started, and 0 where pidusage cannot tell). On Linux it keeps each pid's two /proc
 * files open (a read of an open one takes ~4 µs, an open-read-close ~40 µs; a pid reused by a new
 * process does not inherit them: the old files read as gone). `close()` when done.
 */
export class ProcessUsageReader {
  private readonly open = new Map<number, ProcfsPid>();
  /** Pids pidusage has answered for (it keeps their previous reading itself). */
  private readonly seenByPidusage = new Set<number>();
  private readonly buffer = Buffer.alloc(8192);

  constructor(
    private readonly intervalMs: number,
    private readonly useProcfs = process.platform === 'linux' && !process.env.PIDUSAGE_USE_PS,
  ) {}

  async read(pids: readonly number[]): Promise<Map<number, ProcessUsage>> {
    if (!this.useProcfs) {
      const out = await readWithPidusage(pids, this.intervalMs);
      for (const [pid, u] of out) {
        if ('error' in u) continue;
        u.first = !this.seenByPidusage.has(pid);
        this.seenByPidusage.add(pid);
      }
      return out;
    }
    const out = new Map<number, ProcessUsage>();
    const asked = new Set(pids);
    for (const pid of this.open.keys()) if (!asked.has(pid)) this.forget(pid); // no longer measured
    for (const pid of pids) out.set(pid, this.readProcfs(pid));
    return out;
  }

  /** Closes the files it holds open and forgets every pid (the next reading of one is a first). */
  close(): void {
    for (const pid of [...this.open.keys()]) this.forget(pid);
    this.seenByPidusage.clear();
  }

  private readProcfs(pid: number): ProcessUsage {
    let stat: string;
    let status: string;
    let p = this.open.get(pid);
    const first = p === undefined;
    try {
      if (!p) {
        p = { stat: -1, status: -1, cpuSeconds: 0, atMs: 0 };
        this.open.set(pid, p);
        p.stat = fs.openSync(`/proc/${pid}/stat`, 'r');
        p.status = fs.openSync(`/proc/${pid}/status`, 'r');
      }
      stat = this.readFile(p.stat);
      status = this.readFile(p.status);
    } catch (err) {
      this.forget(pid);
      return { error: describe(err) };
    }
    const atMs = performance.now();
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[STATE] === 'Z' || fields[STATE] === 'X') {
      this.forget(pid);
      return { error: PROCESS_GONE }; // exited, not reaped yet
    }
    const ticks = clockTicksPerSecond();
    const cpuSeconds = (Number(fields[UTIME]) + Number(fields[STIME])) / ticks;
    const rssKiB = Number(/^VmRSS:\s*(\d+)\s*kB/m.exec(status)?.[1]);
    if (!Number.isFinite(cpuSeconds) || !Number.isFinite(rssKiB)) return { error: `unreadable /proc/${pid}/stat or status` };
    const cpuPercent = first ? averageSinceStart(cpuSeconds, Number(fields[STARTTIME]) / ticks) : percentOf(cpuSeconds - p.cpuSeconds, (atMs - p.atMs) / 1000);
    p.cpuSeconds = cpuSeconds;
    p.atMs = atMs;
    return { cpuPercent, rss: rssKiB * 1024, first };
  }

  /** The whole file from its start (procfs makes it anew on each read from offset 0). */
  private readFile(fd: number): string {
    const n = fs.readSync(fd, this.buffer, 0, this.buffer.length, 0);
    return this.buffer.toString('latin1', 0, n);
  }

  private forget(pid: number): void {
    const p = this.open.get(pid);
    if (!p) return;
    this.open.delete(pid);
    for (const fd of [p.stat, p.status]) {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
}

/** CPU% of `cpuSeconds` used over `wallSeconds` (0 when no time passed). */
function percentOf(cpuSeconds: number, wallSeconds: number): number {
  return wallSeconds > 0 ? Math.max(0, (cpuSeconds / wallSeconds) * 100) : 0;
}

/** A first reading's CPU%: the average since the process started (`startSeconds` after boot, from its stat). */
function averageSinceStart(cpuSeconds: number, startSeconds: number): number {
  try {
    const uptimeSeconds = Number(fs.readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    return Number.isFinite(uptimeSeconds) && Number.isFinite(startSeconds) ? percentOf(cpuSeconds, uptimeSeconds - startSeconds) : 0;
  } catch {
    return 0;
  }
}

/**
 * One pidusage call for all pids (on macOS and Windows that is one `ps`/`wmic` run per tick, not one
 * per pid); a pid missing from its answer is asked alone, to learn why.
 * pidusage keeps the previous reading of each pid (for CPU% between calls) and an open /proc file;
 * both are dropped after `maxage` ms without a reading, which also ends its own cleanup timer.
 */
async function readWithPidusage(pids: readonly number[], intervalMs: number): Promise<Map<number, ProcessUsage>> {
  const maxage = Math.max(3 * intervalMs, 2000);
  const out = new Map<number, ProcessUsage>();
  let all: Record<string, pidusage.Status | undefined> = {};
  try {
    all = pids.length > 0 ? await pidusage([...pids], { maxage }) : {};
  } catch {
    // Every pid failed (or the tool is missing): each is asked alone below.
  }
  await Promise.all(pids.map(async (pid) => {
    try {
      const s = all[pid] ?? await pidusage(pid, { maxage });
      out.set(pid, Number.isFinite(s.cpu) && Number.isFinite(s.memory) ? { cpuPercent: Math.max(0, s.cpu), rss: s.memory, first: false } : { error: 'pidusage returned no figures' });
    } catch (err) {
      out.set(pid, { error: describe(err) });
    }
  }));
  return out;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // pidusage's own "not found", no /proc entry, or an open one of a process that ended (a spawn
  // ENOENT of `ps` is a missing tool, not a missing process).
  if (/No matching pid/i.test(String(e?.message)) || e?.code === 'ESRCH' || (e?.code === 'ENOENT' && String(e?.path).startsWith('/proc/'))) return PROCESS_GONE;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  return e?.message ? String(e.message) : String(err);
}
