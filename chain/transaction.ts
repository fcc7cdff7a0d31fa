import { addressFromPublicKey, sharedAddress } from './address.js';
import { toKey, utf8Length } from './bytes.js';
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, ed25519Verify, type Ed25519Key } from './ed25519.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HashTag, taggedHash, taggedHashWithPrefix } from './hash.js';
import { asBigint, asBytes, asString, decodeList, rlpDecode, rlpEncode, type RlpInput, type RlpItem } from './rlp.js';

export const MAX_CHAIN_ID_LENGTH = 64;
export const MAX_KIND_LENGTH = 64;
const KIND_RE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

export interface UnsignedTransaction {
  chainId: string;
  nonce: bigint;
  /** The sender's Ed25519 public key; the sender's address is derived from it. */
  sender: Uint8Array;
  /** Fee in NEX base units, paid to the proposer whether or not the transaction succeeds. */
  fee: bigint;
  /** `module.method`, e.g. `bank.transfer`: routes the transaction to a native module. */
  kind: string;
  /** Module-specific arguments (RLP, decoded by the module). */
  payload: Uint8Array;
}

/**
 * A signed transaction. RLP: [chainId, nonce, sender, fee, kind, payload, signature].
 * The signature is Ed25519 over tagged-hash(TxSigning, RLP of the first six fields).
 *
 * A node holds many transactions at once (the mempool, blocks in flight, recent blocks), and a
 * small Uint8Array costs ~100–250 bytes of heap besides its bytes, so a transaction keeps few:
 * its encoding, its hash, and its sender's key shared with every transaction of that sender
 * (see accountOf); `payload` and `signature` are views of the encoding made when asked for.
 */
export class Transaction implements UnsignedTransaction {
  readonly chainId: string;
  readonly nonce: bigint;
  readonly sender: Uint8Array;
  readonly fee: bigint;
  readonly kind: string;
  private readonly _bytes: Uint8Array;
  /** Where the payload's bytes are in `_bytes`. */
  private readonly _payloadStart: number;
  private readonly _payloadEnd: number;
  private _hash?: Uint8Array;
  private readonly _account: Account;
  private _key?: string;
  /** 0: not decoded yet; 1: `_decoded` holds the value; 2: it holds what decoding threw. */
  private _decodedState: 0 | 1 | 2 = 0;
  private _decoded: unknown;

  /**
   * `bytes`: the canonical encoding, when the caller has it (decodeTransaction) — never re-encoded;
   * `hash`: its hash, when already computed.
   */
  constructor(fields: UnsignedTransaction & { signature: Uint8Array }, bytes?: Uint8Array, hash?: Uint8Array) {
    validateUnsigned(fields);
    if (fields.signature.length !== ED25519_SIGNATURE_LENGTH) {
      throw new ChainError(ChainErrorCode.FieldLength, `transaction signature must be ${ED25519_SIGNATURE_LENGTH} bytes`);
    }
    this.chainId = fields.chainId;
    this.nonce = fields.nonce;
    this._account = accountOf(fields.sender);
    this.sender = this._account.publicKey;
    this.fee = fields.fee;
    this.kind = fields.kind;
    // Fields without their encoding (a transaction being signed, or built by a test) are encoded now.
    const encoded = bytes ?? rlpEncode([...unsignedRaw(fields), fields.signature]);
    // The payload's bytes end where the signature item (b8 40 ‖ 64 bytes) begins.
    this._payloadEnd = encoded.length - (ED25519_SIGNATURE_LENGTH + 2);
    this._payloadStart = this._payloadEnd - fields.payload.length;
    this._bytes = encoded;
    this._hash = bytes && hash;
  }

  /** Module-specific arguments (RLP, decoded by the module): a view of the encoding. */
  get payload(): Uint8Array {
    return this._bytes.subarray(this._payloadStart, this._payloadEnd);
  }

  /** The Ed25519 signature: a view of the encoding's last 64 bytes. */
  get signature(): Uint8Array {
    return this._bytes.subarray(this._bytes.length - ED25519_SIGNATURE_LENGTH);
  }

  /** The six signed fields, e.g. to build a variant of this transaction. */
  unsigned(): UnsignedTransaction {
    return { chainId: this.chainId, nonce: this.nonce, sender: this.sender, fee: this.fee, kind: this.kind, payload: this.payload };
  }

  static sign(fields: UnsignedTransaction, key: Ed25519Key): Transaction {
    validateUnsigned(fields);
    return new Transaction({ ...fields, signature: key.sign(signingHash(fields)) });
  }

  get module(): string {
    return this.kind.slice(0, this.kind.indexOf('.'));
  }

  get method(): string {
    return this.kind.slice(this.kind.indexOf('.') + 1);
  }

  /** The sender's 20-byte address (derived once per public key: see accountOf). */
  from(): Uint8Array {
    return this._account.address;
  }

  /** The hash as a Map key (latin1, one char per byte). */
  get key(): string {
    return (this._key ??= toKey(this.hash()));
  }

  /** The sender's address as a Map key (shared by every transaction of the sender). */
  get fromKey(): string {
    return this._account.key;
  }

  /**
   * The payload as decoded by `decode` the first time this is called (the module that owns the
   * kind: see ModuleRegistry.decode); later calls return it, or rethrow what decoding threw.
   */
  decoded<T>(decode: () => T): T {
    if (this._decodedState === 0) {
      try {
        this._decoded = decode();
        this._decodedState = 1;
      } catch (e) {
        this._decoded = e;
        this._decodedState = 2;
      }
    }
    if (this._decodedState === 2) throw this._decoded;
    return this._decoded as T;
  }

  serialize(): Uint8Array {
    return this._bytes;
  }

  hash(): Uint8Array {
    return (this._hash ??= transactionHash(this.serialize()));
  }

  /**
   * The signing preimage is the RLP list of the first six fields. In the encoding those six items
   * are contiguous, followed by the 66-byte signature item (b8 40 ‖ 64 bytes), so the preimage is
   * a new list header over that span of the encoding: nothing is re-encoded.
   */
  signingHash(): Uint8Array {
    // Not kept: it is needed once, when the signature is checked.
    const bytes = this.serialize();
    const bodyStart = bytes[0]! <= 0xf7 ? 1 : bytes[0]! - 0xf7 + 1;
    const bodyEnd = bytes.length - (ED25519_SIGNATURE_LENGTH + 2);
    return taggedHashWithPrefix(HashTag.TxSigning, listHeader(bodyEnd - bodyStart), bytes, bodyStart, bodyEnd);
  }

  verifySignature(): boolean {
    return ed25519Verify(this.sender, this.signingHash(), this.signature);
  }
}

/** The RLP list header for a payload of `len` bytes, as a number of up to 4 bytes (big-endian) and its length. */
function listHeader(len: number): { value: number; bytes: number } {
  if (len < 56) return { value: 0xc0 + len, bytes: 1 };
  const n = len < 0x100 ? 1 : len < 0x10000 ? 2 : 3;
  return { value: (0xf7 + n) * 2 ** (8 * n) + len, bytes: n + 1 };
}

function unsignedRaw(t: UnsignedTransaction): RlpInput[] {
  return [t.chainId, t.nonce, t.sender, t.fee, t.kind, t.payload];
}

export function signingHash(t: UnsignedTransaction): Uint8Array {
  return taggedHash(HashTag.TxSigning, rlpEncode(unsignedRaw(t)));
}

/** A sender: its public key, its address and the address as a Map key, shared by all its transactions. */
interface Account {
  publicKey: Uint8Array;
  address: Uint8Array;
  key: string;
}

/** Recent senders by public key: deriving an address is a hash, looking it up is cheaper. */
const accounts = new Map<string, Account>();
const ACCOUNT_CACHE_MAX = 100_000;

function accountOf(publicKey: Uint8Array): Account {
  const k = toKey(publicKey);
  let a = accounts.get(k);
  if (a === undefined) {
    // The address record is the one recipients of transfers share; the key a copy, as a view
    // would keep the whole encoding of the first transaction seen alive.
    a = { publicKey: publicKey.slice(), ...sharedAddress(addressFromPublicKey(publicKey)) };
    if (accounts.size >= ACCOUNT_CACHE_MAX) accounts.clear();
    accounts.set(k, a);
  }
  return a;
}

/** The chain ids and kinds seen last, so that each decoded transaction does not carry its own copy. */
const interned = new Map<string, string>();
const INTERN_MAX = 1024;

/** A string field of a transaction, decoded once per distinct value (ASCII, the common case) or by asString. */
function internedString(item: RlpItem | undefined, what: string, maxLength: number): string {
  const b = item instanceof Uint8Array ? item : undefined;
  if (b === undefined || b.length > maxLength) return asString(item, what, maxLength);
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return asString(item, what, maxLength);
  const latin1 = toKey(b); // for ASCII bytes, the latin1 string is the UTF-8 string
  let s = interned.get(latin1);
  if (s === undefined) {
    if (interned.size >= INTERN_MAX) interned.clear();
    interned.set(latin1, (s = latin1));
  }
  return s;
}

function validateUnsigned(t: UnsignedTransaction): void {
  if (t.chainId.length === 0 || utf8Length(t.chainId) > MAX_CHAIN_ID_LENGTH) {
    throw new ChainError(ChainErrorCode.FieldValue, `chain id must be 1..${MAX_CHAIN_ID_LENGTH} bytes`);
  }
  if (t.nonce < 0n || t.nonce >= 1n << 64n) throw new ChainError(ChainErrorCode.FieldValue, 'nonce must be a u64');
  if (t.fee < 0n || t.fee >= 1n << 128n) throw new ChainError(ChainErrorCode.FieldValue, 'fee must be a u128');
  if (t.sender.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new ChainError(ChainErrorCode.FieldLength, `sender public key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes`);
  }
  if (t.kind.length > MAX_KIND_LENGTH || !KIND_RE.test(t.kind)) {
    throw new ChainError(ChainErrorCode.FieldValue, `transaction kind must look like "module.method", got "${t.kind}"`);
  }
}

/** The hash of a transaction from its encoding. */
export function transactionHash(bytes: Uint8Array): Uint8Array {
  return taggedHash(HashTag.Transaction, bytes);
}

/** Strict decode; `hash`: the hash of `bytes`, when the caller has already computed it. */
export function decodeTransaction(bytes: Uint8Array, hash?: Uint8Array): Transaction {
  const f = decodeList(rlpDecode(bytes, 'transaction'), 7, 'transaction');
  const tx = new Transaction(
    {
      chainId: internedString(f[0], 'transaction.chainId', MAX_CHAIN_ID_LENGTH),
      nonce: asBigint(f[1], 'transaction.nonce', 8),
      sender: asBytes(f[2], 'transaction.sender', ED25519_PUBLIC_KEY_LENGTH),
      fee: asBigint(f[3], 'transaction.fee', 16),
      kind: internedString(f[4], 'transaction.kind', MAX_KIND_LENGTH),
      payload: asBytes(f[5], 'transaction.payload'),
      signature: asBytes(f[6], 'transaction.signature', ED25519_SIGNATURE_LENGTH),
    },
    bytes,
    hash,
  );
  return tx;
}
