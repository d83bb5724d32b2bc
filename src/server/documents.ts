/**
 * Open documents and the anchors of their measured functions. Edits arrive as LSP incremental
 * changes; each moves the anchors before the document text is updated.
 */
import * as fs from 'fs';
import { fileURLToPath } from 'url';
import { TextDocument, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import type { Report } from '../model/report';
import { applyEdit, createAnchor, functionKey, lineStarts, sourceHashAt, verifyAnchors, type Anchor } from './anchors';

export interface OpenDocument {
  readonly uri: string;
  /** Absolute path as the runtime reports it, null for non-file documents. */
  readonly file: string | null;
  doc: TextDocument;
  readonly anchors: Map<string, Anchor>;
  /** The file as it was measured (read from disk when first needed). */
  measured?: string;
}

/** file: URI -> the path the runtime reports (drive letter upper-cased on Windows, like Node's). */
export function fileOfUri(uri: string): string | null {
  if (!uri.startsWith('file:')) return null;
  try {
    const p = fileURLToPath(uri);
    return process.platform === 'win32' ? p.replace(/^[a-z]:/, (d) => d.toUpperCase()) : p;
  } catch {
    return null;
  }
}

/** Node resolves symlinks when it loads a module, so the runtime reports real paths: match those. */
function realPath(file: string | null): string | null {
  if (!file) return null;
  try {
    return fs.realpathSync.native(file);
  } catch {
    return file; // not on disk (yet): the path as given
  }
}

export class Documents {
  private readonly docs = new Map<string, OpenDocument>();
  private readonly byFile = new Map<string, OpenDocument>();

  open(uri: string, languageId: string, version: number, text: string): OpenDocument {
    this.close(uri);
    const d: OpenDocument = { uri, file: realPath(fileOfUri(uri)), doc: TextDocument.create(uri, languageId, version, text), anchors: new Map() };
    this.docs.set(uri, d);
    if (d.file) this.byFile.set(d.file, d);
    return d;
  }

  get(uri: string): OpenDocument | undefined {
    return this.docs.get(uri);
  }

  byPath(file: string): OpenDocument | undefined {
    return this.byFile.get(file);
  }

  hasFile(file: string): boolean {
    return this.byFile.has(file);
  }

  change(uri: string, version: number, changes: readonly TextDocumentContentChangeEvent[]): void {
    const d = this.docs.get(uri);
    if (!d) return;
    let full = false;
    for (const c of changes) {
      if ('range' in c) {
        applyEdit(d.anchors.values(), { start: c.range.start, end: c.range.end, text: c.text });
      } else {
        full = true;
      }
      d.doc = TextDocument.update(d.doc, [c], version);
    }
    verifyAnchors(d.doc.getText(), d.anchors.values(), full);
  }

  close(uri: string): void {
    const d = this.docs.get(uri);
    if (!d) return;
    this.docs.delete(uri);
    if (d.file && this.byFile.get(d.file) === d) this.byFile.delete(d.file);
  }

  /**
   * The anchor of a measured function in an open document, created at first match. A function of
   * a saved run carries the hash of the text it was measured in (`sourceHash`): the file on disk
   * may have changed since.
   */
  anchorFor(d: OpenDocument, f: { file: string; line: number; column: number; name: string; sourceHash?: string }): Anchor | null {
    const key = functionKey(f);
    const existing = d.anchors.get(key);
    if (existing) return existing;
    // Deleted or unreadable: the open text is the best guess.
    d.measured ??= readOrUndefined(f.file) ?? d.doc.getText();
    const anchor = createAnchor(key, f.name, f.line, f.column, d.measured, d.doc.getText(), f.sourceHash);
    if (anchor) d.anchors.set(key, anchor);
    return anchor;
  }

  /**
   * The report with each function's `sourceHash` taken from the text it was measured in: the open
   * document's measured text, else the file on disk now. Functions whose file cannot be read are
   * left without one (they then compare with the file as it is when the run is opened).
   */
  withSourceHashes(report: Report): Report {
    const texts = new Map<string, { text: string; starts: number[] } | null>();
    const functions = report.functions.map((f) => {
      let t = texts.get(f.file);
      if (t === undefined) {
        const text = this.byFile.get(f.file)?.measured ?? readOrUndefined(f.file);
        texts.set(f.file, (t = text === undefined ? null : { text, starts: lineStarts(text) }));
      }
      const sourceHash = t ? sourceHashAt(t.text, f.line, f.column, t.starts) : undefined;
      return sourceHash === undefined ? f : { ...f, sourceHash };
    });
    return { ...report, functions };
  }

  /** Forgets anchors (e.g. after a new run: positions and texts were measured again). */
  resetAnchors(): void {
    for (const d of this.docs.values()) {
      d.anchors.clear();
      d.measured = undefined;
    }
  }

  get all(): IterableIterator<OpenDocument> {
    return this.docs.values();
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
