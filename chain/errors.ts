/** Error codes for everything that decodes, validates or hashes chain objects. */
export const ChainErrorCode = {
  InvalidHex: 'CHAIN_INVALID_HEX',
  InvalidRlp: 'CHAIN_INVALID_RLP',
  NonCanonical: 'CHAIN_NON_CANONICAL',
  FieldCount: 'CHAIN_FIELD_COUNT',
  FieldLength: 'CHAIN_FIELD_LENGTH',
  FieldValue: 'CHAIN_FIELD_VALUE',
  InvalidAddress: 'CHAIN_INVALID_ADDRESS',
  InvalidSignature: 'CHAIN_INVALID_SIGNATURE',
  InvalidProof: 'CHAIN_INVALID_PROOF',
  InvalidCertificate: 'CHAIN_INVALID_CERTIFICATE',
} as const;
export type ChainErrorCode = (typeof ChainErrorCode)[keyof typeof ChainErrorCode];

export class ChainError extends Error {
  readonly code: ChainErrorCode;
  readonly context: Record<string, unknown>;
  constructor(code: ChainErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ChainError';
    this.code = code;
    this.context = context;
  }
}
