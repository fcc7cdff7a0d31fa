import { ed25519 } from '@noble/curves/ed25519.js';
import { ChainError, ChainErrorCode } from '../../chain/errors.js';
import { notInBrowser } from './unsupported.js';

/**
 * chain/ed25519.ts for the browser bundle (client/browser/build.ts puts this file in its place):
 * keys and signing through @noble/curves, which gives RFC 8032's deterministic signatures, the
 * same bytes as node:crypto (test/unit/client/browser.test.ts checks it). Verification is left
 * out: the chain's rule is libsodium's (chain/ed25519.ts), and nothing a client does in a browser
 * decides whether a signature is valid.
 */
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SECRET_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

export class Ed25519Key {
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;

  private constructor(secret: Uint8Array) {
    this.secret = secret;
    this.publicKey = ed25519.getPublicKey(secret);
  }

  static fromSecret(secret: Uint8Array): Ed25519Key {
    if (secret.length !== ED25519_SECRET_KEY_LENGTH) {
      throw new ChainError(ChainErrorCode.FieldLength, `an Ed25519 secret key is ${ED25519_SECRET_KEY_LENGTH} bytes, got ${secret.length}`);
    }
    return new Ed25519Key(new Uint8Array(secret));
  }

  static generate(): Ed25519Key {
    return new Ed25519Key(crypto.getRandomValues(new Uint8Array(ED25519_SECRET_KEY_LENGTH)));
  }

  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.secret);
  }
}

export const ed25519Verify = (): boolean => notInBrowser("Ed25519 verification (the chain's rule is libsodium's)");
