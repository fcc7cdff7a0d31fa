import { OutcomeError } from '../../chain/index.js';

/** Why the mempool refused a transaction: stable codes that RPC returns as `data.reason`. */
export const RejectReason = {
  Malformed: 'TX_MALFORMED',
  TooLarge: 'TX_TOO_LARGE',
  WrongChain: 'TX_WRONG_CHAIN',
  UnknownKind: 'TX_UNKNOWN_KIND',
  InvalidPayload: 'TX_INVALID_PAYLOAD',
  BadSignature: 'TX_BAD_SIGNATURE',
  Duplicate: 'TX_DUPLICATE',
  NonceTooLow: 'TX_NONCE_TOO_LOW',
  NonceTooHigh: 'TX_NONCE_TOO_HIGH',
  ReplacementUnderpriced: 'TX_REPLACEMENT_UNDERPRICED',
  FeeTooLow: 'TX_FEE_TOO_LOW',
  InsufficientFeeFunds: 'TX_INSUFFICIENT_FEE_FUNDS',
  MempoolFull: 'TX_MEMPOOL_FULL',
  /** The node could not write the transaction to its journal (disk full or failing): not admitted. */
  NotStored: 'TX_NOT_STORED',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** A refusal, returned to the sender (its reason and message): an outcome, with no stack trace (OutcomeError). */
export class MempoolError extends OutcomeError {
  readonly reason: RejectReason;
  readonly context: Record<string, unknown>;
  constructor(reason: RejectReason, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.name = 'MempoolError';
    this.reason = reason;
    this.context = context;
  }
}
