export const StorageErrorCode = {
  Open: 'STORAGE_OPEN',
  Locked: 'STORAGE_LOCKED',
  Corrupt: 'STORAGE_CORRUPT',
  Mismatch: 'STORAGE_MISMATCH',
  Closed: 'STORAGE_CLOSED',
  Write: 'STORAGE_WRITE',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly context: Record<string, unknown>;
  constructor(code: StorageErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
    this.context = context;
  }
}
