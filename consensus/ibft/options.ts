export interface IbftOptions {
  /** Timeout of round 1; round r waits base * 2^(r-1) up to maxRoundTimeoutMs, then base more each round. */
  roundTimeoutMs: number;
  /** Where the doubling stops: past it a round's timeout grows by roundTimeoutMs a round (never stays equal: IbftCore.timeout). */
  maxRoundTimeoutMs: number;
  /** With no transactions waiting, the proposer of round 0 waits this long before an empty block. */
  emptyBlockIntervalMs: number;
  /**
   * With fewer than targetBlockTxs waiting, the proposer of round 0 proposes no sooner than this
   * after the previous block: under a light load blocks still follow each other closely, and under
   * a heavy one each holds many transactions rather than a few (each block costs signatures and
   * synced writes whatever its size).
   */
  minBlockIntervalMs: number;
  /** With this many transactions waiting, the proposer proposes at once. */
  targetBlockTxs: number;
  /** Most transactions in a block. */
  maxBlockTxs: number;
  /** Most bytes of transactions in a block. */
  maxBlockBytes: number;
  /** Messages for heights up to this far ahead are buffered; later ones are dropped. */
  maxFutureHeights: number;
  /** Buffered future messages kept per validator. */
  maxFuturePerValidator: number;
  /** Rounds ahead of the current one whose messages are kept. */
  maxFutureRounds: number;
}

export const defaultIbftOptions: IbftOptions = {
  roundTimeoutMs: 2_000,
  maxRoundTimeoutMs: 30_000,
  emptyBlockIntervalMs: 5_000,
  minBlockIntervalMs: 50,
  targetBlockTxs: 2_000,
  maxBlockTxs: 10_000,
  maxBlockBytes: 8 * 1024 * 1024,
  maxFutureHeights: 16,
  maxFuturePerValidator: 256,
  maxFutureRounds: 64,
};
