import { Receipt, ReceiptStatus, toHex, type Event, type Transaction, type ValidatorUpdate } from '../chain/index.js';
import { nonceKeyOf, nonceOf, setNonce } from './accounts.js';
import { TxError, VmError, VmErrorCode } from './errors.js';
import type { BlockInfo, ExecContext, FeeHandler, TxContext } from './module.js';
import type { ModuleRegistry } from './registry.js';
import { Overlay, type StateReader, type WriteSet } from './state/overlay.js';
import type { StateTree } from './state/smt.js';

/** The state a block is executed on: a reader and the tree whose root it has. */
export interface BaseState extends StateReader {
  readonly tree: StateTree;
}

export interface ExecutionResult {
  receipts: Receipt[];
  /** Every key the block changed (null: deleted), to persist and to apply. */
  writes: WriteSet;
  tree: StateTree;
  stateRoot: Uint8Array;
  /** Events of begin/end-block hooks (not tied to a transaction). */
  blockEvents: Event[];
  /** What the end-block hooks returned, in module order (the chain applies them to the set of height + 2). */
  validatorUpdates: ValidatorUpdate[];
}

export interface ExecuteOptions {
  /** Transactions whose signatures this node already checked (e.g. at mempool admission). */
  isVerified?: (tx: Transaction) => boolean;
}

/** A proposal built from candidates: the ones that fit, and the ones left out and why. */
export interface BuildResult extends ExecutionResult {
  included: Transaction[];
  excluded: { tx: Transaction; reason: VmError }[];
}

/** Why a block cannot hold a transaction (VmError InvalidBlock's context.fault). */
export type InvalidTxFault = 'chain' | 'signature' | 'nonce' | 'fee';

export const UNKNOWN_KIND_CODE = 'VM_UNKNOWN_TX_KIND';
export const MODULE_FAULT_CODE = 'VM_MODULE_FAULT';
/** The block event recorded when a module's begin- or end-block hook throws. */
export const HOOK_FAILED_EVENT = 'hook_failed';

/** A module threw something other than TxError (a bug): what the node logs; receipts get a stable code. */
export interface ModuleFault {
  module: string;
  /** 'deliverTx' (with the transaction's kind), 'beginBlock' or 'endBlock'. */
  where: string;
  height: number;
  error: unknown;
}

/** A receipt's and a block event's code for what a module threw: its own for TxError, else MODULE_FAULT_CODE. */
const faultCode = (e: unknown): string => (e instanceof TxError ? e.code : MODULE_FAULT_CODE);

/**
 * Applies blocks deterministically: for each transaction, check chain id, signature and nonce
 * (a block that breaks these is invalid), charge the fee, bump the nonce, then run the module
 * after a checkpoint of the block's overlay, reverted if the module fails. Nothing here touches storage.
 *
 * A module that throws is never allowed to halt the chain or to put a JavaScript engine's words
 * into consensus data (they differ between engine versions): a transaction it fails gets the
 * thrown TxError's code and message (the module's own, deterministic words) or, for anything else,
 * MODULE_FAULT_CODE and a fixed message; a begin- or end-block hook that throws has its writes and
 * events reverted and a `vm/hook_failed` block event (module, hook, code) recorded instead, and the
 * block goes on. What was thrown goes to `onFault`, for the node's log.
 */
export class StateMachine {
  constructor(
    private readonly opts: { chainId: string },
    private readonly deps: { registry: ModuleRegistry; fees: FeeHandler; onFault?: (fault: ModuleFault) => void },
  ) {}

  get registry(): ModuleRegistry {
    return this.deps.registry;
  }

  /** Genesis: each module writes its initial state from its section of the genesis file. */
  genesis(base: BaseState, block: BlockInfo, modules: Record<string, unknown>): ExecutionResult {
    const { state, events } = this.runGenesis(base, block, modules);
    return this.finish(base, state, [], events, []);
  }

  /** Genesis's writes alone, without their tree: a large genesis builds the tree on disk (vm/state/stored.ts load). */
  genesisWrites(base: StateReader, block: BlockInfo, modules: Record<string, unknown>): WriteSet {
    return this.runGenesis(base, block, modules).state.writes;
  }

  /** The writes of one chunk of a module's bulk genesis items (Module.initGenesisBulk), on `base`: the state as the chunks before left it. */
  genesisBulk(base: StateReader, block: BlockInfo, module: string, items: readonly unknown[], firstLine: number): WriteSet {
    const m = this.deps.registry.modules.find((x) => x.name === module);
    if (!m?.initGenesisBulk) throw new Error(`module "${module}" takes no bulk genesis file`);
    const state = new Overlay(base);
    const ctx: ExecContext = { block, state, emit: () => undefined };
    state.within(m.name, () => m.initGenesisBulk!(ctx, items, firstLine));
    return state.writes;
  }

  private runGenesis(base: StateReader, block: BlockInfo, modules: Record<string, unknown>): { state: Overlay; events: Event[] } {
    const state = new Overlay(base);
    const events: Event[] = [];
    const ctx: ExecContext = { block, state, emit: (e) => events.push(e) };
    for (const m of this.deps.registry.modules) state.within(m.name, () => m.initGenesis(ctx, modules[m.name]));
    return { state, events };
  }

  execute(base: BaseState, block: BlockInfo, txs: readonly Transaction[], opts: ExecuteOptions = {}): ExecutionResult {
    const state = new Overlay(base);
    const blockEvents: Event[] = [];
    const blockCtx: ExecContext = { block, state, emit: (e) => blockEvents.push(e) };
    this.hooks('beginBlock', blockCtx, blockEvents);
    const receipts = txs.map((tx, i) => this.deliver(state, block, tx, i, opts));
    const updates = this.hooks('endBlock', blockCtx, blockEvents);
    return this.finish(base, state, receipts, blockEvents, updates);
  }

  /**
   * Executes candidates for a proposal, leaving out (instead of failing the block on) any
   * transaction that a block may not contain: wrong nonce, unpayable fee, bad signature.
   */
  build(base: BaseState, block: BlockInfo, candidates: readonly Transaction[], opts: ExecuteOptions = {}): BuildResult {
    const state = new Overlay(base);
    const blockEvents: Event[] = [];
    const blockCtx: ExecContext = { block, state, emit: (e) => blockEvents.push(e) };
    this.hooks('beginBlock', blockCtx, blockEvents);
    const included: Transaction[] = [];
    const excluded: { tx: Transaction; reason: VmError }[] = [];
    const receipts: Receipt[] = [];
    for (const tx of candidates) {
      try {
        receipts.push(this.deliver(state, block, tx, included.length, opts));
        included.push(tx);
      } catch (e) {
        if (!(e instanceof VmError)) throw e;
        excluded.push({ tx, reason: e });
      }
    }
    const updates = this.hooks('endBlock', blockCtx, blockEvents);
    return { ...this.finish(base, state, receipts, blockEvents, updates), included, excluded };
  }

  /**
   * The state keys a block of these transactions will likely read: each sender's nonce, what its
   * fee reads, and what its module says delivering it reads (Module.prefetchKeys). A hint for
   * StoredState.prefetch, computed from the transactions alone; one whose payload does not decode
   * adds its nonce and fee keys only. Changes nothing.
   */
  prefetchKeys(txs: readonly Transaction[]): string[] {
    const keys: string[] = [];
    const { registry, fees } = this.deps;
    for (const tx of txs) {
      keys.push(nonceKeyOf(tx.fromKey));
      if (fees.feeKeys) keys.push(...fees.feeKeys(tx.fromKey));
      const route = registry.route(tx.kind);
      if (!route?.module.prefetchKeys) continue;
      let args: unknown;
      try {
        args = registry.decode(tx);
      } catch {
        continue; // delivering it fails without reading the module's state
      }
      keys.push(...route.module.prefetchKeys(tx.fromKey, route.method, args));
    }
    return keys;
  }

  /**
   * A dry run of one transaction on `base` (the head's state) as the next block would deliver it,
   * committing nothing: the receipt it would get. Checks chain id and fee as a block does, and the
   * signature unless `verifySignature` is false (a simulation of an unsigned transaction). Its
   * nonce may be ahead of the account's (transactions still pending would come first), not behind.
   * Begin- and end-block hooks do not run. Throws VmError (InvalidBlock) where a block could not
   * contain the transaction.
   */
  simulate(base: StateReader, block: BlockInfo, tx: Transaction, opts: { verifySignature: boolean }): Receipt {
    const state = new Overlay(base);
    const nonce = nonceOf(state, tx.fromKey);
    if (tx.nonce < nonce) this.invalid(block, tx, 0, `has nonce ${tx.nonce}, account nonce is ${nonce}`, 'nonce');
    if (tx.nonce > nonce) setNonce(state, tx.fromKey, tx.nonce);
    return this.deliver(state, block, tx, 0, opts.verifySignature ? {} : { isVerified: () => true });
  }

  /** Runs each module's hook in registry order, each after a checkpoint (see the class comment); the validator updates end-block hooks returned. */
  private hooks(hook: 'beginBlock' | 'endBlock', ctx: ExecContext, events: Event[]): ValidatorUpdate[] {
    const updates: ValidatorUpdate[] = [];
    for (const m of this.deps.registry.modules) {
      const run = m[hook];
      if (!run) continue;
      const mark = ctx.state.checkpoint();
      const emitted = events.length;
      try {
        const returned = ctx.state.within(m.name, () => run.call(m, ctx));
        ctx.state.release(mark);
        if (Array.isArray(returned)) updates.push(...returned);
      } catch (e) {
        ctx.state.revertTo(mark);
        events.length = emitted;
        events.push({ module: 'vm', type: HOOK_FAILED_EVENT, attributes: [['module', m.name], ['hook', hook], ['code', faultCode(e)]] });
        this.deps.onFault?.({ module: m.name, where: hook, height: ctx.block.height, error: e });
      }
    }
    return updates;
  }

  private invalid(block: BlockInfo, tx: Transaction, index: number, why: string, fault: InvalidTxFault): never {
    throw new VmError(VmErrorCode.InvalidBlock, `block ${block.height}: transaction ${index} (${toHex(tx.hash())}) ${why}`, { height: block.height, index, fault, why });
  }

  private deliver(state: Overlay, block: BlockInfo, tx: Transaction, index: number, opts: ExecuteOptions): Receipt {
    if (tx.chainId !== this.opts.chainId) this.invalid(block, tx, index, `is for chain "${tx.chainId}"`, 'chain');
    if (!(opts.isVerified?.(tx) ?? false) && !tx.verifySignature()) this.invalid(block, tx, index, 'has an invalid signature', 'signature');
    const nonce = nonceOf(state, tx.fromKey);
    if (tx.nonce !== nonce) this.invalid(block, tx, index, `has nonce ${tx.nonce}, account nonce is ${nonce}`, 'nonce');

    // One context for the fee and the module: the fee's events stay when the module fails.
    const events: Event[] = [];
    const ctx: TxContext = { block, state, emit: (e) => events.push(e), tx, sender: tx.from() };
    try {
      this.deps.fees.chargeFee(ctx, tx);
    } catch (e) {
      this.invalid(block, tx, index, `cannot pay its fee: ${(e as Error).message}`, 'fee');
    }
    setNonce(state, tx.fromKey, nonce + 1n);

    const mark = state.checkpoint();
    const feeEvents = events.length;
    let status: ReceiptStatus = ReceiptStatus.Success;
    let errorCode = '';
    let errorMessage = '';
    try {
      const route = this.deps.registry.route(tx.kind);
      if (!route) throw new TxError(UNKNOWN_KIND_CODE, `no module handles transaction kind "${tx.kind}"`);
      const args = this.deps.registry.decode(tx);
      state.within(route.module.name, () => route.module.deliverTx(ctx, route.method, args));
      state.release(mark);
    } catch (e) {
      state.revertTo(mark);
      events.length = feeEvents;
      status = ReceiptStatus.Failed;
      errorCode = faultCode(e);
      if (e instanceof TxError) errorMessage = e.message;
      else {
        errorMessage = `the ${tx.kind.slice(0, tx.kind.indexOf('.'))} module failed on this transaction (a fault of the module, reported in the node's log)`;
        this.deps.onFault?.({ module: tx.kind.slice(0, tx.kind.indexOf('.')), where: `deliverTx ${tx.kind}`, height: block.height, error: e });
      }
    }
    return new Receipt({ txHash: tx.hash(), status, errorCode, errorMessage, fee: tx.fee, events });
  }

  private finish(base: BaseState, state: Overlay, receipts: Receipt[], blockEvents: Event[], validatorUpdates: ValidatorUpdate[]): ExecutionResult {
    const tree = base.tree.updateRaw(state.writes);
    return { receipts, writes: state.writes, tree, stateRoot: tree.root, blockEvents, validatorUpdates };
  }
}
