/**
 * Peer admission: who the connection gater lets through in permissioned mode (validators of the
 * next height, the allowlist, the bootstrap peers) and in open mode (anyone), with real libp2p
 * nodes on loopback.
 */
import { expect } from 'chai';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { Ed25519Key } from '../../../chain/index.js';
import { P2PNetwork, PeerAdmission, Topic, Verdict, peerIdFromEd25519PublicKey, validatorPeerIds, type P2PNetworkMetrics, type P2POptionsInput } from '../../../p2p/index.js';
import { connectedTo, freePorts, logger, recorder, sleep, testOptions, waitFor } from './helpers.js';

const PEER_A = '12D3KooWDy6b1CoAKPJdkyktEDdFEEUqo86cURgLc8U7775rSGjS';

/** Counts the gater's refusals, by direction. */
class RefusalCounter implements P2PNetworkMetrics {
  inbound = 0;
  outbound = 0;
  connectionRefused(direction: 'inbound' | 'outbound'): void {
    this[direction]++;
  }
}

const idOf = (k: PrivateKey) => peerIdFromPrivateKey(k).toString();

describe('p2p admission', function () {
  this.timeout(30_000);

  describe('PeerAdmission', () => {
    it('admits anyone in open mode', () => {
      const a = new PeerAdmission({ admission: 'open', allowPeers: [], bootstrap: [] });
      expect(a.admits(PEER_A)).to.equal(true);
      expect(a.roles(PEER_A)).to.deep.equal({ validator: false, allowlisted: false, bootstrap: false, added: false });
    });

    it('admits in permissioned mode only validators (asked each time), allowed, bootstrap and added peers', () => {
      const ids = Array.from({ length: 5 }, () => peerIdFromEd25519PublicKey(Ed25519Key.generate().publicKey));
      const [validator, allowed, boot, stranger, later] = ids as [string, string, string, string, string];
      let set = new Set([validator]);
      const a = new PeerAdmission(
        { admission: 'permissioned', allowPeers: [allowed], bootstrap: [`/ip4/10.0.0.1/tcp/26656/p2p/${boot}`] },
        { validatorPeers: () => set },
      );
      expect([validator, allowed, boot, stranger].map((p) => a.admits(p))).to.deep.equal([true, true, true, false]);
      expect(a.roles(validator)).to.deep.equal({ validator: true, allowlisted: false, bootstrap: false, added: false });
      expect(a.roles(boot).bootstrap).to.equal(true);
      expect(a.roles(allowed).allowlisted).to.equal(true);
      // The validator set changes: the admitted validators follow it.
      set = new Set([later]);
      expect(a.admits(validator)).to.equal(false);
      expect(a.admits(later)).to.equal(true);
      a.add(stranger);
      expect(a.admits(stranger)).to.equal(true);
      expect(a.roles(stranger).added).to.equal(true);
      expect(a.remove(stranger)).to.equal(true);
      expect(a.remove(stranger)).to.equal(false);
      expect(a.admits(stranger)).to.equal(false);
    });

    it('admits no validator while the chain cannot say who they are', () => {
      const a = new PeerAdmission({ admission: 'permissioned', allowPeers: [], bootstrap: [] }, {
        validatorPeers: () => {
          throw new Error('closed');
        },
      });
      expect(a.admits(PEER_A)).to.equal(false);
    });
  });

  it('validatorPeerIds: the peer ids of the set\'s public keys, recomputed only for another set', () => {
    const keys = [Ed25519Key.generate(), Ed25519Key.generate()];
    let set = { validators: keys.map((k) => ({ publicKey: k.publicKey })) };
    const ids = validatorPeerIds(() => set);
    const first = ids();
    expect([...first].sort()).to.deep.equal(keys.map((k) => peerIdFromEd25519PublicKey(k.publicKey)).sort());
    expect(ids()).to.equal(first);
    set = { validators: [{ publicKey: keys[0]!.publicKey }] };
    expect([...ids()]).to.deep.equal([peerIdFromEd25519PublicKey(keys[0]!.publicKey)]);
  });

  describe('P2PNetwork', () => {
    const nodes: P2PNetwork[] = [];
    afterEach(async () => {
      await Promise.all(nodes.splice(0).map((n) => n.stop()));
    });

    async function node(opts: Partial<P2POptionsInput>, deps: { key?: PrivateKey; validatorPeers?: () => ReadonlySet<string>; metrics?: P2PNetworkMetrics } = {}): Promise<P2PNetwork> {
      const n = new P2PNetwork(testOptions(opts), { logger, privateKey: deps.key ?? (await generateKeyPair('Ed25519')), validatorPeers: deps.validatorPeers, metrics: deps.metrics });
      nodes.push(n);
      return n;
    }

    it('refuses a stranger in the handshake (no connection, no gossip) and admits a validator and an allowed observer', async () => {
      const [vKey, oKey] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
      const refusals = new RefusalCounter();
      const a = await node({ admission: 'permissioned', allowPeers: [idOf(oKey)] }, { validatorPeers: () => new Set([idOf(vKey)]), metrics: refusals });
      await a.start();
      const boot = { bootstrap: a.addresses() };
      const validator = await node(boot, { key: vKey });
      const observer = await node(boot, { key: oKey });
      const stranger = await node(boot);
      const got = new Map([validator, observer, stranger].map((n) => [n, recorder(() => Verdict.Accept)]));
      for (const [n, rec] of got) {
        n.subscribe(Topic.Blocks, rec.handler);
        await n.start();
      }
      // The Noise initiator finishes its handshake before the responder checks it, so the stranger
      // may see a connection for the moment it takes the refusal to close it; the refusing node
      // never has one, and never speaks a protocol (subscriptions, gossip) over it.
      let admittedStranger = false;
      const watch = setInterval(() => {
        if (connectedTo(a, stranger) || stranger.topicPeers(Topic.Blocks).includes(a.peerId)) admittedStranger = true;
      }, 5);
      try {
        await waitFor(() => connectedTo(a, validator) && connectedTo(a, observer), 'the validator and the observer connected');
        await waitFor(() => refusals.inbound >= 2, 'the stranger refused twice (it keeps redialling)');
        expect(a.peers().map((p) => p.id).sort()).to.deep.equal([validator.peerId, observer.peerId].sort());
        expect(a.admits(stranger.peerId)).to.equal(false);

        await waitFor(() => a.topicPeers(Topic.Blocks).length === 2, 'subscriptions exchanged');
        await a.publish(Topic.Blocks, Uint8Array.of(7, 7));
        await waitFor(() => got.get(validator)!.seen.length === 1 && got.get(observer)!.seen.length === 1, 'the admitted peers got the message');
        await sleep(300);
      } finally {
        clearInterval(watch);
      }
      expect(admittedStranger, 'the stranger was connected to the permissioned node or saw its subscriptions').to.equal(false);
      expect(got.get(stranger)!.seen, 'messages delivered to the stranger').to.deep.equal([]);
      expect(refusals.outbound).to.equal(0);
    });

    it('follows validator set changes: drops a validator that left and refuses it both ways', async () => {
      const vKey = await generateKeyPair('Ed25519');
      let validators = new Set([idOf(vKey)]);
      const refusals = new RefusalCounter();
      const a = await node({ admission: 'permissioned' }, { validatorPeers: () => validators, metrics: refusals });
      await a.start();
      const v = await node({ bootstrap: a.addresses() }, { key: vKey });
      await v.start();
      await waitFor(() => connectedTo(a, v), 'the validator connected');

      validators = new Set();
      await waitFor(() => !connectedTo(a, v) && !connectedTo(v, a), 'the former validator disconnected');
      await waitFor(() => refusals.inbound >= 1, 'its redial refused');
      // This node dialling it (a status request) is refused once the handshake names it.
      const err = await a.requestStatus(v.peerId).then(() => undefined, (e: Error) => e);
      expect(err, 'a status request to a peer no longer admitted').to.be.instanceOf(Error);
      expect(refusals.outbound).to.be.at.least(1);

      validators = new Set([idOf(vKey)]);
      await waitFor(() => connectedTo(a, v), 'readmitted once back in the set');
    });

    it('admits its bootstrap peers (mutual lists connect, a one-sided list does not), and anyone in open mode', async () => {
      const ports = await freePorts(2);
      const keys = await Promise.all(ports.map(() => generateKeyPair('Ed25519')));
      const addr = ports.map((p, i) => `/ip4/127.0.0.1/tcp/${p}/p2p/${idOf(keys[i]!)}`);
      const refusals = new RefusalCounter();
      const x = await node({ admission: 'permissioned', listen: [`/ip4/127.0.0.1/tcp/${ports[0]}`], bootstrap: [addr[1]!] }, { key: keys[0], metrics: refusals });
      const y = await node({ admission: 'permissioned', listen: [`/ip4/127.0.0.1/tcp/${ports[1]}`], bootstrap: [addr[0]!] }, { key: keys[1] });
      await x.start();
      await y.start();
      await waitFor(() => connectedTo(x, y) && connectedTo(y, x), 'two nodes that list each other connected');
      expect(x.admits(y.peerId)).to.equal(true);

      // z lists x, but x does not list z: x refuses it.
      const z = await node({ admission: 'permissioned', bootstrap: [addr[0]!] });
      await z.start();
      await waitFor(() => refusals.inbound >= 1, 'x refused z');
      expect(x.peers().map((p) => p.id)).to.deep.equal([y.peerId]);

      const openRefusals = new RefusalCounter();
      const open = await node({ admission: 'open' }, { metrics: openRefusals });
      await open.start();
      const s = await node({ bootstrap: open.addresses() });
      await s.start();
      await waitFor(() => connectedTo(open, s), 'the open node admitted a stranger');
      expect(openRefusals.inbound + openRefusals.outbound).to.equal(0);
    });
  });
});
