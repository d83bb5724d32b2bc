import * as vscode from 'vscode';

/** `perfLens.lens.display`: lenses above functions, or the same text at the end of their first line. */
export type LensDisplay = 'codelens' | 'inline';

export function readLensDisplay(): LensDisplay {
  return vscode.workspace.getConfiguration('perfLens').get('lens.display') === 'inline' ? 'inline' : 'codelens';
}

/**
 * The inline display: the server's lens texts as end-of-line decorations (no extra line above each
 * function). Fed from the same code-lens requests, so it updates whenever the lenses would.
 */
export class InlineLenses implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic', margin: '0 0 0 2em' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly byUri = new Map<string, vscode.DecorationOptions[]>();
  private readonly subscription = vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.paint(e)));

  show(document: vscode.TextDocument, lenses: readonly vscode.CodeLens[]): void {
    const options = lenses.filter((l) => l.command?.title).map((l): vscode.DecorationOptions => {
      const line = document.lineAt(Math.min(l.range.start.line, document.lineCount - 1));
      return { range: new vscode.Range(line.range.end, line.range.end), renderOptions: { after: { contentText: l.command!.title } } };
    });
    this.byUri.set(document.uri.toString(), options);
    this.paintAll(document.uri);
  }

  clear(uri: vscode.Uri): void {
    if (!this.byUri.delete(uri.toString())) return;
    this.paintAll(uri);
  }

  private paintAll(uri: vscode.Uri): void {
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === uri.toString()) this.paint(e);
  }

  private paint(editor: vscode.TextEditor): void {
    editor.setDecorations(this.decoration, this.byUri.get(editor.document.uri.toString()) ?? []);
  }

  dispose(): void {
    this.subscription.dispose();
    this.decoration.dispose();
  }
}
