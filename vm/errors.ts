import { CodedError, OutcomeError } from '../chain/errors.js';

/**
 * Errors of the state machine. A `TxError` thrown by a module while executing a transaction
 * fails that transaction (its fee is still charged, its other writes are reverted, and the
 * receipt carries the code and message); a `VmError` is a fault of the block or the node.
 */
export const VmErrorCode = {
  UnknownModule: 'VM_UNKNOWN_MODULE',
  UnknownTxKind: 'VM_UNKNOWN_TX_KIND',
  InvalidBlock: 'VM_INVALID_BLOCK',
  InvalidGenesis: 'VM_INVALID_GENESIS',
  InvalidQuery: 'VM_INVALID_QUERY',
  StateMismatch: 'VM_STATE_MISMATCH',
  /** A module read or wrote a key outside its own prefix (a bug: it must go through the other module's keeper). */
  OutOfScope: 'VM_OUT_OF_SCOPE',
} as const;
export type VmErrorCode = (typeof VmErrorCode)[keyof typeof VmErrorCode];

export class VmError extends CodedError<VmErrorCode> {}

/**
 * A transaction failed by the rules of a module: the block stays valid, the receipt says why. An
 * outcome, with no stack trace (OutcomeError); a module's fault, any other error, keeps its stack
 * for the log.
 */
export class TxError extends OutcomeError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TxError';
    this.code = code;
  }
}
