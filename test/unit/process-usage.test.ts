/**
 * The gauge's OS figures (src/server/process-usage.ts) of real processes: on Linux read from
 * /proc by the reader itself, checked against pidusage reading the same process; elsewhere the
 * reader is pidusage.
 */
import { strict as assert } from 'assert';
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import pidusage from 'pidusage';
import { PROCESS_GONE, ProcessUsageReader, clockTicksPerSecond, type ProcessUsage } from '../../src/server/process-usage';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A node process that burns one core (`spin`) or sleeps, with ~40 MiB of touched memory. */
function child(spin: boolean): ChildProcess {
  const code = `const keep = Buffer.alloc(40 * 2 ** 20, 1); ${spin ? 'for (;;) keep[0]++;' : 'setInterval(() => keep[0]++, 1000);'}`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

function figures(u: ProcessUsage | undefined): { cpuPercent: number; rss: number; first: boolean } {
  assert.ok(u && !('error' in u), `figures, got ${JSON.stringify(u)}`);
  return u;
}

describe('server/process-usage: CPU% and RSS of real processes', function () {
  this.timeout(30_000);
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  (process.platform === 'linux' ? it : it.skip)('reads /proc itself: CPU% between readings, RSS as pidusage sees it', async () => {
    const busy = child(true);
    const idle = child(false);
    children.push(busy, idle);
    await sleep(700); // both have touched their memory
    const reader = new ProcessUsageReader(500);
    const first = await reader.read([busy.pid!, idle.pid!]);
    // A first reading: the average since the process started (~0.7 s, nearly all of it spinning).
    const busyFirst = figures(first.get(busy.pid!)).cpuPercent;
    assert.ok(busyFirst > 30 && busyFirst < 150, `busy, first reading ${busyFirst}%`);
    assert.equal(figures(first.get(busy.pid!)).first, true);
    await sleep(1000);
    const second = await reader.read([busy.pid!, idle.pid!]);
    const busyNow = figures(second.get(busy.pid!));
    const idleNow = figures(second.get(idle.pid!));
    assert.deepEqual([busyNow.first, idleNow.first], [false, false], 'a later reading is of the last interval');
    // One core spinning (a loaded machine may give it less); the sleeper next to nothing.
    assert.ok(busyNow.cpuPercent > 30 && busyNow.cpuPercent < 150, `busy ${busyNow.cpuPercent}%`);
    assert.ok(idleNow.cpuPercent < 15, `idle ${idleNow.cpuPercent}%`);
    const theirs = await pidusage(idle.pid!);
    assert.ok(Math.abs(idleNow.rss - theirs.memory) < 0.1 * theirs.memory, `rss ${idleNow.rss} vs pidusage ${theirs.memory}`);
    assert.ok(idleNow.rss > 40 * 2 ** 20, `the 40 MiB buffer is in the RSS (${idleNow.rss})`);
    pidusage.clear();
  });

  it('through pidusage (macOS, Windows, PIDUSAGE_USE_PS) also says which reading of a pid is its first, until close()', async () => {
    const idle = child(false);
    children.push(idle);
    await sleep(300);
    const reader = new ProcessUsageReader(500, false);
    const firsts = [];
    for (let k = 0; k < 2; k++) firsts.push(figures((await reader.read([idle.pid!])).get(idle.pid!)).first);
    reader.close();
    firsts.push(figures((await reader.read([idle.pid!])).get(idle.pid!)).first);
    assert.deepEqual(firsts, [true, false, true]);
    pidusage.clear();
  });

  (process.platform === 'linux' ? it : it.skip)('reads CPU times in the kernel\'s clock ticks as getconf CLK_TCK reports them', () => {
    assert.equal(clockTicksPerSecond(), Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()));
  });

  (process.platform === 'linux' ? it : it.skip)('a process that ends between readings is gone, and close() lets go of its files', async () => {
    const openFiles = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const ending = child(false);
    const alive = child(false);
    children.push(alive);
    await sleep(300);
    const reader = new ProcessUsageReader(500);
    figures((await reader.read([ending.pid!, alive.pid!])).get(ending.pid!));
    assert.equal(openFiles(), before + 4, 'two /proc files per pid held open between ticks');
    await new Promise((r) => {
      ending.once('exit', r);
      ending.kill('SIGKILL');
    });
    const usage = await reader.read([ending.pid!, alive.pid!]);
    assert.deepEqual(usage.get(ending.pid!), { error: PROCESS_GONE });
    figures(usage.get(alive.pid!));
    assert.equal(openFiles(), before + 2, 'the ended process\'s files are closed');
    reader.close();
    assert.equal(openFiles(), before);
  });

  it('says a process is gone, without hiding the others', async () => {
    const gone = child(false);
    const alive = child(false);
    children.push(alive);
    await new Promise((r) => {
      gone.once('exit', r);
      gone.kill('SIGKILL');
    });
    const reader = new ProcessUsageReader(500);
    const usage = await reader.read([gone.pid!, alive.pid!]);
    assert.deepEqual(usage.get(gone.pid!), { error: PROCESS_GONE });
    figures(usage.get(alive.pid!));
    if (process.platform !== 'linux') pidusage.clear();
  });
});
