/**
 * Entry of the insight server (dist/server.js): `node dist/server.js --stdio` (or `--node-ipc`,
 * `--socket=<port>`, as vscode-languageclient starts it). Never imports `vscode`: any LSP client
 * can use it.
 */
import { ProposedFeatures, createConnection } from 'vscode-languageserver/node';
import { InsightServer } from './server';

const connection = createConnection(ProposedFeatures.all);
new InsightServer(connection);
connection.listen();
