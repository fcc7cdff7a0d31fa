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

/**
 * A change to the validator set, as a module's end-block hook returns it: the validator with this
 * consensus key gets this power (0: it leaves the set). Its BLS key replaces the one it had.
 */
export interface ValidatorUpdate {
  publicKey: Uint8Array;
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

  /**
   * Byzantine quorum, by voting power: ⌈2T/3⌉ of the total power T (IBFT 2.0's ⌈2n/3⌉ when every
   * validator has power 1). Two quorums share more than T/3, more than the faulty power can be.
   */
  get quorumPower(): bigint {
    return (2n * this.totalPower + 2n) / 3n;
  }

  /** The most power that may be faulty, F = ⌊(T−1)/3⌋: power above it includes an honest validator. */
  get faultyPower(): bigint {
    return (this.totalPower - 1n) / 3n;
  }

  /** The voting power of the distinct members among `senders` (non-members count nothing). */
  powerOf(senders: Iterable<Uint8Array>): bigint {
    let sum = 0n;
    const seen = new Set<number>();
    for (const s of senders) {
      const i = this.indexOf(s);
      if (i < 0 || seen.has(i)) continue;
      seen.add(i);
      sum += this.validators[i]!.power;
    }
    return sum;
  }

  /** Whether `senders` hold a quorum of the power. */
  hasQuorum(senders: Iterable<Uint8Array>): boolean {
    return this.powerOf(senders) >= this.quorumPower;
  }

  /** Whether `senders` hold more than the faulty power (so at least one of them is honest: IBFT's f+1). */
  exceedsFaulty(senders: Iterable<Uint8Array>): boolean {
    return this.powerOf(senders) > this.faultyPower;
  }

  /** The shortest prefix of `items` (by their senders) that holds a quorum, or undefined if all of them do not. */
  quorumPrefix<T>(items: readonly T[], sender: (item: T) => Uint8Array): T[] | undefined {
    let sum = 0n;
    const seen = new Set<number>();
    for (let n = 0; n < items.length; n++) {
      const i = this.indexOf(sender(items[n]!));
      if (i >= 0 && !seen.has(i)) {
        seen.add(i);
        sum += this.validators[i]!.power;
      }
      if (sum >= this.quorumPower) return items.slice(0, n + 1);
    }
    return undefined;
  }

  indexOf(address: Uint8Array): number {
    return this.index.get(toKey(address)) ?? -1;
  }

  has(address: Uint8Array): boolean {
    return this.index.has(toKey(address));
  }

  /**
   * The set after `updates`, applied in order (a later one for the same validator wins). Throws
   * ChainError when an update is malformed, removes a validator that is not in the set, or would
   * leave the set empty.
   */
  apply(updates: readonly ValidatorUpdate[]): ValidatorSet {
    if (updates.length === 0) return this;
    const next = new Map(this.validators.map((v) => [toKey(v.address), v]));
    for (const u of updates) {
      if (u.publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || u.blsPublicKey.length !== BLS_PUBLIC_KEY_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, 'validator update: keys must be 32 (Ed25519) and 48 (BLS) bytes');
      if (u.power < 0n) throw new ChainError(ChainErrorCode.FieldValue, 'validator update: power must not be negative');
      const address = addressFromPublicKey(u.publicKey);
      const k = toKey(address);
      if (u.power === 0n) {
        if (!next.delete(k)) throw new ChainError(ChainErrorCode.FieldValue, 'validator update: removes a validator that is not in the set');
      } else next.set(k, { address, publicKey: u.publicKey, blsPublicKey: u.blsPublicKey, power: u.power });
    }
    if (next.size === 0) throw new ChainError(ChainErrorCode.FieldValue, 'validator update: the set would be empty');
    return new ValidatorSet([...next.values()]);
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
