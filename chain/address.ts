import { bech32m } from '@scure/base';
import { toKey } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HashTag, taggedHash } from './hash.js';

/**
 * An account address is the first 20 bytes of the tagged hash of its Ed25519 public key.
 * Its text form is bech32m with the prefix "mn": a typo is caught by the checksum.
 */
export const ADDRESS_LENGTH = 20;
export const ADDRESS_PREFIX = 'mn';

export function addressFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return taggedHash(HashTag.Address, publicKey).subarray(0, ADDRESS_LENGTH);
}

/**
 * The account of a module (staking's bonded pool, the treasury…): derived from its name under a
 * tag of its own, so no key can sign for it; only the module moves its funds.
 */
export function moduleAddress(name: string): Uint8Array {
  return taggedHash(HashTag.ModuleAccount, new TextEncoder().encode(name)).subarray(0, ADDRESS_LENGTH);
}

/** Recently seen addresses, each as one shared array and its key string. */
const shared = new Map<string, { address: Uint8Array; key: string }>();
const SHARED_CACHE_MAX = 100_000;

/**
 * The same address as one array shared by everything that names it, with its key string (toKey).
 * A decoded payload keeps this instead of a view into its transaction's bytes: a small Uint8Array
 * costs ~100–250 bytes of heap, and a node holds thousands of transfers to the same accounts.
 * The returned array must not be mutated.
 */
export function sharedAddress(address: Uint8Array): { address: Uint8Array; key: string } {
  const key = toKey(address);
  let a = shared.get(key);
  if (a === undefined) {
    if (shared.size >= SHARED_CACHE_MAX) shared.clear();
    shared.set(key, (a = { address: address.slice(), key }));
  }
  return a;
}

/** Recently formatted addresses: bech32m encoding costs more than the lookup. */
const formatted = new Map<string, string>();
const FORMAT_CACHE_MAX = 100_000;

/** `key`: the address's key string (toKey), when the caller has it. */
export function formatAddress(address: Uint8Array, key?: string): string {
  if (address.length !== ADDRESS_LENGTH) {
    throw new ChainError(ChainErrorCode.FieldLength, `an address is ${ADDRESS_LENGTH} bytes, got ${address.length}`);
  }
  const k = key ?? toKey(address);
  let text = formatted.get(k);
  if (text === undefined) {
    text = bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(address));
    if (formatted.size >= FORMAT_CACHE_MAX) formatted.clear();
    formatted.set(k, text);
  }
  return text;
}

export function parseAddress(text: string): Uint8Array {
  if (typeof text !== 'string' || !text.toLowerCase().startsWith(ADDRESS_PREFIX + '1')) {
    throw new ChainError(ChainErrorCode.InvalidAddress, `address must start with "${ADDRESS_PREFIX}1"`, { value: text });
  }
  let words: number[];
  let prefix: string;
  try {
    ({ prefix, words } = bech32m.decode(text as `${string}1${string}`));
  } catch (e) {
    const msg = (e as Error).message;
    const reason = /checksum/i.test(msg) ? 'bad checksum: check the address for a typo' : msg;
    throw new ChainError(ChainErrorCode.InvalidAddress, `invalid address ${text}: ${reason}`, { value: text });
  }
  if (prefix !== ADDRESS_PREFIX) {
    throw new ChainError(ChainErrorCode.InvalidAddress, `address prefix must be "${ADDRESS_PREFIX}"`, { value: text });
  }
  const bytes = bech32m.fromWords(words);
  if (bytes.length !== ADDRESS_LENGTH) {
    throw new ChainError(ChainErrorCode.InvalidAddress, `address must encode ${ADDRESS_LENGTH} bytes, got ${bytes.length}`, { value: text });
  }
  return bytes;
}
