/**
 * Runs a synchronous final flush however the process or thread ends: normal end, process.exit(),
 * uncaught exception, unhandled rejection (all reach 'exit'), and SIGINT/SIGTERM/SIGHUP when the
 * program has no listener of its own. For a signal we flush, remove our listener and re-raise it,
 * so the exit status is still "killed by SIGxxx". The program's exit code and output are unchanged.
 */
export type FinalFlush = (reason: string, exitCode?: number) => void;

const SIGNALS: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function installExitHooks(final: FinalFlush, isMainThread: boolean): void {
  let done = false;
  let fatal: string | undefined;
  const once = (reason: string, code?: number): void => {
    if (done) return;
    done = true;
    try {
      final(reason, code);
    } catch {
      // never let the runtime change how the program ends
    }
  };
  // Monitors observe without changing behaviour. The process dies only if no handler catches it.
  process.on('uncaughtExceptionMonitor', (_err, origin) => {
    if (process.listenerCount('uncaughtException') === 0) fatal = origin;
  });
  process.on('exit', (code) => once(fatal ?? 'exit', code));
  if (!isMainThread) return; // signals are delivered to the main thread only
  for (const sig of SIGNALS) {
    if (process.listenerCount(sig) > 0) continue;
    const onSignal = (): void => {
      // The program added its own listener since: it decides, and its exit path flushes.
      if (process.listenerCount(sig) > 1) return;
      process.removeListener(sig, onSignal);
      once(sig);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
