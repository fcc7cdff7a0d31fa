import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { toKey } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';

/**
 * Ed25519 through node:crypto (OpenSSL): an order of magnitude faster than pure JS.
 * Public key objects are cached because importing the key costs as much as a verify.
 */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SECRET_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

const KEY_CACHE_MAX = 65_536;
const keyCache = new Map<string, KeyObject>();

function publicKeyObject(pub: Uint8Array): KeyObject {
  const k = toKey(pub);
  let obj = keyCache.get(k);
  if (obj === undefined) {
    obj = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(k, obj);
  }
  return obj;
}

/** A secret key is its 32-byte seed (RFC 8032). */
export class Ed25519Key {
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  private readonly keyObject: KeyObject;

  private constructor(secret: Uint8Array) {
    this.secret = secret;
    this.keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.keyObject).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  }

  static fromSecret(secret: Uint8Array): Ed25519Key {
    if (secret.length !== ED25519_SECRET_KEY_LENGTH) {
      throw new ChainError(ChainErrorCode.FieldLength, `an Ed25519 secret key is ${ED25519_SECRET_KEY_LENGTH} bytes, got ${secret.length}`);
    }
    return new Ed25519Key(new Uint8Array(secret));
  }

  static generate(): Ed25519Key {
    return new Ed25519Key(new Uint8Array(randomBytes(ED25519_SECRET_KEY_LENGTH)));
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, message, this.keyObject));
  }
}

export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false; // a public key that is not a curve point
  }
}
