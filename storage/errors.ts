import { CodedError } from '../chain/errors.js';

export const StorageErrorCode = {
  Open: 'STORAGE_OPEN',
  Locked: 'STORAGE_LOCKED',
  Corrupt: 'STORAGE_CORRUPT',
  Mismatch: 'STORAGE_MISMATCH',
  Closed: 'STORAGE_CLOSED',
  Write: 'STORAGE_WRITE',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export class StorageError extends CodedError<StorageErrorCode> {}
