export const ConsensusErrorCode = {
  InvalidProposal: 'CONSENSUS_INVALID_PROPOSAL',
  WrongChain: 'CONSENSUS_WRONG_CHAIN',
  StateMismatch: 'CONSENSUS_STATE_MISMATCH',
  NotValidator: 'CONSENSUS_NOT_VALIDATOR',
} as const;
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode];

export class ConsensusError extends Error {
  readonly code: ConsensusErrorCode;
  readonly context: Record<string, unknown>;
  constructor(code: ConsensusErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ConsensusError';
    this.code = code;
    this.context = context;
  }
}
