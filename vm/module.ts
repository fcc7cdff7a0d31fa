import type { Event, Transaction, ValidatorSet, ValidatorUpdate } from '../chain/index.js';
import type { KVStore, OrderedReader, Overlay, StateReader } from './state/overlay.js';

/** What every hook knows about the block being executed. */
export interface BlockInfo {
  readonly chainId: string;
  readonly height: number;
  readonly timestamp: number;
  readonly proposer: Uint8Array;
  /**
   * Who signed the previous block, by the certificate this block carries (header.lastCommit):
   * their addresses, in the previous set's order; [] for block 1 and outside consensus (genesis).
   */
  readonly lastCommitSigners?: readonly Uint8Array[];
  /**
   * The validator set of the previous block (whose signers lastCommitSigners are); at genesis,
   * the genesis set. Absent for block 1 and outside consensus.
   */
  readonly lastValidators?: ValidatorSet;
}

export interface ExecContext {
  readonly block: BlockInfo;
  /**
   * The block's state. While a module runs, its reads, writes and scans are limited to keys under
   * `<name>/` (Overlay.within): another module's state is reached through that module's keeper.
   */
  readonly state: Overlay;
  /** Records an event in the current receipt. */
  emit(event: Event): void;
}

export interface TxContext extends ExecContext {
  readonly tx: Transaction;
  /** The sender's address. */
  readonly sender: Uint8Array;
}

export interface QueryContext {
  /** The state at the height asked for: reads and scans (a query changes nothing). */
  readonly state: OrderedReader & Pick<KVStore, 'get'>;
  readonly height: number;
}

/** A parameter of a module query: `address` is given as "mn1…" and reaches the module as bytes. */
export interface QueryParam {
  name: string;
  type: 'address' | 'string' | 'integer';
  description: string;
  required?: boolean;
}

/** A query a module answers over RPC (module_query), documented in the OpenRPC document from this. */
export interface QuerySpec {
  name: string;
  summary: string;
  params: readonly QueryParam[];
}

/**
 * A native module (bank, court, ENC, DockLock…). The core routes `module.method` transactions to
 * `deliverTx`; a module keeps its records under keys prefixed with its name, so that every record
 * is in the state root and has a proof.
 */
export interface Module {
  readonly name: string;
  /** The transaction methods this module accepts (the part after the dot). */
  readonly methods: readonly string[];
  /**
   * Decodes a payload and checks what can be checked without state; throws TxError. What it
   * returns is what deliverTx and addressesOf receive. The core calls it once per transaction
   * (at mempool admission, or when a block holds a transaction this node has not seen) and keeps
   * the result with the transaction (ModuleRegistry.decode).
   */
  decodePayload(method: string, payload: Uint8Array): unknown;
  /** The module's genesis section with its defaults spelled out (what `metanode init` and `testnet` write), if it has one of its own. */
  defaultGenesis?(): unknown;
  /** Writes the module's genesis state from its section of the genesis file (already validated). */
  initGenesis(ctx: ExecContext, config: unknown): void;
  /** Validates the module's genesis section; throws with a message naming the bad field. */
  validateGenesis(config: unknown): void;
  /**
   * A genesis too large for one JSON document (millions of funded accounts) puts the mass of its
   * items in a JSON Lines file that the module's section names (`bulkFile`: path and sha256;
   * genesis/bulk.ts reads it). After every module's initGenesis, the items are handed over in
   * order, a chunk at a time (`firstLine`: the file's line of items[0], from 1), each chunk on the
   * state as the chunks before left it (on disk: reads only, no scans). Throws with a message that
   * names the line of a bad item.
   */
  initGenesisBulk?(ctx: ExecContext, items: readonly unknown[], firstLine: number): void;
  beginBlock?(ctx: ExecContext): void;
  /**
   * May return validator updates (staking): what block H's end-block returns becomes the set of
   * height H+2 (CometBFT's delay), unless the updates are invalid for the set (then none apply and
   * a `vm/validator_updates_refused` block event says why).
   */
  endBlock?(ctx: ExecContext): ValidatorUpdate[] | void;
  /**
   * Executes a transaction, given what decodePayload returned for it; throwing TxError fails it
   * (its writes are reverted, the fee stays charged).
   */
  deliverTx(ctx: TxContext, method: string, args: unknown): void;
  /**
   * The accounts a transaction touches besides its sender (a transfer's recipient…), from its
   * decoded payload alone; the chain store indexes the transaction under each of them. [] if none.
   */
  addressesOf?(method: string, args: unknown): Uint8Array[];
  /**
   * The state keys (key strings, under this module's prefix) that delivering a transaction will
   * likely read, from its decoded payload and its sender's key string (Transaction.fromKey)
   * alone: a hint for the prefetch that warms the state's caches before a block runs
   * (StoredState.prefetch). Advisory: a wrong or missing key costs only time, never a result.
   */
  prefetchKeys?(senderKey: string, method: string, args: unknown): string[];
  /** A readable form of a payload (for RPC, the CLI and the explorer), or undefined if malformed. */
  describePayload?(method: string, payload: Uint8Array): Record<string, string> | undefined;
  /**
   * What this module holds for an account, merged into state_getAccount's answer (the bank:
   * `{ balances }`); JSON-safe, keys that no other module uses.
   */
  account?(ctx: QueryContext, address: Uint8Array): Record<string, unknown>;
  /**
   * What this module holds for a validator of the set, merged into each entry of
   * chain_getValidators (staking: status, stake, commission, missed blocks, slashes); read at
   * the head; JSON-safe, keys that no other module uses.
   */
  validatorInfo?(ctx: QueryContext, address: Uint8Array): Record<string, unknown>;
  /** The queries `query` answers, with their parameters (module_query checks them before calling). */
  readonly queries?: readonly QuerySpec[];
  /**
   * Read-only queries for RPC: `path` names the query, `params` are its parameters as its
   * QuerySpec describes them (checked). The result must be JSON-safe: amounts as decimal strings.
   */
  query(ctx: QueryContext, path: string, params: unknown): unknown;
}

/** Charges transaction fees: implemented by the bank, used by the core for every transaction. */
export interface FeeHandler {
  readonly minFee: (state: StateReader) => bigint;
  /** The account's balance of the fee asset (by its key string: toKey of the address, Transaction.fromKey). */
  feeBalance(state: StateReader, payerKey: string): bigint;
  /** The state keys charging a fee to `payerKey` reads (a prefetch hint, as Module.prefetchKeys). */
  feeKeys?(payerKey: string): string[];
  /** Moves the transaction's fee from its sender to the block's proposer; throws TxError when it cannot. */
  chargeFee(ctx: ExecContext, tx: Transaction): void;
}
