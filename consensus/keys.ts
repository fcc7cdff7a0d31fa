import { BlsKey, Ed25519Key, addressFromPublicKey } from '../chain/index.js';

/** A validator's signing keys: Ed25519 for consensus messages, BLS for commit votes. */
export class ValidatorKey {
  readonly address: Uint8Array;
  constructor(
    readonly ed25519: Ed25519Key,
    readonly bls: BlsKey,
  ) {
    this.address = addressFromPublicKey(ed25519.publicKey);
  }

  static generate(): ValidatorKey {
    return new ValidatorKey(Ed25519Key.generate(), BlsKey.generate());
  }
}
