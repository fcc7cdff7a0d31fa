import { isIPv4, isIPv6 } from 'node:net';
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id';
import { equalBytes } from '../chain/index.js';
import { P2PError, P2PErrorCode } from './errors.js';

/**
 * The node's libp2p identity: its private key and the peer id derived from it.
 *
 * A node's libp2p identity is its validator Ed25519 key (the same 32-byte seed, as a libp2p
 * Ed25519 key), so the peer id of every validator follows from the validator set's public keys:
 * a permissioned node can tell, during the Noise handshake, whether a peer is a validator.
 */
export interface PeerKey {
  privateKey: PrivateKey;
  peerId: string;
}

const ED25519_SEED_LENGTH = 32;
const ED25519_PUBLIC_KEY_LENGTH = 32;

/**
 * The libp2p key of an Ed25519 secret (its 32-byte RFC 8032 seed). `publicKey`, when given, must
 * be the seed's (a validator key whose halves disagree is refused rather than used).
 */
export async function peerKeyFromEd25519Seed(seed: Uint8Array, publicKey?: Uint8Array): Promise<PeerKey> {
  if (seed.length !== ED25519_SEED_LENGTH) throw new P2PError(P2PErrorCode.BadKey, `an Ed25519 seed is ${ED25519_SEED_LENGTH} bytes, got ${seed.length}`);
  const privateKey = await generateKeyPairFromSeed('Ed25519', seed);
  if (publicKey !== undefined && !equalBytes(privateKey.publicKey.raw, publicKey)) {
    throw new P2PError(P2PErrorCode.BadKey, 'the Ed25519 public key does not belong to the secret key');
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

/** The peer id (12D3KooW…) of a node whose identity is the Ed25519 key with this 32-byte public key. */
export function peerIdFromEd25519PublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) throw new P2PError(P2PErrorCode.BadKey, `an Ed25519 public key is ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`);
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

/** A dialable TCP multiaddr for a peer: /ip4|ip6|dns/<host>/tcp/<port>/p2p/<peerId>. */
export function peerMultiaddr(host: string, port: number, peerId: string): string {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new P2PError(P2PErrorCode.BadOptions, `port ${port} is not a TCP port (1-65535)`, { port });
  const proto = isIPv4(host) ? 'ip4' : isIPv6(host) ? 'ip6' : 'dns';
  return `/${proto}/${host}/tcp/${port}/p2p/${peerId}`;
}
