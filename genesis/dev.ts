import { blake3 } from '@noble/hashes/blake3.js';
import { Ed25519Key, addressFromPublicKey, formatAddress, utf8 } from '../chain/index.js';

/**
 * Dev accounts: well-known keys, funded by dev genesis files. Their secrets are public by
 * design — never fund them on a real network.
 */
export function devAccountKey(i: number): Ed25519Key {
  return Ed25519Key.fromSecret(blake3(utf8(`metanode-dev-account-${i}`)));
}

export function devAccounts(n: number): { index: number; key: Ed25519Key; address: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const key = devAccountKey(i);
    return { index: i, key, address: formatAddress(addressFromPublicKey(key.publicKey)) };
  });
}
