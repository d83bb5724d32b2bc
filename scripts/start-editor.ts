// `npm start`: try Perf Lens in a real VS Code (code-server 4.100.3, VS Code 1.100.3) in your browser.
// Builds and packages the extension (.vsix), starts code-server on 127.0.0.1 with it installed and the
// examples/primes workspace open, prints the URL and keeps running until Ctrl-C (which stops the server).
//   Options: --folder DIR (open another folder)
import * as path from 'path';
import { onCleanup } from '../test/e2e/harness/cleanup';
import { installCodeServer, startCodeServer } from '../test/e2e/harness/codeServer';
import { EXAMPLE_WORKSPACE } from '../test/e2e/harness/paths';
import { packageExtension } from '../test/e2e/harness/vsix';
import { workbenchUrl } from '../test/e2e/harness/browser';

function main(): Promise<void> {
  const i = process.argv.indexOf('--folder');
  const folder = i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : EXAMPLE_WORKSPACE;
  onCleanup(() => undefined); // Ctrl-C handler first: it stops whatever was started below
  console.log(`code-server: ${installCodeServer()}`);
  const { vsix } = packageExtension();
  console.log(`packaged ${path.basename(vsix)}`);
  const server = startCodeServer({ vsix: [vsix], workspace: folder });
  const url = workbenchUrl(server, folder);
  console.log([
    '',
    `VS Code with Perf Lens is running: open ${url}`,
    `  (loopback only; from another machine: ssh -L ${server.port}:127.0.0.1:${server.port} <this host>)`,
    '  Open main.js and press F5: lenses with live timings appear over each function.',
    `  Server log: ${server.log}`,
    'Press Ctrl-C to stop it.',
  ].join('\n'));
  // Wait for Ctrl-C (its handler stops the server and exits); end if the server dies on its own.
  return new Promise<void>((done) => {
    const timer = setInterval(() => {
      try { process.kill(-server.pgid, 0); } catch { clearInterval(timer); console.log('code-server exited'); done(); }
    }, 1000);
  });
}

main().then(() => process.exit(1), (err: unknown) => { console.error(err instanceof Error ? err.message : err); process.exit(1); });
