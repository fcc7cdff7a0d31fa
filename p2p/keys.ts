import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isIPv4, isIPv6 } from 'node:net';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { P2PError, P2PErrorCode } from './errors.js';

/** The node's libp2p identity: its private key and the peer id derived from it. */
export interface PeerKey {
  privateKey: PrivateKey;
  peerId: string;
}

function fromBytes(bytes: Uint8Array, path: string): PeerKey {
  let privateKey: PrivateKey;
  try {
    privateKey = privateKeyFromProtobuf(bytes);
  } catch (e) {
    throw new P2PError(P2PErrorCode.BadKey, `peer key ${path} is not a protobuf-encoded libp2p private key (${(e as Error).message}); remove it to generate a new one (the peer id will change)`, { path });
  }
  if (privateKey.type !== 'Ed25519') throw new P2PError(P2PErrorCode.BadKey, `peer key ${path} is a ${privateKey.type} key; only Ed25519 is supported`, { path });
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

/** Reads a peer key file; throws P2PError(BadKey) if it is missing or malformed. */
export async function readPeerKey(path: string): Promise<PeerKey> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new P2PError(P2PErrorCode.BadKey, `cannot read peer key ${path}: ${(e as Error).message}`, { path });
  }
  return fromBytes(bytes, path);
}

/**
 * The node's libp2p key at `path`: read if the file exists, otherwise a new Ed25519 key is written
 * there (protobuf-marshalled, mode 0600, atomically), so the peer id is stable across restarts.
 */
export async function loadOrCreatePeerKey(path: string): Promise<PeerKey> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new P2PError(P2PErrorCode.BadKey, `cannot read peer key ${path}: ${(e as Error).message}`, { path });
  }
  if (bytes !== undefined) return fromBytes(bytes, path);
  const privateKey = await generateKeyPair('Ed25519');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, privateKeyToProtobuf(privateKey), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

/** The peer id of the key stored at `path` (what other nodes put after /p2p/). */
export async function peerIdFromKeyFile(path: string): Promise<string> {
  return (await readPeerKey(path)).peerId;
}

/** A dialable TCP multiaddr for a peer: /ip4|ip6|dns/<host>/tcp/<port>/p2p/<peerId>. */
export function peerMultiaddr(host: string, port: number, peerId: string): string {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new P2PError(P2PErrorCode.BadOptions, `port ${port} is not a TCP port (1-65535)`, { port });
  const proto = isIPv4(host) ? 'ip4' : isIPv6(host) ? 'ip6' : 'dns';
  return `/${proto}/${host}/tcp/${port}/p2p/${peerId}`;
}

/** peerMultiaddr for the key stored at `path` (for `metanode testnet`, which lists homes as each other's bootstrap peers). */
export async function peerMultiaddrFromKeyFile(path: string, host: string, port: number): Promise<string> {
  return peerMultiaddr(host, port, await peerIdFromKeyFile(path));
}
