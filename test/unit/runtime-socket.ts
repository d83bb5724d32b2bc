/**
 * Test helpers: talk to a collector's private socket the way the runtime does (a hello with the
 * token, then JSON lines). Not a spec file.
 */
import * as net from 'net';
import { PROTOCOL_VERSION, type HelloMessage } from '../../src/protocol/runtime';

export function hello(token: string, pid = 4242, extra: Partial<HelloMessage> = {}): HelloMessage {
  return {
    type: 'hello', protocol: PROTOCOL_VERSION, token, pid, ppid: 1, threadId: 0, argv: ['node', 'x.js'], execArgv: [],
    cwd: '/tmp', node: process.version, mode: 'full', startedAt: Date.now(), ...extra,
  };
}

export function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path: socketPath }, () => resolve(s));
    s.once('error', reject);
  });
}

export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const line = (m: unknown): string => `${JSON.stringify(m)}\n`;
