import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
// Types only: the client library is loaded when the server starts, not at activation (cheaper).
import type { LanguageClient, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
type ClientLibrary = typeof import('vscode-languageclient/node');
import * as P from '../protocol/lsp';
import { InlineLenses, readLensDisplay } from './inlineLenses';
import { serverSettings } from './settings';

/** JS/TS files on disk: the documents the insight server puts lenses and hovers on. */
export const DOCUMENT_SELECTOR = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'].map((language) => ({ scheme: 'file', language }));

/**
 * The insight language server (dist/server.js), started on first use. All Perf Lens state (sessions,
 * runs, lenses, hovers) lives there; this class only starts it, forwards settings and sends requests.
 */
export class InsightClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private lib: ClientLibrary | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private lensesHidden = false;
  private readonly sessionChanged = new vscode.EventEmitter<P.SessionChangedParams>();
  /** perfLens/sessionChanged notifications of the server. */
  readonly onSessionChanged = this.sessionChanged.event;
  private readonly resourcesChanged = new vscode.EventEmitter<P.ResourcesChangedParams>();
  /** perfLens/resources notifications: a gauge tick of a live session, or its final state. */
  readonly onResources = this.resourcesChanged.event;
  private readonly inline = new InlineLenses();
  private readonly subscriptions: vscode.Disposable[] = [this.inline];

  constructor(private readonly context: vscode.ExtensionContext, readonly output: vscode.OutputChannel) {
    this.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('perfLens.lens.display')) this.refreshLenses();
      if (!e.affectsConfiguration('perfLens') || !this.client || !this.lib || !this.running) return;
      void this.client.sendNotification(this.lib.DidChangeConfigurationNotification.type, { settings: serverSettings() });
    }));
  }

  /** The server's attach file (written once it runs), for processes started outside the debugger. */
  get attachFile(): string {
    return path.join(this.storageDir, P.ATTACH_FILE_NAME);
  }

  private get storageDir(): string {
    return (this.context.storageUri ?? this.context.globalStorageUri).fsPath;
  }

  get running(): boolean {
    return this.client !== undefined && this.lib !== undefined && this.client.state === this.lib.State.Running;
  }

  /** Starts the server once; rejects (after telling the user) when it cannot start. */
  start(): Promise<LanguageClient> {
    this.starting ??= this.create().catch((err: unknown) => {
      this.starting = undefined;
      const message = err instanceof Error ? err.message : String(err);
      this.output.appendLine(`insight server failed to start: ${message}`);
      void vscode.window.showErrorMessage(`Perf Lens: the insight server did not start (${message}). Lenses and debug timings are off; see the "Perf Lens" output.`, 'Show Output')
        .then((choice) => { if (choice) this.output.show(); });
      throw err;
    });
    return this.starting;
  }

  async request<R>(method: string, params?: unknown): Promise<R> {
    const client = await this.start();
    return client.sendRequest<R>(method, params);
  }

  /** Hides or shows every Perf Lens lens (the server keeps computing them). */
  setLensesHidden(hidden: boolean): void {
    this.lensesHidden = hidden;
    this.refreshLenses();
  }

  get lensesAreHidden(): boolean {
    return this.lensesHidden;
  }

  private refreshLenses(): void {
    if (!this.client || !this.lib) return;
    const feature = this.client.getFeature(this.lib.CodeLensRequest.method);
    for (const doc of vscode.workspace.textDocuments) feature.getProvider(doc)?.onDidChangeCodeLensEmitter.fire();
  }

  private async create(): Promise<LanguageClient> {
    const module = this.context.asAbsolutePath(path.join('dist', 'server.js'));
    if (!fs.existsSync(module)) throw new Error(`${module} is missing; reinstall the extension (or run "npm run build" in a checkout)`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require('vscode-languageclient/node') as ClientLibrary;
    const { TransportKind } = lib;
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc, options: { execArgv: [...P.SERVER_EXEC_ARGV] } },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: [...P.SERVER_EXEC_ARGV, '--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      initializationOptions: { storageDir: this.storageDir, settings: serverSettings() } satisfies P.InitializationOptions,
      middleware: {
        provideCodeLenses: async (document, token, next) => {
          if (this.lensesHidden) {
            this.inline.clear(document.uri);
            return [];
          }
          const lenses = (await next(document, token)) ?? [];
          if (readLensDisplay() === 'codelens') {
            this.inline.clear(document.uri);
            return lenses;
          }
          this.inline.show(document, lenses);
          return [];
        },
      },
    };
    this.lib = lib;
    const client = new lib.LanguageClient('perfLens', 'Perf Lens', serverOptions, clientOptions);
    this.client = client;
    await client.start();
    client.onNotification(P.SessionChanged, (p: P.SessionChangedParams) => {
      this.output.appendLine(p.message);
      this.sessionChanged.fire(p);
    });
    client.onNotification(P.ResourcesChanged, (p: P.ResourcesChangedParams) => this.resourcesChanged.fire(p));
    const protocol = (client.initializeResult?.capabilities.experimental as { perfLens?: { protocol?: number } } | undefined)?.perfLens?.protocol;
    if (protocol !== P.LSP_PROTOCOL_VERSION) {
      await client.stop();
      throw new Error(`the server speaks Perf Lens protocol ${String(protocol)}, this extension ${P.LSP_PROTOCOL_VERSION}`);
    }
    return client;
  }

  async dispose(): Promise<void> {
    for (const d of this.subscriptions) d.dispose();
    this.sessionChanged.dispose();
    this.resourcesChanged.dispose();
    const client = this.client;
    this.client = undefined;
    if (client?.isRunning()) await client.stop();
  }
}
