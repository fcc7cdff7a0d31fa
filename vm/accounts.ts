import { asBigint, rlpDecode, rlpEncode, uintBytes, utf8, concatBytes } from '../chain/index.js';
import type { KVStore } from './state/overlay.js';

/** Core account records (the per-account nonce) live under the reserved prefix "auth/". */
const NONCE_PREFIX = utf8('auth/nonce/');

export function nonceKey(address: Uint8Array): Uint8Array {
  return concatBytes(NONCE_PREFIX, address);
}

export function getNonce(state: Pick<KVStore, 'get'>, address: Uint8Array): bigint {
  const v = state.get(nonceKey(address));
  return v === undefined ? 0n : asBigint(rlpDecode(v, 'nonce'), 'nonce', 8);
}

export function setNonce(state: KVStore, address: Uint8Array, nonce: bigint): void {
  state.set(nonceKey(address), rlpEncode(uintBytes(nonce)));
}
