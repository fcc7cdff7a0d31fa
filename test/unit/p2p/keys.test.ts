import { expect } from 'chai';
import { base58btc } from 'multiformats/bases/base58';
import { Ed25519Key } from '../../../chain/index.js';
import { P2PError, P2PErrorCode, P2PNetwork, peerIdFromEd25519PublicKey, peerKeyFromEd25519Seed, peerMultiaddr } from '../../../p2p/index.js';
import { logger, testOptions } from './helpers.js';

const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/** RFC 8032 section 7.1, test 1. */
const RFC8032_SEED = unhex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const RFC8032_PUBLIC = unhex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');

/**
 * A libp2p Ed25519 peer id written out by hand: base58btc of the identity multihash (0x00, length
 * 36) of the protobuf PublicKey { Type: Ed25519 (1), Data: the 32-byte key }.
 */
function handMadePeerId(publicKey: Uint8Array): string {
  return base58btc.baseEncode(Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...publicKey]));
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof P2PError ? e.code : `not a P2PError: ${String(e)}`),
  );
}

describe('p2p peer key (the validator Ed25519 key)', () => {
  it('derives the libp2p identity from the Ed25519 seed (RFC 8032 vector, golden peer id)', async () => {
    const key = await peerKeyFromEd25519Seed(RFC8032_SEED, RFC8032_PUBLIC);
    expect(key.privateKey.type).to.equal('Ed25519');
    expect(Buffer.from(key.privateKey.publicKey.raw).toString('hex')).to.equal(Buffer.from(RFC8032_PUBLIC).toString('hex'));
    expect(key.peerId).to.equal(handMadePeerId(RFC8032_PUBLIC));
    expect(key.peerId).to.equal('12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV');
    expect(peerIdFromEd25519PublicKey(RFC8032_PUBLIC)).to.equal(key.peerId);
  });

  it('gives every validator a peer id that anyone can compute from its public key', async () => {
    for (let i = 0; i < 5; i++) {
      const v = Ed25519Key.generate();
      const key = await peerKeyFromEd25519Seed(v.secret, v.publicKey);
      expect(peerIdFromEd25519PublicKey(v.publicKey)).to.equal(key.peerId);
      expect(key.peerId).to.equal(handMadePeerId(v.publicKey));
      const net = new P2PNetwork(testOptions(), { logger, privateKey: key.privateKey });
      expect(net.peerId).to.equal(key.peerId);
    }
  });

  it('refuses a seed of the wrong length, a public key that is not the seed\'s, and a short public key', async () => {
    expect(await code(peerKeyFromEd25519Seed(new Uint8Array(31)))).to.equal(P2PErrorCode.BadKey);
    expect(await code(peerKeyFromEd25519Seed(new Uint8Array(64)))).to.equal(P2PErrorCode.BadKey);
    expect(await code(peerKeyFromEd25519Seed(RFC8032_SEED, Ed25519Key.generate().publicKey))).to.equal(P2PErrorCode.BadKey);
    expect(() => peerIdFromEd25519PublicKey(new Uint8Array(33))).to.throw(P2PError).with.property('code', P2PErrorCode.BadKey);
  });

  it('builds dialable multiaddrs for IPv4, IPv6 and DNS hosts', () => {
    const peerId = peerIdFromEd25519PublicKey(RFC8032_PUBLIC);
    expect(peerMultiaddr('10.0.0.7', 26656, peerId)).to.equal(`/ip4/10.0.0.7/tcp/26656/p2p/${peerId}`);
    expect(peerMultiaddr('::1', 26656, peerId)).to.equal(`/ip6/::1/tcp/26656/p2p/${peerId}`);
    expect(peerMultiaddr('val-1.example.org', 26656, peerId)).to.equal(`/dns/val-1.example.org/tcp/26656/p2p/${peerId}`);
    expect(() => peerMultiaddr('10.0.0.7', 0, peerId)).to.throw(P2PError);
  });
});
