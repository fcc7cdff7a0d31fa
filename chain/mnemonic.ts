import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { utf8 } from './bytes.js';
import { CodedError } from './errors.js';

/**
 * Keys from a BIP-39 mnemonic (English words; @scure/bip39), derived by SLIP-0010 for Ed25519:
 * the seed's HMAC-SHA512 under "ed25519 seed" is the master key and chain code, and each step of
 * the path (hardened only: Ed25519 has no public derivation) is HMAC-SHA512(chain code,
 * 0x00 ‖ key ‖ index). The same words and path give the same key in any SLIP-0010 wallet.
 */

export const MnemonicErrorCode = {
  /** Not a valid English BIP-39 phrase: a word outside the list, a wrong count, a bad checksum. */
  Invalid: 'MNEMONIC_INVALID',
  /** A derivation path that is not m/… of hardened indices. */
  BadPath: 'MNEMONIC_BAD_PATH',
} as const;
export type MnemonicErrorCode = (typeof MnemonicErrorCode)[keyof typeof MnemonicErrorCode];
export class MnemonicError extends CodedError<MnemonicErrorCode> {}

export const HARDENED_OFFSET = 0x8000_0000;

/**
 * The BIP-44 coin type of Metanode keys. Not registered in SLIP-44: a registration is a request
 * to satoshilabs/slips; until then wallets that derive Metanode keys use this constant.
 */
export const METANODE_COIN_TYPE = 7101;

/** The path of account key `index`: m/44'/7101'/0'/0'/index' (every level hardened, as SLIP-0010 Ed25519 requires). */
export const metanodeKeyPath = (index: number): string => `m/44'/${METANODE_COIN_TYPE}'/0'/0'/${index}'`;

/** A new phrase: 24 words (256 bits of entropy from the platform's CSPRNG) unless told 12. */
export function newMnemonic(words: 12 | 24 = 24): string {
  return generateMnemonic(wordlist, words === 12 ? 128 : 256);
}

/** Words separated by any whitespace, lower case: as people type them. */
export function normalizeMnemonic(phrase: string): string {
  return phrase.trim().toLowerCase().split(/\s+/).join(' ');
}

export function isValidMnemonic(phrase: string): boolean {
  return validateMnemonic(normalizeMnemonic(phrase), wordlist);
}

/** "m/44'/7101'/0'/0'/0'" → indices (hardened: + 2^31); MnemonicError if any level is not hardened. */
export function parsePath(path: string): number[] {
  const parts = path.trim().split('/');
  if (parts[0] !== 'm') throw new MnemonicError(MnemonicErrorCode.BadPath, `derivation path "${path}" must start with m/`);
  return parts.slice(1).map((p) => {
    const m = /^(\d+)['hH]$/.exec(p);
    if (!m) throw new MnemonicError(MnemonicErrorCode.BadPath, `derivation path "${path}": "${p}" must be a hardened index like 0' (Ed25519 keys derive only hardened)`);
    const n = Number(m[1]);
    if (n >= HARDENED_OFFSET) throw new MnemonicError(MnemonicErrorCode.BadPath, `derivation path "${path}": index ${n} is above 2^31 - 1`);
    return n + HARDENED_OFFSET;
  });
}

/** SLIP-0010 Ed25519 derivation from a seed: the 32-byte secret key and chain code at `path` (indices, hardened). */
export function slip10Ed25519(seed: Uint8Array, path: readonly number[]): { secret: Uint8Array; chainCode: Uint8Array } {
  let i = hmac(sha512, utf8('ed25519 seed'), seed);
  for (const index of path) {
    if (index < HARDENED_OFFSET || index > 0xffff_ffff) throw new MnemonicError(MnemonicErrorCode.BadPath, `index ${index} is not hardened`);
    const data = new Uint8Array(37);
    data.set(i.subarray(0, 32), 1);
    new DataView(data.buffer).setUint32(33, index, false);
    const next = hmac(sha512, i.subarray(32), data);
    i.fill(0);
    i = next;
  }
  const out = { secret: i.slice(0, 32), chainCode: i.slice(32) };
  i.fill(0);
  return out;
}

/** The Ed25519 secret of `path` (default: account key 0) from a phrase and optional BIP-39 passphrase. */
export function secretFromMnemonic(phrase: string, o: { path?: string; passphrase?: string } = {}): Uint8Array {
  const words = normalizeMnemonic(phrase);
  if (!validateMnemonic(words, wordlist)) {
    throw new MnemonicError(MnemonicErrorCode.Invalid, 'not a valid BIP-39 mnemonic: check every word against the English list, the word count (12, 15, 18, 21 or 24) and their order');
  }
  const seed = mnemonicToSeedSync(words, o.passphrase ?? '');
  try {
    return slip10Ed25519(seed, parsePath(o.path ?? metanodeKeyPath(0))).secret;
  } finally {
    seed.fill(0);
  }
}
