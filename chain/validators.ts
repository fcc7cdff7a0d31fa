import { ADDRESS_LENGTH, addressFromPublicKey } from './address.js';
import { BLS_PUBLIC_KEY_LENGTH } from './bls.js';
import { compareBytes, equalBytes, toKey } from './bytes.js';
import { ED25519_PUBLIC_KEY_LENGTH } from './ed25519.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HashTag, taggedHash } from './hash.js';
import { asBigint, asBytes, asList, decodeList, rlpDecode, rlpEncode, uintBytes } from './rlp.js';

export interface Validator {
  /** Address derived from the Ed25519 key: the validator's account (fees are paid to it). */
  address: Uint8Array;
  /** Ed25519 key: signs consensus messages. */
  publicKey: Uint8Array;
  /** BLS12-381 key: signs COMMIT votes, aggregated into the commit certificate. */
  blsPublicKey: Uint8Array;
  power: bigint;
}

/** The validators of a height, ordered by address. RLP: [[address, publicKey, blsPublicKey, power]...]. */
export class ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: bigint;
  private readonly index: Map<string, number>;
  private _hash?: Uint8Array;
  private _bytes?: Uint8Array;

  constructor(validators: Validator[]) {
    if (validators.length === 0) throw new ChainError(ChainErrorCode.FieldValue, 'a validator set needs at least one validator');
    const sorted = [...validators].sort((a, b) => compareBytes(a.address, b.address));
    this.index = new Map();
    let total = 0n;
    sorted.forEach((v, i) => {
      if (v.address.length !== ADDRESS_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, 'validator address must be 20 bytes');
      if (v.publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, 'validator public key must be 32 bytes');
      if (v.blsPublicKey.length !== BLS_PUBLIC_KEY_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, 'validator BLS key must be 48 bytes');
      if (!equalBytes(addressFromPublicKey(v.publicKey), v.address)) {
        throw new ChainError(ChainErrorCode.FieldValue, 'validator address does not match its public key');
      }
      if (v.power <= 0n) throw new ChainError(ChainErrorCode.FieldValue, 'validator power must be positive');
      const k = toKey(v.address);
      if (this.index.has(k)) throw new ChainError(ChainErrorCode.FieldValue, 'duplicate validator address');
      this.index.set(k, i);
      total += v.power;
    });
    this.validators = sorted;
    this.totalPower = total;
  }

  get size(): number {
    return this.validators.length;
  }

  /** Byzantine quorum: more than two thirds of the validators (ceil(2n/3), IBFT 2.0). */
  get quorum(): number {
    return Math.ceil((2 * this.validators.length) / 3);
  }

  indexOf(address: Uint8Array): number {
    return this.index.get(toKey(address)) ?? -1;
  }

  has(address: Uint8Array): boolean {
    return this.index.has(toKey(address));
  }

  /** Round-robin proposer for (height, round). */
  proposer(height: number, round: number): Validator {
    return this.validators[(height + round) % this.validators.length]!;
  }

  serialize(): Uint8Array {
    return (this._bytes ??= rlpEncode(this.validators.map((v) => [v.address, v.publicKey, v.blsPublicKey, uintBytes(v.power)])));
  }

  hash(): Uint8Array {
    return (this._hash ??= taggedHash(HashTag.ValidatorSet, this.serialize()));
  }
}

export function decodeValidatorSet(bytes: Uint8Array): ValidatorSet {
  const list = asList(rlpDecode(bytes, 'validator set'), 'validator set');
  const set = new ValidatorSet(
    list.map((item, i) => {
      const f = decodeList(item, 4, `validator[${i}]`);
      return {
        address: asBytes(f[0], 'validator.address', ADDRESS_LENGTH),
        publicKey: asBytes(f[1], 'validator.publicKey', ED25519_PUBLIC_KEY_LENGTH),
        blsPublicKey: asBytes(f[2], 'validator.blsPublicKey', BLS_PUBLIC_KEY_LENGTH),
        power: asBigint(f[3], 'validator.power', 16),
      };
    }),
  );
  // The constructor sorts by address: any other order would decode to the same set with another encoding.
  if (!equalBytes(set.serialize(), bytes)) {
    throw new ChainError(ChainErrorCode.NonCanonical, 'validator set: validators must be ordered by address');
  }
  return set;
}
