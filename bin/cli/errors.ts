import { ChainError, ChainErrorCode } from '../../chain/index.js';

/**
 * Exit codes of metanode-cli, grouped by what went wrong. They are part of the CLI's contract
 * (docs/cli.md): scripts branch on them, so ids are never reused or renumbered.
 */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  Cancelled: 3,
  NodeUnreachable: 10,
  NodeError: 11,
  NotFound: 12,
  Timeout: 13,
  UnknownKey: 20,
  KeyExists: 21,
  WrongPassword: 22,
  Keystore: 23,
  BadAddress: 30,
  BadAmount: 31,
  InsufficientFunds: 40,
  BadNonce: 41,
  TxRejected: 42,
  TxFailed: 43,
  /** A check the command made failed (job verify: a receipt that does not verify). */
  NotVerified: 50,
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the person at the terminal: one line saying what is wrong and what to do. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly context: Record<string, unknown>;
  constructor(exitCode: ExitCode, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.context = context;
  }
}

export const usage = (message: string): CliError => new CliError(ExitCode.Usage, message);

/** Any thrown value to a CliError: chain validation errors keep their meaning, the rest is a bug. */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof ChainError) {
    if (e.code === ChainErrorCode.InvalidAddress) return new CliError(ExitCode.BadAddress, e.message);
    return new CliError(ExitCode.Usage, e.message);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new CliError(ExitCode.Internal, `unexpected error: ${msg} (this is a bug in metanode-cli: please report it)`);
}

/** The single stderr line for an error: no newlines, no stack. */
export function errorLine(e: CliError): string {
  return `error: ${e.message.replace(/\s*\n\s*/g, ' ')}`;
}
