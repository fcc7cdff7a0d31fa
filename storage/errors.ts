import { CodedError } from '../chain/errors.js';

export const StorageErrorCode = {
  Open: 'STORAGE_OPEN',
  Locked: 'STORAGE_LOCKED',
  Corrupt: 'STORAGE_CORRUPT',
  Mismatch: 'STORAGE_MISMATCH',
  Closed: 'STORAGE_CLOSED',
  Write: 'STORAGE_WRITE',
  /** Written by a Metanode whose formats this one does not read (no migration exists). */
  Incompatible: 'STORAGE_INCOMPATIBLE',
} as const;
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];

export class StorageError extends CodedError<StorageErrorCode> {}
