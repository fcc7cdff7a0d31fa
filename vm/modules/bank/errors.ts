/** Failure codes a bank transaction's receipt can carry. */
export const BankErrorCode = {
  InvalidPayload: 'BANK_INVALID_PAYLOAD',
  UnknownAsset: 'BANK_UNKNOWN_ASSET',
  ZeroAmount: 'BANK_ZERO_AMOUNT',
  InsufficientFunds: 'BANK_INSUFFICIENT_FUNDS',
  FeeTooLow: 'BANK_FEE_TOO_LOW',
  InsufficientFeeFunds: 'BANK_INSUFFICIENT_FEE_FUNDS',
} as const;
export type BankErrorCode = (typeof BankErrorCode)[keyof typeof BankErrorCode];
