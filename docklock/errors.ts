import { CodedError } from '../chain/errors.js';

/**
 * Why DockLock refused a program or could not produce a result. A program's problems are found at
 * deploy (and again whenever it is loaded): each message names the problem. Messages are DockLock's
 * own, never the engine's, so that a receipt that carries one is the same on every validator.
 */
export const DocklockErrorCode = {
  /** Not a WebAssembly binary, or a malformed one (truncated, bad section, bad LEB128…). */
  Malformed: 'DOCKLOCK_MALFORMED',
  /** Uses a feature outside the whitelist (threads, SIMD, exceptions, reference types…). */
  Feature: 'DOCKLOCK_FEATURE_REJECTED',
  /** Bigger than the size cap. */
  TooLarge: 'DOCKLOCK_TOO_LARGE',
  /** Imports something outside the ABI, or an ABI function with the wrong signature. */
  Import: 'DOCKLOCK_BAD_IMPORT',
  /** Exports no `run: [] -> []`, or a name DockLock reserves. */
  Entry: 'DOCKLOCK_NO_ENTRY',
  /** Declares more memory, more functions, more locals… than DockLock allows. */
  Limit: 'DOCKLOCK_LIMIT',
  /** The instrumented module does not compile (the program is not valid WebAssembly). */
  Invalid: 'DOCKLOCK_INVALID',
  /** The engine failed in a way that must never happen (a native stack overflow, an unknown error): no result is claimed. */
  EngineFault: 'DOCKLOCK_ENGINE_FAULT',
  /** A job ran past the wall-clock backstop (its worker was terminated): no result is claimed. */
  Timeout: 'DOCKLOCK_TIMEOUT',
  /** A receipt or result that does not decode. */
  BadReceipt: 'DOCKLOCK_BAD_RECEIPT',
} as const;
export type DocklockErrorCode = (typeof DocklockErrorCode)[keyof typeof DocklockErrorCode];

export class DocklockError extends CodedError<DocklockErrorCode> {}
