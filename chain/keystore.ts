import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import * as z from 'zod';
import { addressFromPublicKey, formatAddress } from './address.js';
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from './bytes.js';
import { Ed25519Key } from './ed25519.js';
import { CodedError } from './errors.js';

/**
 * Password-sealed secrets, version 1: the `crypto` section of metanode-cli's key files and of a
 * node's encrypted validator key (node/keyfile.ts). scrypt(password, random salt) gives a 32-byte
 * key for ChaCha20-Poly1305 with a random nonce; the additional data binds the file's public
 * fields (its public keys), so a sealed secret moved into another file fails to open.
 */
export const KEYSTORE_VERSION = 1;

/** The additional data starts with this; each kind of file appends its public keys. */
export const KEYSTORE_AAD_PREFIX = utf8('metanode-keystore-v1');

/** scrypt N = 2^17, r = 8 (128 MiB, about half a second): the cost of every unlock. */
export const DEFAULT_SCRYPT_N = 2 ** 17;

export const KeystoreErrorCode = {
  /** The Poly1305 tag does not match: a wrong password, or a file changed since it was sealed. */
  WrongPassword: 'KEYSTORE_WRONG_PASSWORD',
  /** The sealed section is malformed (lengths, parameters). */
  Malformed: 'KEYSTORE_MALFORMED',
} as const;
export type KeystoreErrorCode = (typeof KeystoreErrorCode)[keyof typeof KeystoreErrorCode];

export class KeystoreError extends CodedError<KeystoreErrorCode> {}

const hex = z.string().regex(/^0x([0-9a-f]{2})*$/);
const pow2 = z.number().int().refine((n) => n >= 2 ** 10 && n <= 2 ** 22 && (n & (n - 1)) === 0, 'must be a power of two in 2^10..2^22');

/** The sealed section of a version-1 key file. */
export const sealedSchema = z.object({
  kdf: z.literal('scrypt'),
  kdfParams: z.object({ n: pow2, r: z.number().int().min(1).max(16), p: z.number().int().min(1).max(4), dkLen: z.literal(32), salt: hex }),
  cipher: z.literal('chacha20-poly1305'),
  nonce: hex,
  ciphertext: hex,
});
export type Sealed = z.infer<typeof sealedSchema>;

async function deriveKey(password: string, salt: Uint8Array, p: { n: number; r: number; p: number }): Promise<Uint8Array> {
  return scryptAsync(utf8(password.normalize('NFKC')), salt, { N: p.n, r: p.r, p: p.p, dkLen: 32, maxmem: 2 ** 31 });
}

/** Seals `secret` with `password` (NFKC-normalised); `aad` is authenticated, not stored. */
export async function sealSecret(secret: Uint8Array, password: string, o: { aad: Uint8Array; scryptN?: number }): Promise<Sealed> {
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const kdfParams = { n: o.scryptN ?? DEFAULT_SCRYPT_N, r: 8, p: 1, dkLen: 32 as const, salt: toHex(salt) };
  const dk = await deriveKey(password, salt, kdfParams);
  try {
    const ciphertext = chacha20poly1305(dk, nonce, concatBytes(KEYSTORE_AAD_PREFIX, o.aad)).encrypt(secret);
    return { kdf: 'scrypt', kdfParams, cipher: 'chacha20-poly1305', nonce: toHex(nonce), ciphertext: toHex(ciphertext) };
  } finally {
    dk.fill(0);
  }
}

/**
 * Opens a sealed secret of `secretLength` bytes. Throws KeystoreError WrongPassword when the tag
 * fails (a wrong password, a changed ciphertext or public field), Malformed for bad lengths.
 */
export async function unsealSecret(sealed: Sealed, password: string, o: { aad: Uint8Array; secretLength: number }): Promise<Uint8Array> {
  let salt: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array;
  try {
    salt = fromHex(sealed.kdfParams.salt, undefined, 'salt');
    nonce = fromHex(sealed.nonce, 12, 'nonce');
    ciphertext = fromHex(sealed.ciphertext, o.secretLength + 16, 'ciphertext');
  } catch (e) {
    throw new KeystoreError(KeystoreErrorCode.Malformed, `the sealed secret is malformed: ${(e as Error).message}`);
  }
  const dk = await deriveKey(password, salt, sealed.kdfParams);
  try {
    return chacha20poly1305(dk, nonce, concatBytes(KEYSTORE_AAD_PREFIX, o.aad)).decrypt(ciphertext);
  } catch {
    throw new KeystoreError(KeystoreErrorCode.WrongPassword, 'wrong password (or the key file was changed since it was written)');
  } finally {
    dk.fill(0);
  }
}

/** A metanode-cli key file (version 1): name, address and public key in clear, the secret sealed. */
export const keyFileSchema = z.object({
  version: z.literal(KEYSTORE_VERSION),
  name: z.string(),
  address: z.string(),
  publicKey: hex,
  createdAt: z.string(),
  crypto: sealedSchema,
});
export type KeyFile = z.infer<typeof keyFileSchema>;

/**
 * Opens a key file (its additional data is its public key). Throws KeystoreError: WrongPassword
 * when the tag fails, Malformed when the file is damaged or its secret does not match its address.
 */
export async function openKeyFile(file: KeyFile, password: string): Promise<Ed25519Key> {
  let publicKey: Uint8Array;
  try {
    publicKey = fromHex(file.publicKey, 32, 'publicKey');
  } catch (e) {
    throw new KeystoreError(KeystoreErrorCode.Malformed, `the key file's public key is malformed: ${(e as Error).message}`);
  }
  const secret = await unsealSecret(file.crypto, password, { aad: publicKey, secretLength: 32 });
  const key = Ed25519Key.fromSecret(secret);
  secret.fill(0);
  if (!equalBytes(key.publicKey, publicKey) || formatAddress(addressFromPublicKey(publicKey)) !== file.address) {
    throw new KeystoreError(KeystoreErrorCode.Malformed, 'its secret does not match its address');
  }
  return key;
}
