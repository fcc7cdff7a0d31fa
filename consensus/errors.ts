import { CodedError } from '../chain/errors.js';

export const ConsensusErrorCode = {
  InvalidProposal: 'CONSENSUS_INVALID_PROPOSAL',
  WrongChain: 'CONSENSUS_WRONG_CHAIN',
  StateMismatch: 'CONSENSUS_STATE_MISMATCH',
  NotValidator: 'CONSENSUS_NOT_VALIDATOR',
  /** The chain takes no more blocks: a software upgrade this binary does not know is due. */
  Halted: 'CONSENSUS_HALTED',
} as const;
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode];

export class ConsensusError extends CodedError<ConsensusErrorCode> {}
