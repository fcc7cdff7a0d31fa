/** Failure codes a staking transaction's receipt can carry (stable: clients match on them). */
export const StakingErrorCode = {
  InvalidPayload: 'STAKING_INVALID_PAYLOAD',
  /** The chain's genesis has no staking section: its validator set is fixed. */
  Disabled: 'STAKING_DISABLED',
  ZeroAmount: 'STAKING_ZERO_AMOUNT',
  BadPossession: 'STAKING_BAD_POSSESSION',
  BlsKeyInUse: 'STAKING_BLS_KEY_IN_USE',
  ValidatorExists: 'STAKING_VALIDATOR_EXISTS',
  TooManyCandidates: 'STAKING_TOO_MANY_CANDIDATES',
  SelfBondTooLow: 'STAKING_SELF_BOND_TOO_LOW',
  CommissionTooHigh: 'STAKING_COMMISSION_TOO_HIGH',
  UnknownValidator: 'STAKING_UNKNOWN_VALIDATOR',
  NotConsensusKey: 'STAKING_NOT_CONSENSUS_KEY',
  AlreadyReady: 'STAKING_ALREADY_READY',
  Tombstoned: 'STAKING_TOMBSTONED',
  NoDelegation: 'STAKING_NO_DELEGATION',
  InsufficientBond: 'STAKING_INSUFFICIENT_BOND',
  TooManyDelegations: 'STAKING_TOO_MANY_DELEGATIONS',
  TooManyEntries: 'STAKING_TOO_MANY_ENTRIES',
  SameValidator: 'STAKING_SAME_VALIDATOR',
  NothingToWithdraw: 'STAKING_NOTHING_TO_WITHDRAW',
  NotOperator: 'STAKING_NOT_OPERATOR',
  NotJailed: 'STAKING_NOT_JAILED',
  JailNotOver: 'STAKING_JAIL_NOT_OVER',
  InvalidEvidence: 'STAKING_INVALID_EVIDENCE',
  EvidenceTooOld: 'STAKING_EVIDENCE_TOO_OLD',
  EvidenceFromFuture: 'STAKING_EVIDENCE_FROM_FUTURE',
  EvidenceDone: 'STAKING_EVIDENCE_ALREADY_HANDLED',
  /** A roster change on an open chain (its genesis is not permissioned). */
  NotPermissioned: 'STAKING_NOT_PERMISSIONED',
  /** A permissioned chain's validator (or one to remove) that is not on the roster. */
  NotOnRoster: 'STAKING_NOT_ON_ROSTER',
  AlreadyOnRoster: 'STAKING_ALREADY_ON_ROSTER',
  /** The keys or operator differ from the roster's (or from the validator's, when it is re-admitted). */
  RosterMismatch: 'STAKING_ROSTER_MISMATCH',
  InvalidRosterEntry: 'STAKING_INVALID_ROSTER_ENTRY',
} as const;
export type StakingErrorCode = (typeof StakingErrorCode)[keyof typeof StakingErrorCode];
