/** Failure codes of a DockLock transaction's receipt (stable: clients match on them). */
export const DocklockTxErrorCode = {
  InvalidPayload: 'DOCKLOCK_INVALID_PAYLOAD',
  /** The program is refused: the message names why (a rejected feature, an import outside the ABI, no entry point, too large…). */
  InvalidProgram: 'DOCKLOCK_INVALID_PROGRAM',
  /** A program with these bytes is already deployed (programs are stored by content hash, once). */
  ProgramExists: 'DOCKLOCK_PROGRAM_EXISTS',
  UnknownProgram: 'DOCKLOCK_UNKNOWN_PROGRAM',
  /** The block's fuel budget (maxBlockFuel) cannot take this run's fuel limit: send it again for a later block. */
  BlockFuelExhausted: 'DOCKLOCK_BLOCK_FUEL_EXHAUSTED',
} as const;
export type DocklockTxErrorCode = (typeof DocklockTxErrorCode)[keyof typeof DocklockTxErrorCode];
