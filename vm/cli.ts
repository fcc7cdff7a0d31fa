/**
 * A module's `metanode-cli` command group, described without the CLI's machinery: bin/cli turns
 * each description into commands (commander), and runs a transaction command through the one
 * shared confirm-sign-send-wait path (bin/cli/send.ts). A module adds its group from its own folder
 * (vm/modules/<name>/cli.ts), listed in vm/modules/index.ts moduleClis().
 */

/** What a module's command may ask of the CLI. */
export interface CliEnv {
  /** module_query at the head. */
  query(module: string, path: string, params?: Record<string, unknown>): Promise<unknown>;
  /** The address of the signing key (--key). */
  sender(): Promise<string>;
  /** An amount of `asset` in its units ("1.5") to base units; a usage error names `what`. */
  amount(text: string, asset: string, what: string): Promise<bigint>;
  /** An address (mn1…) or a key name of the keystore, to address bytes. */
  address(text: string): Promise<Uint8Array>;
  /** A node's validator key file (plaintext, or encrypted with --password-file), to what create-validator needs. */
  validatorKey(path: string): Promise<{ address: string; publicKey: Uint8Array; blsPublicKey: Uint8Array; proofOfPossession: Uint8Array }>;
  /** A validator's public identity: an identity file (`metanode keys identity`) or its validator key file. */
  validatorIdentity(path: string): Promise<{ address: string; publicKey: Uint8Array; blsPublicKey: Uint8Array; proofOfPossession: Uint8Array }>;
  /** Bytes given on the command line: `0x…` hex, or `@file` (or a file's path) read whole; a usage error names `what`. */
  bytes(text: string, what: string): Promise<Uint8Array>;
  /** Any JSON-RPC method of the node (state_getProof, chain_getBlockByHeight…), its result as JSON. */
  call(method: string, params: unknown[]): Promise<unknown>;
  /** A check failed (exit code 50) with `message`. */
  notVerified(message: string): Error;
  /** A usage error (exit code 2) with `message`. */
  usage(message: string): Error;
  /** Prints a query's result: JSON with --json, else `human()`. */
  print(result: unknown, human: () => string): void;
}

/** A transaction a command wants sent, with what to show before it is signed. */
export interface CliTx {
  kind: string;
  payload: Uint8Array;
  /** Shown under "from" before the confirmation. */
  rows: [string, string][];
  /** Merged into the command's JSON result. */
  summary: Record<string, unknown>;
  question: string;
}

export interface CliCommand {
  name: string;
  /** Other names for it (e.g. `stake unbond` for `stake undelegate`). */
  aliases?: string[];
  description: string;
  args: { name: string; description: string; optional?: boolean }[];
  /** Commander flags ("--self-bond <GEN>") and their descriptions; `required` ones must be given. */
  options?: { flags: string; description: string; required?: boolean }[];
  examples?: string[];
  /**
   * A command that sends a transaction (it gets --fee, --yes, --wait and --timeout too), or
   * several in order (consecutive nonces; each but the last is waited for, e.g. a deploy before the job that needs it).
   */
  tx?(args: string[], opts: Record<string, string | undefined>, env: CliEnv): Promise<CliTx | CliTx[]>;
  /** A command that only reads. */
  read?(args: string[], opts: Record<string, string | undefined>, env: CliEnv): Promise<void>;
}

export interface ModuleCli {
  /** The command group's name (metanode-cli <group> …). */
  group: string;
  description: string;
  commands: CliCommand[];
}
