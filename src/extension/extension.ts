import * as vscode from 'vscode';
import { RUN_CURRENT_FILE_COMMAND, runCurrentFile } from './runCurrentFile';

/** Perf Lens extension entry point: stays cheap; each feature registers its own pieces here. */
export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(RUN_CURRENT_FILE_COMMAND, () => runCurrentFile(context.extensionPath)),
  );
}

export function deactivate(): void {
  // Everything registered is disposed through context.subscriptions.
}
