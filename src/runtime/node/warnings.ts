/**
 * One-time warnings: each distinct key is reported once, to stderr (unless quiet) and to the
 * collector as a `warning` message.
 */
import * as fs from 'fs';

export type WarningSink = (message: string, file?: string) => void;

export class Warnings {
  private seen = new Set<string>();
  private sink: WarningSink | undefined;
  private early: { message: string; file?: string }[] = [];

  constructor(private readonly quiet: boolean) {}

  /** Where warnings go besides stderr; warnings raised before this are replayed. */
  connect(sink: WarningSink): void {
    this.sink = sink;
    for (const w of this.early) sink(w.message, w.file);
    this.early = [];
  }

  warn(message: string, file?: string, key = file ?? message): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const text = message.startsWith('perf-lens') ? message : `perf-lens: ${message}`;
    if (!this.quiet) {
      try {
        fs.writeSync(2, `${text}\n`);
      } catch {
        // stderr closed: nothing to tell
      }
    }
    if (this.sink) this.sink(text, file);
    else this.early.push({ message: text, file });
  }
}
