import { addressFromPublicKey, formatAddress } from '../chain/address.js';
import { fromHex } from '../chain/bytes.js';
import { Ed25519Key } from '../chain/ed25519.js';
import { keyFileSchema, openKeyFile } from '../chain/keystore.js';
import { metanodeKeyPath, MnemonicError, secretFromMnemonic } from '../chain/mnemonic.js';
import { Transaction, type UnsignedTransaction } from '../chain/transaction.js';
import { ClientError, ClientErrorCode } from './errors.js';

/** What signs transactions: an Ed25519 key. */
export interface Signer {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  /** The address as text (mn1…). */
  readonly addressText: string;
  sign(fields: Omit<UnsignedTransaction, 'sender'>): Transaction;
}

class KeySigner implements Signer {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  readonly addressText: string;
  constructor(private readonly key: Ed25519Key) {
    this.publicKey = key.publicKey;
    this.address = addressFromPublicKey(key.publicKey);
    this.addressText = formatAddress(this.address);
  }
  sign(fields: Omit<UnsignedTransaction, 'sender'>): Transaction {
    return Transaction.sign({ ...fields, sender: this.publicKey }, this.key);
  }
}

/** A signer from a 32-byte Ed25519 secret (bytes, or 0x + 64 hex digits). */
export function signerFromSecret(secret: Uint8Array | string): Signer {
  let bytes: Uint8Array;
  try {
    bytes = typeof secret === 'string' ? fromHex(secret.trim(), 32, 'secret') : secret;
  } catch {
    throw new ClientError(ClientErrorCode.BadArgument, 'an Ed25519 secret is 0x followed by 64 hex digits (32 bytes)');
  }
  if (bytes.length !== 32) throw new ClientError(ClientErrorCode.BadArgument, `an Ed25519 secret is 32 bytes, not ${bytes.length}`);
  return new KeySigner(Ed25519Key.fromSecret(bytes));
}

/** A signer from a metanode-cli key file (~/.metanode-cli/keys/NAME.json) and its password. KeystoreError on a wrong password. Node.js only. */
export async function signerFromKeyFile(path: string, password: string): Promise<Signer> {
  let json: unknown;
  try {
    const { readFile } = await import('node:fs/promises'); // not in the browser bundle
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ClientError(ClientErrorCode.BadArgument, `cannot read the key file ${path}: ${(e as Error).message}`);
  }
  const file = keyFileSchema.safeParse(json);
  if (!file.success) throw new ClientError(ClientErrorCode.BadArgument, `${path} is not a metanode-cli key file (version 1)`);
  return new KeySigner(await openKeyFile(file.data, password));
}

/**
 * A signer from a BIP-39 mnemonic (English), derived by SLIP-0010 Ed25519 at account key `index`
 * (m/44'/7101'/0'/0'/index', chain/mnemonic.ts) or at `path`; `passphrase` is BIP-39's optional one.
 */
export function signerFromMnemonic(phrase: string, o: { index?: number; path?: string; passphrase?: string } = {}): Signer {
  const index = o.index ?? 0;
  if (!Number.isSafeInteger(index) || index < 0 || index >= 0x8000_0000) throw new ClientError(ClientErrorCode.BadArgument, 'a key index is a whole number below 2^31');
  let secret: Uint8Array;
  try {
    secret = secretFromMnemonic(phrase, { path: o.path ?? metanodeKeyPath(index), ...(o.passphrase ? { passphrase: o.passphrase } : {}) });
  } catch (e) {
    if (e instanceof MnemonicError) throw new ClientError(ClientErrorCode.BadArgument, e.message);
    throw e;
  }
  const signer = new KeySigner(Ed25519Key.fromSecret(secret));
  secret.fill(0);
  return signer;
}
