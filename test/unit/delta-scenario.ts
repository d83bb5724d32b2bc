/**
 * Test helper: a deterministic recorder workload (fake clock, fixed pseudo-random choices) in every
 * mode: nested and recursive sync calls, throws, async calls across cuts, generators, spans and
 * memos. Its cuts feed the delta round-trip test (test/unit/delta-columns.test.ts). Not a spec file.
 */
import type { RunInput } from '../../src/model/report';
import type { FunctionDef, FunctionDelta, HelloMessage, MemoDelta, Mode, SpanDelta } from '../../src/protocol/runtime';
import type { FnTuple } from '../../src/runtime/node/abi';

/** The part of the Recorder this workload drives. */
export interface ScenarioRecorder {
  file(files: string[], fns: FnTuple[]): {
    s(i: number): number;
    r(i: number, frame: number, ok: number): void;
    sa(i: number): number;
    ra(i: number, t: number, ok: number): void;
    e(i: number): void;
  };
  span(name: string): { end(): void };
  memo(name: string, file?: string, line?: number): { hit(): void; miss(): void; evict(n?: number): void; size(n: number): void };
  cut(): { defs: FunctionDef[]; fns: FunctionDelta[]; spans: SpanDelta[]; memos: MemoDelta[] };
}

export type RecorderFactory = (mode: Mode, now: () => number) => ScenarioRecorder;

export interface ScenarioCut {
  mode: Mode;
  defs: FunctionDef[];
  fns: FunctionDelta[];
  spans: SpanDelta[];
  memos: MemoDelta[];
}

export const SCENARIO_MODES: Mode[] = ['full', 'adaptive', 'sampled', 'count'];

export function runScenario(make: RecorderFactory, mode: Mode, cuts = 12): ScenarioCut[] {
  let now = 0;
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const tick = (): void => { now += (1 + rand(400)) / 1000; }; // 1-400 µs
  const rec = make(mode, () => now);
  const a = rec.file(['/app/a.js'], [['leaf', 0, 1, 1, 0], ['mid', 0, 5, 1, 0], ['walk', 0, 9, 1, 0], ['thrower', 0, 20, 3, 0]]);
  const b = rec.file(['/app/b.ts', '/app/b.js'], [['load', 0, 2, 1, 1], ['gen', 0, 8, 1, 2], ['agen', 1, 12, 5, 3], ['hot', 0, 30, 1, 0]]);
  const memo = rec.memo('cache', '/app/a.js', 40);
  const walk = (depth: number): void => {
    const f = a.s(2);
    tick();
    if (depth > 0) walk(depth - 1);
    a.r(2, f, 1);
  };
  const pending: number[] = [];
  const out: ScenarioCut[] = [];
  for (let c = 0; c < cuts; c++) {
    const calls = 50 + rand(300);
    for (let k = 0; k < calls; k++) {
      const m = a.s(1);
      for (let j = rand(3); j > 0; j--) {
        const l = a.s(0);
        tick();
        a.r(0, l, 1);
      }
      tick();
      a.r(1, m, 1);
      if (rand(10) === 0) walk(rand(4));
      if (rand(7) === 0) {
        const t = a.s(3);
        tick();
        a.r(3, t, rand(2));
      }
      for (let j = 0; j < 20; j++) b.r(3, b.s(3), 1); // many tiny calls (sampled in adaptive mode)
      if (rand(5) === 0) pending.push(b.sa(0));
      if (pending.length > 0 && rand(3) === 0) b.ra(0, pending.shift()!, rand(4) === 0 ? 0 : 1);
      if (rand(9) === 0) {
        const g = b.sa(1);
        tick();
        if (rand(4) === 0) b.e(1);
        b.ra(1, g, 1);
      }
      if (rand(11) === 0) b.ra(2, b.sa(2), 0);
      if (rand(4) === 0) memo.hit();
      if (rand(6) === 0) memo.miss();
      if (rand(50) === 0) memo.evict();
      memo.size(rand(20));
    }
    if (c % 3 === 0) {
      const s = rec.span('phase');
      tick();
      s.end();
    }
    now += 100;
    out.push({ mode, ...rec.cut() });
  }
  return out;
}

/** A builder fed the way the collector feeds it (one connection per mode). */
export interface BuilderLike<M> {
  accept(connectionId: number, msg: M): void;
  build(run: RunInput): unknown;
}

export const SCENARIO_RUN: RunInput = { command: ['node', 'app.js'], cwd: '/app', startedAt: 0, wallMs: 1200, exitCode: 0, node: 'v20.0.0', pid: 100, mode: 'full' };

/** Feeds every mode's cuts (`delta` turns a cut into the message the builder takes) and builds the report. */
export function scenarioReport<M>(builder: BuilderLike<M>, cuts: ScenarioCut[][], delta: (cut: ScenarioCut, at: number) => M): unknown {
  cuts.forEach((list, k) => {
    const pid = 100 + k;
    const hello: HelloMessage = {
      type: 'hello', protocol: 0, token: 't', pid, ppid: 1, threadId: 0, argv: ['node', 'app.js'], execArgv: [], cwd: '/app',
      node: 'v20.0.0', mode: list[0].mode, startedAt: k,
    };
    builder.accept(k, hello as M);
    list.forEach((cut, i) => {
      if (cut.defs.length > 0) builder.accept(k, { type: 'functions', defs: cut.defs } as M);
      builder.accept(k, delta(cut, i * 100));
    });
  });
  return builder.build(SCENARIO_RUN);
}
