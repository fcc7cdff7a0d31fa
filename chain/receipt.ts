import { ChainError, ChainErrorCode } from './errors.js';
import { HashTag, taggedHash } from './hash.js';
import { merkleRoot } from './merkle.js';
import { asBigint, asBytes, asList, asSafeUint, asString, decodeList, rlpDecode, rlpEncode, type RlpInput, type RlpItem } from './rlp.js';

/** Something a module recorded while executing a transaction, e.g. bank/transfer. */
export interface Event {
  module: string;
  type: string;
  attributes: ReadonlyArray<readonly [string, string]>;
}

export const ReceiptStatus = { Success: 0, Failed: 1 } as const;
export type ReceiptStatus = (typeof ReceiptStatus)[keyof typeof ReceiptStatus];

export interface ReceiptFields {
  txHash: Uint8Array;
  status: ReceiptStatus;
  /** Machine-readable failure code (empty on success), e.g. BANK_INSUFFICIENT_FUNDS. */
  errorCode: string;
  /** What went wrong, for a person. */
  errorMessage: string;
  /** NEX base units charged as the fee. */
  fee: bigint;
  events: Event[];
}

/** RLP: [txHash, status, errorCode, errorMessage, fee, [[module, type, [[k, v]...]]...]]. */
export class Receipt implements ReceiptFields {
  readonly txHash: Uint8Array;
  readonly status: ReceiptStatus;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly fee: bigint;
  readonly events: Event[];
  private _bytes?: Uint8Array;
  private _hash?: Uint8Array;

  constructor(f: ReceiptFields) {
    if (f.txHash.length !== 32) throw new ChainError(ChainErrorCode.FieldLength, 'receipt.txHash must be 32 bytes');
    this.txHash = f.txHash;
    this.status = f.status;
    this.errorCode = f.errorCode;
    this.errorMessage = f.errorMessage;
    this.fee = f.fee;
    this.events = f.events;
  }

  get ok(): boolean {
    return this.status === ReceiptStatus.Success;
  }

  serialize(): Uint8Array {
    return (this._bytes ??= rlpEncode([this.txHash, this.status, this.errorCode, this.errorMessage, this.fee, this.events.map(eventRaw)]));
  }

  hash(): Uint8Array {
    return (this._hash ??= taggedHash(HashTag.Receipt, this.serialize()));
  }
}

/** An event's RLP: [module, type, [[key, value]...]]. */
function eventRaw(e: Event): RlpInput {
  return [e.module, e.type, e.attributes as RlpInput];
}

function eventFromRlp(ev: RlpItem, i: number): Event {
  const e = decodeList(ev, 3, `events[${i}]`);
  return {
    module: asString(e[0], 'event.module'),
    type: asString(e[1], 'event.type'),
    attributes: asList(e[2], 'event.attributes').map((a) => {
      const kv = decodeList(a, 2, 'event.attribute');
      return [asString(kv[0], 'event.attribute.key'), asString(kv[1], 'event.attribute.value', 4096)] as const;
    }),
  };
}

/**
 * The events of a block's begin- and end-block hooks (not tied to a transaction): rewards,
 * jailings, a hook's failure. The header commits to them (eventsRoot: the Merkle root of each
 * event's RLP, so one can be proven), and they are stored and served beside the receipts.
 */
export function blockEventsRoot(events: readonly Event[]): Uint8Array {
  return merkleRoot(events.map((e) => rlpEncode(eventRaw(e))));
}

/** A block's events as stored: RLP [[module, type, [[k, v]...]]...]. */
export function encodeBlockEvents(events: readonly Event[]): Uint8Array {
  return rlpEncode(events.map(eventRaw));
}

export function decodeBlockEvents(bytes: Uint8Array): Event[] {
  return asList(rlpDecode(bytes, 'block events'), 'block events').map(eventFromRlp);
}

export function decodeReceipt(bytes: Uint8Array): Receipt {
  return receiptFromRlp(rlpDecode(bytes, 'receipt'));
}

export function receiptFromRlp(item: RlpItem): Receipt {
  const f = decodeList(item, 6, 'receipt');
  const status = asSafeUint(f[1], 'receipt.status');
  if (status !== 0 && status !== 1) throw new ChainError(ChainErrorCode.FieldValue, `receipt.status must be 0 or 1, got ${status}`);
  const events = asList(f[5], 'receipt.events').map(eventFromRlp);
  return new Receipt({
    txHash: asBytes(f[0], 'receipt.txHash', 32),
    status: status as ReceiptStatus,
    errorCode: asString(f[2], 'receipt.errorCode'),
    errorMessage: asString(f[3], 'receipt.errorMessage', 4096),
    fee: asBigint(f[4], 'receipt.fee', 16),
    events,
  });
}
