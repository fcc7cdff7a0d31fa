import { fromKey, toKey } from '../../../chain/index.js';

/**
 * Every bank record's key, built here and nowhere else. All under "bank/". Keys are built as
 * state key strings (latin1, one char per byte; see chain/bytes.ts toKey): the prefixes and asset
 * symbols are ASCII, so the string is also the key's UTF-8 text.
 */
const BALANCE = 'bank/bal/';
const SUPPLY = 'bank/supply/';
const ASSET = 'bank/asset/';
/** The bank's parameters (vm/params.ts ParamSpace) are at `bank/params`. */

/**
 * Balance keys of recently used addresses, per asset. A key built anew is a fresh string that a
 * Map lookup must flatten and hash; a remembered one has its hash cached. Bounded: cleared when full.
 */
const balanceKeys = new Map<string, Map<string, string>>();
const KEY_CACHE_MAX = 100_000;

/** The balance record of an address (given as its key string) in one asset. */
export function balanceKeyOf(addressKey: string, asset: string): string {
  let byAddress = balanceKeys.get(asset);
  if (byAddress === undefined) balanceKeys.set(asset, (byAddress = new Map()));
  let k = byAddress.get(addressKey);
  if (k === undefined) {
    if (byAddress.size >= KEY_CACHE_MAX) byAddress.clear();
    byAddress.set(addressKey, (k = BALANCE + addressKey + asset));
  }
  return k;
}

export const supplyKeyOf = (asset: string): string => SUPPLY + asset;
export const assetKeyOf = (asset: string): string => ASSET + asset;

// The same keys as bytes, for callers outside the state machine (RPC state proofs, tests).
export const balanceKey = (address: Uint8Array, asset: string): Uint8Array => fromKey(balanceKeyOf(toKey(address), asset));
export const supplyKey = (asset: string): Uint8Array => fromKey(supplyKeyOf(asset));
export const assetKey = (asset: string): Uint8Array => fromKey(assetKeyOf(asset));
