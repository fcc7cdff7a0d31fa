export interface MempoolOptions {
  /** Most transactions held at once; past it the lowest fee is evicted (or the newcomer refused). */
  maxTxs: number;
  /** Most bytes of transactions held at once. */
  maxBytes: number;
  /** Largest single transaction, in bytes. */
  maxTxBytes: number;
  /** How far past an account's next nonce a transaction may be queued. */
  maxNonceGap: number;
}

export const defaultMempoolOptions: MempoolOptions = {
  maxTxs: 100_000,
  maxBytes: 64 * 1024 * 1024,
  maxTxBytes: 32 * 1024,
  maxNonceGap: 1024,
};
