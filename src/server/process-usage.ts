/**
 * CPU% and RSS of processes from the operating system (pidusage: /proc on Linux, ps on macOS, wmic
 * or PowerShell on Windows). Never throws: a pid it cannot read comes back as the reason why, and
 * does not hide the others.
 */
import pidusage from 'pidusage';

export const PROCESS_GONE = 'the process is gone';

export type ProcessUsage = { cpuPercent: number; rss: number } | { error: string };

/**
 * One pidusage call for all pids (on macOS and Windows that is one `ps`/`wmic` run per tick, not one
 * per pid); a pid missing from its answer is asked alone, to learn why.
 * pidusage keeps the previous reading of each pid (for CPU% between calls) and an open /proc file;
 * both are dropped after `maxage` ms without a reading, which also ends its own cleanup timer.
 */
export async function readProcessUsage(pids: readonly number[], intervalMs: number): Promise<Map<number, ProcessUsage>> {
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
      out.set(pid, Number.isFinite(s.cpu) && Number.isFinite(s.memory) ? { cpuPercent: Math.max(0, s.cpu), rss: s.memory } : { error: 'pidusage returned no figures' });
    } catch (err) {
      out.set(pid, { error: describe(err) });
    }
  }));
  return out;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // pidusage's own "not found" (a spawn ENOENT of `ps` is a missing tool, not a missing process).
  if (/No matching pid/i.test(String(e?.message))) return PROCESS_GONE;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  return e?.message ? String(e.message) : String(err);
}
