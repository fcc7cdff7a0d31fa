import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ClientErrorCode, WsTransport, type ConnectionStatus } from '../../../client/index.js';

/**
 * A stand-in for the node's WebSocket JSON-RPC, enough for WsTransport's connection handling:
 * `subscribe` answers an id, `chain_getHead` a height; `head(h)` notifies every newHeads
 * subscriber. It records the methods called.
 */
class FakeWsNode {
  server!: WebSocketServer;
  port = 0;
  readonly calls: string[] = [];
  height = 5;
  /** A head to notify right behind each subscribe answer (in the same write, before the client has taken the answer in). */
  headBehindSubscribe: number | undefined;
  private readonly subs = new Map<WebSocket, string[]>();

  async start(port = 0): Promise<void> {
    this.server = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((r) => this.server.once('listening', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    this.server.on('connection', (ws) => {
      this.subs.set(ws, []);
      ws.on('close', () => this.subs.delete(ws));
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { id: number; method: string };
        this.calls.push(m.method);
        let result: unknown = null;
        if (m.method === 'subscribe') {
          result = `0x${(this.calls.length + 16).toString(16)}`;
          this.subs.get(ws)!.push(result as string);
        } else if (m.method === 'chain_getHead') result = { height: this.height };
        else if (m.method === 'chain_getBlockByHeight') result = { height: (m as unknown as { params: number[] }).params[0], hash: '0x' };
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
        if (m.method === 'subscribe' && this.headBehindSubscribe !== undefined) this.head(this.headBehindSubscribe);
      });
    });
  }

  head(height: number): void {
    this.height = height;
    for (const [ws, ids] of this.subs) for (const id of ids) ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { subscription: id, result: { height } } }));
  }

  async stop(): Promise<void> {
    for (const ws of this.server.clients) ws.terminate();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const waitFor = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
  for (const end = Date.now() + ms; !ok(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('client/ws: WsTransport connection handling', () => {
  it("reports 'live' and 'down' as the connection comes and goes; a listener that throws does not stop the reconnection", async () => {
    const node = new FakeWsNode();
    await node.start();
    const t = new WsTransport({ url: `ws://127.0.0.1:${node.port}`, maxReconnectDelayMs: 100 });
    const seen: ConnectionStatus[] = [];
    t.onStatus(() => {
      throw new Error('a listener that fails');
    });
    t.onStatus((s) => seen.push(s));
    try {
      const sub = await t.subscribe<{ height: number }>('newHeads');
      node.head(6);
      expect((await sub.next()).value.height).to.equal(6);
      const port = node.port;
      await node.stop();
      await waitFor("'down'", () => seen.includes('down'));
      node.height = 8; // blocks 7 and 8 are made while the client is away
      node.calls.length = 0;
      await node.start(port);
      await waitFor('the subscription made again', () => node.calls.includes('subscribe') && seen.at(-1) === 'live');
      node.head(9);
      // The missed heads 7 and 8 are read and handed over first, then 9.
      expect([(await sub.next()).value.height, (await sub.next()).value.height, (await sub.next()).value.height]).to.deep.equal([7, 8, 9]);
      expect(seen).to.deep.equal(['live', 'down', 'live']);
    } finally {
      await t.close();
      await node.stop();
    }
  });

  it('a head notified right behind the answer to the new subscription does not make the reader skip the heads it missed', async () => {
    const node = new FakeWsNode();
    await node.start();
    const t = new WsTransport({ url: `ws://127.0.0.1:${node.port}`, maxReconnectDelayMs: 100 });
    try {
      const sub = await t.subscribe<{ height: number }>('newHeads');
      node.head(6);
      expect((await sub.next()).value.height).to.equal(6);
      const port = node.port;
      await node.stop();
      node.height = 9;
      node.headBehindSubscribe = 9; // arrives before the client has registered the new subscription's id
      await node.start(port);
      expect([(await sub.next()).value.height, (await sub.next()).value.height, (await sub.next()).value.height]).to.deep.equal([7, 8, 9]);
    } finally {
      await t.close();
      await node.stop();
    }
  });

  it('fillGaps false: after a reconnect a newHeads subscription goes on from the next head, reading none it missed', async () => {
    const node = new FakeWsNode();
    await node.start();
    const t = new WsTransport({ url: `ws://127.0.0.1:${node.port}`, maxReconnectDelayMs: 100 });
    try {
      const sub = await t.subscribe<{ height: number }>('newHeads', undefined, { fillGaps: false });
      node.head(6);
      expect((await sub.next()).value.height).to.equal(6);
      const port = node.port;
      await node.stop();
      node.calls.length = 0;
      await node.start(port);
      await waitFor('the subscription made again', () => node.calls.includes('subscribe'));
      node.head(20);
      expect((await sub.next()).value.height).to.equal(20);
      expect(node.calls).to.deep.equal(['subscribe']);
    } finally {
      await t.close();
      await node.stop();
    }
  });

  it('close() while the connection opens leaves no socket open and no status after it', async () => {
    const node = new FakeWsNode();
    await node.start();
    const t = new WsTransport({ url: `ws://127.0.0.1:${node.port}` });
    const seen: ConnectionStatus[] = [];
    t.onStatus((s) => seen.push(s));
    const call = t.request('chain_getHead');
    const closing = t.close();
    const e = await call.then(
      () => undefined,
      (err: unknown) => err,
    );
    await closing;
    expect((e as { code?: string } | undefined)?.code).to.equal(ClientErrorCode.Closed);
    await new Promise((r) => setTimeout(r, 100));
    expect(node.server.clients.size, 'no socket left open on the node').to.equal(0);
    expect(seen).to.deep.equal([]);
    await node.stop();
  });
});
