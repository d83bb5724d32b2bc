// One place that stops what the harness started, whatever way the run ends: normal end,
// failure, or Ctrl-C / SIGTERM (then the process exits 130 / 143 after cleaning up).
type Cleanup = () => void | Promise<void>;

const cleanups: Cleanup[] = [];
let installed = false;
let interrupted = false;

/** Registers a cleanup (run last-in first-out); returns a function that runs and removes it. */
export function onCleanup(fn: Cleanup): () => Promise<void> {
  installSignalHandlers();
  cleanups.push(fn);
  return async () => {
    const i = cleanups.indexOf(fn);
    if (i < 0) return;
    cleanups.splice(i, 1);
    await fn();
  };
}

const interruptListeners: (() => void)[] = [];

/** Called at once on Ctrl-C / SIGTERM, before the cleanups (e.g. to stop starting new tests). */
export function onInterrupt(fn: () => void): void {
  installSignalHandlers();
  interruptListeners.push(fn);
}

let running: Promise<void> | undefined;

/** Runs every registered cleanup once; concurrent callers (a signal during the normal end) share the run. */
export function runCleanups(): Promise<void> {
  running ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop()!;
      try { await fn(); } catch (err) { console.error('cleanup failed:', err); }
    }
  })().finally(() => { running = undefined; });
  return running;
}

export function wasInterrupted(): boolean {
  return interrupted;
}

function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (interrupted) return; // a second Ctrl-C while cleaning up: keep cleaning up
      interrupted = true;
      console.error(`\n${signal}: stopping code-server and the browser...`);
      for (const fn of interruptListeners) fn();
      void runCleanups().finally(() => process.exit(code));
    });
  }
}
