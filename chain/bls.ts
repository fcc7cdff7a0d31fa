import blst from '@chainsafe/blst';
import { randomBytes } from 'node:crypto';
import { toKey } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HashTag, taggedHash } from './hash.js';

/**
 * BLS12-381 (min-pk: 48-byte public keys in G1, 96-byte signatures in G2) through the native
 * blst bindings. Used for consensus votes so that a commit certificate is one aggregate.
 */
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;
export const BLS_SECRET_KEY_LENGTH = 32;

export class BlsKey {
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  private readonly sk: blst.SecretKey;

  private constructor(secret: Uint8Array) {
    this.secret = secret;
    this.sk = blst.SecretKey.fromBytes(secret);
    this.publicKey = this.sk.toPublicKey().toBytes(true);
  }

  static fromSecret(secret: Uint8Array): BlsKey {
    if (secret.length !== BLS_SECRET_KEY_LENGTH) {
      throw new ChainError(ChainErrorCode.FieldLength, `a BLS secret key is ${BLS_SECRET_KEY_LENGTH} bytes, got ${secret.length}`);
    }
    try {
      return new BlsKey(new Uint8Array(secret));
    } catch (e) {
      throw new ChainError(ChainErrorCode.FieldValue, `invalid BLS secret key: ${(e as Error).message}`);
    }
  }

  /** Derives a key from input keying material (IKM, at least 32 bytes) with the standard KeyGen. */
  static fromSeed(ikm: Uint8Array): BlsKey {
    return new BlsKey(blst.SecretKey.fromKeygen(ikm).toBytes());
  }

  static generate(): BlsKey {
    return BlsKey.fromSeed(new Uint8Array(randomBytes(32)));
  }

  sign(message: Uint8Array): Uint8Array {
    return this.sk.sign(message).toBytes(true);
  }

  /**
   * Proof of possession: this key's signature over its own public key (under its own hash tag).
   * Requiring it for every validator key rules out rogue-key attacks on aggregate signatures.
   */
  proofOfPossession(): Uint8Array {
    return this.sign(blsPossessionMessage(this.publicKey));
  }
}

export function blsPossessionMessage(publicKey: Uint8Array): Uint8Array {
  return taggedHash(HashTag.BlsPossession, publicKey);
}

export function verifyBlsPossession(publicKey: Uint8Array, proof: Uint8Array): boolean {
  return blsVerify(publicKey, blsPossessionMessage(publicKey), proof);
}

/**
 * Deserialised (and validated) public keys: validators' keys are used for every block, and
 * decompressing and subgroup-checking a key costs a good part of a verification.
 */
const publicKeys = new Map<string, blst.PublicKey>();
const PUBLIC_KEY_CACHE_MAX = 4096;

function publicKey(bytes: Uint8Array): blst.PublicKey {
  const k = toKey(bytes);
  let pk = publicKeys.get(k);
  if (pk === undefined) {
    pk = blst.PublicKey.fromBytes(bytes, true);
    if (publicKeys.size >= PUBLIC_KEY_CACHE_MAX) publicKeys.clear();
    publicKeys.set(k, pk);
  }
  return pk;
}

export function blsVerify(publicKey_: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return blst.verify(message, publicKey(publicKey_), blst.Signature.fromBytes(signature, true));
  } catch {
    return false;
  }
}

export function blsAggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  return blst.aggregateSerializedSignatures(signatures, true).toBytes(true);
}

/** All signers signed the same message: aggregate their keys and verify once. */
export function blsFastAggregateVerify(message: Uint8Array, keys: Uint8Array[], signature: Uint8Array): boolean {
  if (keys.length === 0) return false;
  try {
    const pks = keys.map(publicKey);
    return blst.fastAggregateVerify(message, pks, blst.Signature.fromBytes(signature, true));
  } catch {
    return false;
  }
}

export function isValidBlsPublicKey(pk: Uint8Array): boolean {
  try {
    blst.PublicKey.fromBytes(pk, true).keyValidate();
    return true;
  } catch {
    return false;
  }
}
