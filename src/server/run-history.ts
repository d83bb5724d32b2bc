/**
 * Saved runs: `<workspace>/.perf-lens/runs/<timestamp>.json`, each a report in the schema
 * `perf-lens run --out` writes (schema/report.schema.json). Bounded: older runs are pruned.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseReportText } from '../model/report-schema';
import type { Report } from '../model/report';
import type { RunEntry } from '../protocol/lsp';

export const RUNS_DIR = path.join('.perf-lens', 'runs');

/** `2026-11-24T13:05:09.123Z` -> `2026-11-24T13-05-09-123Z` (no `:` so it is a valid name everywhere; sorts by time). */
export function runIdFor(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

const RUN_ID = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z(-\d+)?$/;

export function isRunId(id: string): boolean {
  return RUN_ID.test(id);
}

/** Ids to delete so that the `keep` newest remain (ids sort by time). Pure. */
export function runsToPrune(ids: readonly string[], keep: number): string[] {
  const sorted = ids.filter(isRunId).sort();
  return sorted.slice(0, Math.max(0, sorted.length - Math.max(0, keep)));
}

export class RunHistory {
  readonly dir: string;

  constructor(workspaceRoot: string) {
    this.dir = path.join(workspaceRoot, RUNS_DIR);
  }

  fileOf(id: string): string {
    if (!isRunId(id)) throw new Error(`not a run id: ${JSON.stringify(id)} (expected a name like 2026-01-31T12-00-00-000Z)`);
    return path.join(this.dir, `${id}.json`);
  }

  /** Run ids on disk, oldest first. */
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -5))
      .filter(isRunId)
      .sort();
  }

  latest(): string | null {
    const ids = this.ids();
    return ids.length > 0 ? ids[ids.length - 1] : null;
  }

  /** Writes a report as a new run; returns its id and file. */
  save(report: Report, at: Date = new Date()): { id: string; file: string } {
    fs.mkdirSync(this.dir, { recursive: true });
    const base = runIdFor(at);
    let id = base;
    for (let n = 1; fs.existsSync(this.fileOf(id)); n++) id = `${base}-${n}`;
    const file = this.fileOf(id);
    // Write then rename: a reader (or a crash) never sees half a run.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
    fs.renameSync(tmp, file);
    return { id, file };
  }

  /** Reads and validates a run; throws with a readable message. */
  load(id: string): Report {
    const file = this.fileOf(id);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the run ${file}: ${(err as Error).message}`);
    }
    try {
      return parseReportText(text);
    } catch (err) {
      throw new Error(`the run ${file} is not a Perf Lens report: ${(err as Error).message}`);
    }
  }

  /** List entries (newest first); unreadable files are listed with what is known. */
  list(): RunEntry[] {
    return this.ids()
      .reverse()
      .map((id) => {
        const file = this.fileOf(id);
        try {
          const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Report>;
          return {
            id,
            file,
            startedAt: typeof r.run?.startedAt === 'string' ? r.run.startedAt : null,
            command: Array.isArray(r.run?.command) ? r.run.command.map(String) : [],
            functions: Array.isArray(r.functions) ? r.functions.length : 0,
          };
        } catch {
          return { id, file, startedAt: null, command: [], functions: 0 };
        }
      });
  }

  /** Deletes all but the `keep` newest runs; returns the deleted files. */
  prune(keep: number): string[] {
    const deleted: string[] = [];
    for (const id of runsToPrune(this.ids(), keep)) {
      const file = this.fileOf(id);
      try {
        fs.rmSync(file, { force: true });
        deleted.push(file);
      } catch {
        // Another process may hold it (Windows); it goes next time.
      }
    }
    return deleted;
  }
}
