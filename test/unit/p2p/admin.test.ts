/**
 * The P2PNetwork admin API (what the admin RPC methods call): peerDetails, addPeer, removePeer,
 * with real libp2p nodes on loopback.
 */
import { expect } from 'chai';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { P2PError, P2PErrorCode, P2PNetwork, type P2PNetworkMetrics, type P2POptionsInput } from '../../../p2p/index.js';
import { connectedTo, freePorts, logger, sleep, testOptions, waitFor } from './helpers.js';

class RefusalCounter implements P2PNetworkMetrics {
  inbound = 0;
  outbound = 0;
  connectionRefused(direction: 'inbound' | 'outbound'): void {
    this[direction]++;
  }
}

const idOf = (k: PrivateKey) => peerIdFromPrivateKey(k).toString();

function p2pCode(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof P2PError ? e.code : `not a P2PError: ${String(e)}`;
  }
}

describe('p2p admin API', function () {
  this.timeout(30_000);
  const nodes: P2PNetwork[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });

  async function node(opts: Partial<P2POptionsInput>, deps: { key?: PrivateKey; validatorPeers?: () => ReadonlySet<string>; metrics?: P2PNetworkMetrics } = {}): Promise<P2PNetwork> {
    const n = new P2PNetwork(testOptions(opts), { logger, privateKey: deps.key ?? (await generateKeyPair('Ed25519')), validatorPeers: deps.validatorPeers, metrics: deps.metrics });
    nodes.push(n);
    return n;
  }

  it('peerDetails: addresses, direction, score, reported height, and why each peer is admitted', async () => {
    const [vKey, oKey] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
    const b = await node({ admission: 'open' });
    await b.start();
    const a = await node({ admission: 'permissioned', allowPeers: [idOf(oKey)], bootstrap: b.addresses() }, { validatorPeers: () => new Set([idOf(vKey)]) });
    await a.start();
    expect(a.peerDetails().length).to.be.at.most(1);
    const v = await node({ bootstrap: a.addresses() }, { key: vKey });
    const o = await node({ bootstrap: a.addresses() }, { key: oKey });
    v.serveStatus(() => ({ height: 42, chainId: 'p2ptest' }));
    await v.start();
    await o.start();
    await waitFor(() => [b, v, o].every((n) => connectedTo(a, n)), 'a connected to b, v and o');
    await a.requestStatus(v.peerId);

    const details = new Map(a.peerDetails().map((d) => [d.id, d]));
    expect([...details.keys()].sort()).to.deep.equal([b.peerId, v.peerId, o.peerId].sort());
    const roles = (id: string) => {
      const d = details.get(id)!;
      return { validator: d.validator, allowlisted: d.allowlisted, bootstrap: d.bootstrap, added: d.added };
    };
    expect(roles(v.peerId)).to.deep.equal({ validator: true, allowlisted: false, bootstrap: false, added: false });
    expect(roles(o.peerId)).to.deep.equal({ validator: false, allowlisted: true, bootstrap: false, added: false });
    expect(roles(b.peerId)).to.deep.equal({ validator: false, allowlisted: false, bootstrap: true, added: false });
    expect(details.get(b.peerId)!.direction).to.equal('outbound');
    expect(details.get(v.peerId)!.direction).to.equal('inbound');
    expect(details.get(b.peerId)!.addresses).to.deep.equal([b.addresses()[0]]);
    for (const d of details.values()) {
      expect(d.addresses.length).to.be.at.least(1);
      for (const addr of d.addresses) expect(addr).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/);
      expect(d.score).to.be.a('number');
    }
    expect(details.get(v.peerId)!.height).to.equal(42);
    expect(details.get(o.peerId)).to.not.have.property('height');
  });

  it('addPeer admits and keeps a peer connected; removePeer hangs up, stops redialling and takes the admission back', async () => {
    const refusals = new RefusalCounter();
    const a = await node({ admission: 'permissioned' }, { metrics: refusals });
    await a.start();
    const [port] = await freePorts(1);
    const sKey = await generateKeyPair('Ed25519');
    // s dials a by itself too: refused until a adds it.
    const s = await node({ admission: 'open', listen: [`/ip4/127.0.0.1/tcp/${port}`], bootstrap: a.addresses() }, { key: sKey });
    await s.start();
    await waitFor(() => refusals.inbound >= 1, 'the stranger refused');
    expect(connectedTo(a, s)).to.equal(false);

    expect(a.addPeer(s.addresses()[0]!)).to.equal(s.peerId);
    await waitFor(() => connectedTo(a, s), 'a connected to the added peer');
    expect(a.peerDetails().find((d) => d.id === s.peerId)?.added).to.equal(true);
    expect(a.admits(s.peerId)).to.equal(true);

    // Kept connected like a bootstrap peer: it goes away and comes back on the same address.
    await s.stop();
    await waitFor(() => !connectedTo(a, s), 'a notices s left');
    const s2 = await node({ admission: 'open', listen: [`/ip4/127.0.0.1/tcp/${port}`] }, { key: sKey });
    await s2.start();
    await waitFor(() => connectedTo(a, s2), 'a redialled the added peer');

    expect(await a.removePeer(s2.peerId)).to.deep.equal({ disconnected: true, redialStopped: true, admissionRevoked: true });
    expect(a.admits(s2.peerId)).to.equal(false);
    expect(connectedTo(a, s2)).to.equal(false);
    // Neither redialled by a, nor admitted when it dials in itself.
    const before = refusals.inbound;
    const s3 = await node({ admission: 'open', bootstrap: a.addresses() }, { key: sKey });
    await s2.stop();
    await s3.start();
    await waitFor(() => refusals.inbound > before, 'the removed peer refused again');
    expect(connectedTo(a, s3)).to.equal(false);
    expect(await a.removePeer(s3.peerId)).to.deep.equal({ disconnected: false, redialStopped: false, admissionRevoked: false });
  });

  it('removePeer stops redialling a bootstrap peer (across a restart too), which stays admitted; addPeer brings it back', async () => {
    const b = await node({ admission: 'open' });
    await b.start();
    const a = await node({ admission: 'permissioned', bootstrap: b.addresses() });
    await a.start();
    await waitFor(() => connectedTo(a, b), 'a connected to its bootstrap peer');
    expect(await a.removePeer(b.peerId)).to.deep.equal({ disconnected: true, redialStopped: true, admissionRevoked: false });
    expect(a.admits(b.peerId), 'a bootstrap peer stays admitted').to.equal(true);
    await sleep(600); // several redial periods (redialMinMs 100)
    expect(connectedTo(a, b)).to.equal(false);
    await a.stop();
    await a.start();
    await sleep(600);
    expect(connectedTo(a, b), 'redialled after a restart').to.equal(false);

    a.addPeer(b.addresses()[0]!);
    await waitFor(() => connectedTo(a, b), 'a connected to the re-added peer');
    const d = a.peerDetails().find((x) => x.id === b.peerId)!;
    expect({ bootstrap: d.bootstrap, added: d.added }).to.deep.equal({ bootstrap: true, added: true });
  });

  it('ban hangs up on a peer and refuses it both ways until the ban ends, then its bootstrap peer is redialled', async () => {
    const b = await node({ admission: 'open' });
    await b.start();
    const a = await node({ admission: 'permissioned', bootstrap: b.addresses() });
    await a.start();
    await waitFor(() => connectedTo(a, b), 'a connected to its bootstrap peer');
    a.ban(b.peerId, 1_000, 'test');
    expect(a.isBanned(b.peerId)).to.equal(true);
    await waitFor(() => !connectedTo(a, b), 'a hung up on the banned peer');
    // b dials a itself: refused during the handshake while the ban lasts.
    b.addPeer(a.addresses()[0]!);
    await sleep(500);
    expect(connectedTo(a, b), 'connected while banned').to.equal(false);
    await waitFor(() => connectedTo(a, b), 'reconnected once the ban ended', 8_000);
    expect(a.isBanned(b.peerId)).to.equal(false);
    expect(() => a.ban('nope', 1_000, 'test')).to.throw(P2PError).with.property('code', P2PErrorCode.BadPeerId);
  });

  it('refuses malformed addresses and peer ids with a clear error', async () => {
    const a = await node({});
    await a.start();
    expect(p2pCode(() => a.addPeer('not a multiaddr'))).to.equal(P2PErrorCode.BadAddress);
    expect(p2pCode(() => a.addPeer('/ip4/127.0.0.1/tcp/1'))).to.equal(P2PErrorCode.BadAddress);
    expect(p2pCode(() => a.addPeer(a.addresses()[0]!))).to.equal(P2PErrorCode.BadAddress);
    const err = await a.removePeer('not-a-peer').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(P2PError).with.property('code', P2PErrorCode.BadPeerId);
  });
});
