/** Failure codes of an ENC transaction's receipt (stable: clients and executors match on them). */
export const EncTxErrorCode = {
  InvalidPayload: 'ENC_INVALID_PAYLOAD',
  /** The sender already runs a registered execution node. */
  AlreadyRegistered: 'ENC_ALREADY_REGISTERED',
  NotRegistered: 'ENC_NOT_REGISTERED',
  /** The registry holds maxNodes execution nodes. */
  RegistryFull: 'ENC_REGISTRY_FULL',
  /** The bond is below minBond (GEN), or the capacity or price is out of range. */
  InvalidNode: 'ENC_INVALID_NODE',
  /** The node is not in the state the transaction needs (unjail of an active node, unregister while unbonding…). */
  WrongStatus: 'ENC_WRONG_STATUS',
  StillJailed: 'ENC_STILL_JAILED',
  UnknownProgram: 'ENC_UNKNOWN_PROGRAM',
  /** Fuel, input, replicas, deadline or memory over the chain's caps (the message names which). */
  OverCap: 'ENC_OVER_CAP',
  /** No active execution node asks a price at or below the job's maximum: it could never be placed. */
  PriceTooLow: 'ENC_PRICE_TOO_LOW',
  /** The client cannot pay the job's maximum cost into escrow. */
  EscrowUnfunded: 'ENC_ESCROW_UNFUNDED',
  /** The queue of jobs waiting for a node is full (maxQueue): send it again later. */
  QueueFull: 'ENC_QUEUE_FULL',
  UnknownJob: 'ENC_UNKNOWN_JOB',
  /** The sender is not an execution node this job is placed on (now). */
  NotAssigned: 'ENC_NOT_ASSIGNED',
  /** This node's receipt for this job is already in. */
  DuplicateReceipt: 'ENC_DUPLICATE_RECEIPT',
  /** The lease ended (its deadline height passed) before the receipt came. */
  LeaseExpired: 'ENC_LEASE_EXPIRED',
  /** The receipt does not decode, or is not signed by the sender's key. */
  BadReceipt: 'ENC_BAD_RECEIPT',
  /** The receipt's prev is not the hash of this node's last accepted receipt. */
  BrokenChain: 'ENC_BROKEN_CHAIN',
  /** The receipt describes another job: its job id, program, input, fuel, clock or caps differ from the job's. */
  WrongJob: 'ENC_WRONG_JOB',
  /** The output given is not the one the receipt's output hash names, or is over maxOutputBytes. */
  BadOutput: 'ENC_BAD_OUTPUT',
  /** The job or receipt cannot be challenged now: no receipt from that node, the window closed, or a dispute already open. */
  NotChallengeable: 'ENC_NOT_CHALLENGEABLE',
  /** The challenger cannot post the challenge bond (NEX). */
  BondUnfunded: 'ENC_BOND_UNFUNDED',
  /** The node cannot leave yet: it has jobs placed on it that are not settled. */
  Busy: 'ENC_BUSY',
} as const;
export type EncTxErrorCode = (typeof EncTxErrorCode)[keyof typeof EncTxErrorCode];
