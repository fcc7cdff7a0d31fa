import { concatBytes, utf8 } from '../../../chain/index.js';

/** Every bank record's key, built here and nowhere else. All under "bank/". */
const BALANCE = utf8('bank/bal/');
const SUPPLY = utf8('bank/supply/');
const ASSET = utf8('bank/asset/');
export const PARAMS_KEY = utf8('bank/params');

export function balanceKey(address: Uint8Array, asset: string): Uint8Array {
  return concatBytes(BALANCE, address, utf8(asset));
}

export function supplyKey(asset: string): Uint8Array {
  return concatBytes(SUPPLY, utf8(asset));
}

export function assetKey(asset: string): Uint8Array {
  return concatBytes(ASSET, utf8(asset));
}
