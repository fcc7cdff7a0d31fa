/** Failure codes a court transaction's receipt, or a proposal's outcome, can carry (stable: clients match on them). */
export const CourtErrorCode = {
  InvalidPayload: 'COURT_INVALID_PAYLOAD',
  /** The chain has no staking: nothing to weigh votes by. */
  NoStaking: 'COURT_NO_STAKING',
  UnknownProposal: 'COURT_UNKNOWN_PROPOSAL',
  /** A deposit on a proposal whose deposit and voting are over. */
  ProposalClosed: 'COURT_PROPOSAL_CLOSED',
  /** A vote outside the proposal's voting period. */
  NotVoting: 'COURT_NOT_VOTING',
  /** The voter has no GEN bonded. */
  NoStake: 'COURT_NO_STAKE',
  /** The proposer has less GEN bonded than minProposerStake. */
  ProposerStakeTooLow: 'COURT_PROPOSER_STAKE_TOO_LOW',
  InitialDepositTooLow: 'COURT_INITIAL_DEPOSIT_TOO_LOW',
  ZeroAmount: 'COURT_ZERO_AMOUNT',
  TooManyProposals: 'COURT_TOO_MANY_PROPOSALS',
  TooManyVoters: 'COURT_TOO_MANY_VOTERS',
  TooManyDepositors: 'COURT_TOO_MANY_DEPOSITORS',
  /** A parameter change names an unknown module or parameter, or leaves a module's set invalid. */
  InvalidParams: 'COURT_INVALID_PARAMS',
  /** A treasury spend of more than the treasury holds. */
  TreasuryTooLow: 'COURT_TREASURY_TOO_LOW',
  /** An upgrade plan's name is malformed, or an upgrade of that name already ran. */
  InvalidUpgrade: 'COURT_INVALID_UPGRADE',
  /** An upgrade plan's height is not after the current height (when proposed, or when it comes to execute). */
  UpgradeHeightPassed: 'COURT_UPGRADE_HEIGHT_PASSED',
  /** A cancel_upgrade with no plan to cancel. */
  NoUpgradePlan: 'COURT_NO_UPGRADE_PLAN',
  /** Executing a passed proposal threw something other than a module's coded error (a bug; the node's log has it). */
  ExecutionFault: 'COURT_EXECUTION_FAULT',
} as const;
export type CourtErrorCode = (typeof CourtErrorCode)[keyof typeof CourtErrorCode];
