import { notInBrowser } from './unsupported.js';

/**
 * chain/bls.ts for the browser bundle (client/browser/build.ts puts this file in its place): the
 * chain's BLS is @chainsafe/blst, a native addon, so a browser has none. The light client, which
 * checks commit certificates with it, runs in Node.js; in a browser every BLS function refuses.
 */
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;
export const BLS_SECRET_KEY_LENGTH = 32;

const bls = (): never => notInBrowser('BLS12-381 (commit certificates, the light client)');

export class BlsKey {
  static fromSecret = bls;
  static fromSeed = bls;
  static generate = bls;
}
export const blsPossessionMessage = bls;
export const verifyBlsPossession = bls;
export const blsVerify = bls;
export const blsAggregateSignatures = bls;
export const blsFastAggregateVerify = bls;
export const isValidBlsPublicKey = bls;
