import { createServer } from 'node:net';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { pino } from 'pino';
import { P2PNetwork, type P2POptionsInput } from '../../../p2p/index.js';

export const CHAIN = 'p2ptest';

/** Silent unless P2P_TEST_LOG=debug (or another level) is set. */
export const logger = pino({ level: process.env.P2P_TEST_LOG ?? 'silent' });

/**
 * Options for fast tests: loopback, ephemeral port, short backoff, heartbeat and timeouts. Open
 * admission, since most tests connect nodes that are not each other's validators or bootstrap
 * peers (admission.test.ts covers the permissioned mode).
 */
export function testOptions(extra: Partial<P2POptionsInput> = {}): P2POptionsInput {
  return {
    chainId: CHAIN,
    admission: 'open',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    redialMinMs: 100,
    redialMaxMs: 800,
    heartbeatIntervalMs: 150,
    scoreCheckIntervalMs: 150,
    requestTimeoutMs: 2_000,
    dialTimeoutMs: 1_000,
    ...extra,
  };
}

export async function makeNode(extra: Partial<P2POptionsInput> = {}, privateKey?: PrivateKey): Promise<P2PNetwork> {
  const key = privateKey ?? (await generateKeyPair('Ed25519'));
  return new P2PNetwork(testOptions(extra), { logger: logger.child({ node: extra.listen?.[0] ?? 'ephemeral' }), privateKey: key });
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `n` distinct TCP ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function connectedTo(a: P2PNetwork, b: P2PNetwork): boolean {
  return a.peers().some((p) => p.id === b.peerId);
}

/** Records every message a handler sees and answers with `verdict(data)`. */
export function recorder<V>(verdict: (data: Uint8Array) => V) {
  const seen: { data: Uint8Array; from: string }[] = [];
  const handler = (data: Uint8Array, from: string): V => {
    seen.push({ data: new Uint8Array(data), from });
    return verdict(data);
  };
  return { seen, handler };
}
