import type * as vscode from 'vscode';

/** Perf Lens extension entry point. Editor features register here as their issues land. */
export function activate(_context: vscode.ExtensionContext): void {
  // Intentionally empty: activation must stay cheap (see issue on live CodeLens).
}

export function deactivate(): void {
  // Nothing to release yet.
}
