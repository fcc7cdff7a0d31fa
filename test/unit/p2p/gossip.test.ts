import { expect } from 'chai';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { P2PError, P2PErrorCode, Topic, Verdict, type P2PNetwork } from '../../../p2p/index.js';
import { connectedTo, freePorts, makeNode, recorder, sleep, waitFor } from './helpers.js';

const accept = () => Verdict.Accept;
const bytes = (...b: number[]) => new Uint8Array(b);
const has = (seen: { data: Uint8Array }[], b: Uint8Array) => seen.some((m) => Buffer.from(m.data).equals(Buffer.from(b)));

describe('p2p gossip', function () {
  this.timeout(30_000);
  const nodes: P2PNetwork[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  it('forms a full mesh from mutual bootstrap lists whatever the start order, floods messages, and heals after a restart', async () => {
    const ports = await freePorts(4);
    const keys = await Promise.all(ports.map(() => generateKeyPair('Ed25519')));
    const bootstrap = ports.map((p, i) => `/ip4/127.0.0.1/tcp/${p}/p2p/${peerIdFromPrivateKey(keys[i]!).toString()}`);
    for (let i = 0; i < 4; i++) nodes.push(await makeNode({ listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`], bootstrap }, keys[i]));
    const recs = nodes.map(() => recorder(accept));
    // Three subscribe before start, one after: both paths must install the validator.
    for (let i = 0; i < 3; i++) nodes[i]!.subscribe(Topic.Consensus, recs[i]!.handler);
    for (const i of [3, 2, 1, 0]) {
      await nodes[i]!.start();
      await sleep(250);
    }
    nodes[3]!.subscribe(Topic.Consensus, recs[3]!.handler);
    await waitFor(() => nodes.every((n) => n.peers().length === 3), 'every node connected to the three others');
    await waitFor(() => nodes.every((n) => n.topicPeers(Topic.Consensus).length === 3), 'consensus subscriptions exchanged');
    expect(nodes[0]!.addresses()[0]).to.equal(bootstrap[0]);

    const msg = bytes(1, 2, 3);
    await nodes[0]!.publish(Topic.Consensus, msg);
    await waitFor(() => [1, 2, 3].every((i) => has(recs[i]!.seen, msg)), 'message delivered to nodes 1-3');
    expect(recs[1]!.seen[0]!.from).to.equal(nodes[0]!.peerId);
    expect(recs[0]!.seen, 'emitSelf is off').to.have.length(0);

    await nodes[2]!.stop();
    await nodes[2]!.stop(); // idempotent
    await waitFor(() => [0, 1, 3].every((i) => nodes[i]!.peers().length === 2), 'others notice node 2 left');
    await nodes[2]!.start();
    await waitFor(() => nodes.every((n) => n.peers().length === 3), 'node 2 reconnected to everyone');
    await waitFor(() => nodes.every((n) => n.topicPeers(Topic.Consensus).length === 3), 'subscriptions re-exchanged');
    const again = bytes(4, 5, 6);
    await nodes[2]!.publish(Topic.Consensus, again);
    await waitFor(() => [0, 1, 3].every((i) => has(recs[i]!.seen, again)), 'message from the restarted node delivered');
  });

  it('keeps redialling a bootstrap peer that goes away until it is back', async () => {
    const [port] = await freePorts(1);
    const x = await makeNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    await x.start();
    const y = await makeNode({ bootstrap: x.addresses() });
    nodes.push(x, y);
    await y.start();
    await waitFor(() => connectedTo(y, x), 'y connected to x');
    await x.stop();
    await waitFor(() => y.peers().length === 0, 'y notices x left');
    await sleep(500); // a few failed redials
    await x.start(); // x has no bootstrap list: only y's dialer can reconnect them
    await waitFor(() => connectedTo(y, x) && connectedTo(x, y), 'y redialled x');
  });

  // Eager forwarding (a mesh) and the default, lazy gossip (no mesh: b advertises what it accepted
  // and c asks for it) must relay the same messages: the accepted ones, never the rejected ones.
  for (const [mode, mesh] of [
    ['lazy gossip (the default)', {}],
    ['an eager mesh', { meshD: 8, meshDlo: 6, meshDhi: 12 }],
  ] as const) {
    it(`relays through ${mode}: not rejected or oversized messages; penalises the sender and finally disconnects it`, async () => {
      const b = await makeNode(mesh);
      nodes.push(b);
      await b.start();
      const a = await makeNode({ ...mesh, bootstrap: b.addresses(), topicMaxBytes: { transactions: 1024 * 1024 } });
      const c = await makeNode({ ...mesh, bootstrap: b.addresses() });
      nodes.push(a, c);
      const bCons = recorder((d) => (d[0] === 0xff ? Verdict.Reject : Verdict.Accept));
      const bTx = recorder(accept);
      const cCons = recorder(accept);
      const cTx = recorder(accept);
      b.subscribe(Topic.Consensus, bCons.handler);
      b.subscribe(Topic.Transactions, bTx.handler);
      c.subscribe(Topic.Consensus, cCons.handler);
      c.subscribe(Topic.Transactions, cTx.handler);
      await a.start();
      await c.start();
      await waitFor(() => connectedTo(a, b) && connectedTo(c, b), 'a and c connected to b');
      expect(connectedTo(a, c), 'a and c only know b').to.equal(false);
      await waitFor(() => a.topicPeers(Topic.Consensus).includes(b.peerId) && a.topicPeers(Topic.Transactions).includes(b.peerId), 'a sees b subscribed');
      if ('meshD' in mesh) await waitFor(() => b.meshPeers(Topic.Consensus).includes(c.peerId) && b.meshPeers(Topic.Transactions).includes(c.peerId), 'c in b mesh');
      else {
        await waitFor(() => b.topicPeers(Topic.Consensus).includes(c.peerId) && b.topicPeers(Topic.Transactions).includes(c.peerId), 'b sees c subscribed');
        expect(b.meshPeers(Topic.Consensus), 'no eager forwarding by default').to.deep.equal([]);
      }

      // Rejected: b's handler sees it, c never does; an accepted one published after it does reach c.
      const bad = bytes(0xff, 1);
      const good = bytes(0x01, 1);
      await a.publish(Topic.Consensus, bad);
      await a.publish(Topic.Consensus, good);
      await waitFor(() => has(cCons.seen, good), 'accepted message relayed to c');
      expect(has(bCons.seen, bad)).to.equal(true);
      expect(has(cCons.seen, bad), 'rejected message relayed').to.equal(false);
      await waitFor(() => b.score(a.peerId) < 0, "a's score at b drops below zero");
      expect(b.score(c.peerId)).to.be.at.least(0);

      // Oversized for b's 64 KiB transaction cap (a allows 1 MiB): rejected before b's handler.
      const big = new Uint8Array(100 * 1024).fill(7);
      const small = bytes(9, 9);
      await a.publish(Topic.Transactions, big);
      await a.publish(Topic.Transactions, small);
      await waitFor(() => has(cTx.seen, small), 'small transaction relayed to c');
      expect(bTx.seen.map((m) => m.data.length)).to.deep.equal([2]);
      expect(cTx.seen.map((m) => m.data.length)).to.deep.equal([2]);

      // Keep sending invalid messages: a falls below the graylist threshold and b drops and bans it.
      for (let i = 2; i < 6; i++) {
        await a.publish(Topic.Consensus, bytes(0xff, i));
        await sleep(50);
      }
      await waitFor(() => !connectedTo(b, a), 'b disconnects a');
      expect(b.score(a.peerId)).to.be.below(b.options.graylistThreshold);
      await sleep(600); // a's dialer keeps trying; b's gater refuses it
      expect(connectedTo(b, a)).to.equal(false);
      expect(connectedTo(b, c)).to.equal(true);
    });
  }

  it('publishes with no peers without error, and refuses its own oversized messages', async () => {
    const n = await makeNode();
    nodes.push(n);
    await n.start();
    await n.publish(Topic.Blocks, bytes(1));
    const err = await n.publish(Topic.Transactions, new Uint8Array(64 * 1024 + 1)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(P2PError);
    expect((err as P2PError).code).to.equal(P2PErrorCode.MessageTooLarge);
  });

  it('refuses to publish before start', async () => {
    const n = await makeNode();
    const err = await n.publish(Topic.Consensus, bytes(1)).catch((e: unknown) => e);
    expect((err as P2PError).code).to.equal(P2PErrorCode.NotStarted);
    expect(n.peers()).to.deep.equal([]);
    expect(n.addresses()).to.deep.equal([]);
  });

  it('reports a listen address in use as StartFailed, and can start again once it is free', async () => {
    const [port] = await freePorts(1);
    const first = await makeNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    const second = await makeNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    nodes.push(first, second);
    await first.start();
    const err = await second.start().catch((e: unknown) => e);
    expect((err as P2PError).code).to.equal(P2PErrorCode.StartFailed);
    expect((await first.start().catch((e: unknown) => e) as P2PError).code).to.equal(P2PErrorCode.State);
    await first.stop();
    await second.start();
    expect(second.addresses()).to.have.length(1);
  });
});
