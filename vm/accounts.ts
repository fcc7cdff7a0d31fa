import { asRlpUint, fromKey, rlpUint, toKey } from '../chain/index.js';
import type { Overlay, StateReader } from './state/overlay.js';

/** Core account records (the per-account nonce) live under the reserved prefix "auth/". */
const NONCE_PREFIX = 'auth/nonce/';

/** Nonce keys of recently used addresses (see bank/keys.ts balanceKeyOf for why they are kept). */
const nonceKeys = new Map<string, string>();
const KEY_CACHE_MAX = 100_000;

/** The nonce record's key as a state key string, from the address's key string (toKey). */
export function nonceKeyOf(addressKey: string): string {
  let k = nonceKeys.get(addressKey);
  if (k === undefined) {
    if (nonceKeys.size >= KEY_CACHE_MAX) nonceKeys.clear();
    nonceKeys.set(addressKey, (k = NONCE_PREFIX + addressKey));
  }
  return k;
}

export function nonceKey(address: Uint8Array): Uint8Array {
  return fromKey(nonceKeyOf(toKey(address)));
}

/** The account's next nonce, by the address's key string (toKey / Transaction.fromKey). */
export function nonceOf(state: StateReader, addressKey: string): bigint {
  const v = state.getRaw(nonceKeyOf(addressKey));
  return v === undefined ? 0n : asRlpUint(v, 'nonce', 8);
}

export function getNonce(state: StateReader, address: Uint8Array): bigint {
  return nonceOf(state, toKey(address));
}

/** Sets the nonce of an address (bytes, or its key string). */
export function setNonce(state: Overlay, address: Uint8Array | string, nonce: bigint): void {
  state.setRaw(nonceKeyOf(typeof address === 'string' ? address : toKey(address)), rlpUint(nonce));
}
