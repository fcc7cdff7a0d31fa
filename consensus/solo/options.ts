export interface SoloOptions {
  /** Most transactions in one block. */
  maxBlockTxs: number;
  /** Most bytes of transactions in one block. */
  maxBlockBytes: number;
  /** An empty block is produced after this long without transactions (ms). */
  emptyBlockIntervalMs: number;
}

export const defaultSoloOptions: SoloOptions = {
  maxBlockTxs: 10_000,
  maxBlockBytes: 8 * 1024 * 1024,
  emptyBlockIntervalMs: 5_000,
};
