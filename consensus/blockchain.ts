import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  Block,
  BlockHeader,
  ChainError,
  HEADER_VERSION,
  ProposerPriorities,
  blockEventsRoot,
  equalBytes,
  merkleRoot,
  prioritiesAt,
  toHex,
  toKey,
  txRoot,
  type CommitCertificate,
  type Event,
  type Receipt,
  type Transaction,
  type Validator,
  type ValidatorSet,
} from '../chain/index.js';
import { GenesisError, GenesisErrorCode, bulkFileOf, genesisHeader, genesisStateCommitment, genesisTimestamp, genesisValidatorSet, type GenesisDoc } from '../genesis/index.js';
import { StorageError, StorageErrorCode, type BlockCommit, type ChainStore } from '../storage/index.js';
import { StoredState, VmError, WorldState, type BlockInfo, type BuildResult, type ExecutionResult, type StateMachine, type StateReader } from '../vm/index.js';
import type { BlockLimits } from '../vm/modules/index.js';
import { MemoryStateStorage } from '../vm/state/memory.js';
import { SparseMerkleTree } from '../vm/state/smt.js';
import type { StateCommitment } from '../vm/state/stored.js';
import { StateStorageError, StateTable, type StateOps } from '../vm/state/storage.js';
import type { WriteSet } from '../vm/state/overlay.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ConsensusError, ConsensusErrorCode } from './errors.js';

/** How far ahead of a validator's clock a proposal's timestamp may be. */
export const MAX_CLOCK_DRIFT_MS = 15_000;

export interface CommittedBlock {
  block: Block;
  receipts: readonly Receipt[];
  /** Events of the block's begin- and end-block hooks. */
  blockEvents: readonly Event[];
}

/** A block that could not be written (WriteFailure.final: for good, the chain takes no more). */
export interface WriteFailure {
  height: number;
  error: StorageError;
  /** Attempts made so far (the first write and its retries). */
  attempts: number;
  final: boolean;
}

export interface BlockchainEvents {
  committed: [CommittedBlock];
  /** Each failed attempt to write a block. */
  writeFailed: [WriteFailure];
  /** A block written after failed attempts. */
  writeRecovered: [{ height: number; attempts: number }];
  /** The chain takes no block at `height` (BlockchainDeps.haltBefore said why): emitted once. */
  halted: [ChainHalt];
}

/** Why the chain takes no more blocks: the next height, and the reason haltBefore gave. */
export interface ChainHalt {
  height: number;
  reason: string;
}

export interface BlockchainOptions {
  /**
   * How many times a block whose write failed (a full disk, an I/O error) is written again
   * before the chain gives up; 0: never. Meanwhile the commit does not return, so consensus,
   * which awaits it, neither moves on nor signs.
   */
  writeRetries: number;
  /** The wait before the first retry; it doubles for each next one, up to 30 s. */
  writeRetryDelayMs: number;
  /**
   * How many heights below the head the state is kept for reads and proofs (module_query,
   * state_getAccount and state_getProof at a height): StoredState.history. Older versions are pruned.
   */
  stateHistory: number;
  /** MiB of memory for the state's caches (values, tree nodes, key pages): StoredStateOptions.cacheBytes. */
  stateCacheMB: number;
  /**
   * Before a block is built or checked, read the state its transactions will likely need into the
   * caches off the main thread (Blockchain.prefetch). Changes no result; off, every miss is read
   * synchronously while the block executes.
   */
  statePrefetch: boolean;
}

/** 6 retries over about a minute (1, 2, 4, 8, 16 and 30 s): time for an operator or a cleanup job to free space. */
export const defaultBlockchainOptions: BlockchainOptions = { writeRetries: 6, writeRetryDelayMs: 1_000, stateHistory: 16, stateCacheMB: 64, statePrefetch: true };
const MAX_WRITE_RETRY_DELAY_MS = 30_000;

/** A block that was executed and is waiting for its certificate. */
export interface ExecutedBlock {
  block: Block;
  result: ExecutionResult;
  /** The set of height + 2, when the block's validator updates change it (Blockchain.settleUpdates). */
  nextValidatorSet?: ValidatorSet;
}

/** The block event recorded when a block's validator updates cannot apply to the set (none apply). */
export const VALIDATOR_UPDATES_REFUSED_EVENT = 'validator_updates_refused';

/**
 * The chain as consensus sees it: the head, the state after it, and the three things consensus
 * does with blocks — build one, validate one by executing it, commit one with its certificate.
 */
export class Blockchain extends EventEmitter<BlockchainEvents> {
  private failure: WriteFailure | undefined;
  /** The head block's certificate, as committed here (the next block's lastCommit); none for genesis. */
  private headCertificate: CommitCertificate | undefined;
  private readonly retryAbort = new AbortController();
  private readonly opts: BlockchainOptions;
  /** The proposer priorities of the next height (head + 1), and of the head's (for a late question about it). */
  private priorities!: ProposerPriorities;
  private headPriorities: ProposerPriorities | undefined;
  private haltBefore: ((state: StateReader, height: number) => string | undefined) | undefined;
  private halt: ChainHalt | undefined;

  private constructor(
    readonly chainId: string,
    private readonly store: ChainStore,
    private readonly sm: StateMachine,
    private readonly world: StoredState,
    private headHeader: BlockHeader,
    private readonly logger: Logger,
    opts: Partial<BlockchainOptions>,
    private readonly limitsOf: ((state: StateReader) => BlockLimits) | undefined,
  ) {
    super();
    this.opts = { ...defaultBlockchainOptions, ...opts };
  }

  /**
   * Opens the chain in `store`, writing genesis first if the store is empty. `blockLimits`: the
   * chain's on-chain block limits in a state (the consensus module's parameters); without it, none.
   */
  static async open(
    genesis: GenesisDoc,
    deps: {
      store: ChainStore;
      sm: StateMachine;
      logger: Logger;
      blockLimits?: (state: StateReader) => BlockLimits;
      /**
       * Why the chain must take no block at `height` after the state `state` (a software upgrade
       * this binary does not know is due), or undefined: asked at open and after each commit. Once
       * it answers, build and validate refuse every block and 'halted' is emitted.
       */
      haltBefore?: (state: StateReader, height: number) => string | undefined;
      /** The digest of the genesis file (genesis/genesis.ts genesisFileDigest); without it, one of the document. */
      genesisDigest?: Uint8Array;
      /** A genesis whose state is more writes than this is written in batches before its block (default BULK_GENESIS_OPS). */
      bulkGenesisOps?: number;
      /** The chunks of the modules' bulk genesis files (genesis/bulk.ts), read only when genesis is written. */
      genesisBulk?: () => { module: string; chunks: AsyncIterable<{ items: readonly unknown[]; firstLine: number }> }[];
    },
    opts: Partial<BlockchainOptions> = {},
  ): Promise<Blockchain> {
    const { store, sm, logger } = deps;
    const o = { ...defaultBlockchainOptions, ...opts };
    const commitment = genesisStateCommitment(genesis);
    const stateOpts = { history: o.stateHistory, cacheBytes: o.stateCacheMB * 1024 * 1024, commitment };
    const view = store.stateView();
    const info = await store.chainInfo();
    const digest = deps.genesisDigest ?? genesisDigest(genesis);
    const genesisInfo = { chainId: genesis.chainId, height: 0, timestamp: genesisTimestamp(genesis), proposer: new Uint8Array(20), lastValidators: genesisValidatorSet(genesis) };
    if (!info) {
      if (await store.hasState()) {
        // A large genesis writes its state before its block; a crash in between left it (for a
        // genesis file that may have changed since): it is removed and genesis written anew.
        const deleted = await store.clearState();
        view.refresh();
        logger.warn({ records: deleted }, 'removed the state of a genesis whose block was never written');
      }
      const first = ProposerPriorities.initial(1, genesisValidatorSet(genesis));
      const commitGenesis = (block: BlockHeader, stateWrites: WriteSet, stateOps: StateOps): Promise<void> =>
        store.commit({ block: new Block(block, []), receipts: [], stateWrites, stateOps, validatorSet: genesisValidatorSet(genesis), proposerPriorities: first.serialize(), genesisDigest: digest });
      let state = StoredState.empty(view, stateOpts);
      const writes = sm.genesisWrites(state, genesisInfo, genesis.modules);
      const bulk = deps.genesisBulk?.() ?? [];
      let genesisBlock: BlockHeader;
      if (bulk.length || writes.size > (deps.bulkGenesisOps ?? BULK_GENESIS_OPS)) {
        // A large genesis: its values first, in batches (with the chunks of the modules' bulk
        // files, each on the state the ones before left), then the tree and key pages built from
        // the stored values by the bulk load (in path order, bottom up: memory does not grow with
        // the state), then the block. The store says a genesis is pending meanwhile: a crash (or
        // a refused bulk file) before the block leaves state with no chain, which the next start
        // removes (above; node.ts lets such a store through).
        const started = Date.now();
        await store.setGenesisPending(true);
        await store.writeStateBulk(writes, []);
        writes.clear();
        view.refresh();
        const base = { getRaw: (key: string) => view.value(key) };
        let items = 0;
        for (const { module, chunks } of bulk) {
          for await (const { items: chunk, firstLine } of chunks) {
            let chunkWrites: WriteSet;
            try {
              chunkWrites = sm.genesisBulk(base, genesisInfo, module, chunk, firstLine);
            } catch (e) {
              if (e instanceof GenesisError || e instanceof StorageError) throw e;
              throw new GenesisError(GenesisErrorCode.Invalid, `genesis is invalid: modules.${module}.bulkFile, ${(e as Error).message}`);
            }
            await store.writeStateBulk(chunkWrites, []);
            view.refresh();
            items += chunk.length;
          }
        }
        const loaded = await buildStoredState(store, view, 0, stateOpts);
        state = StoredState.open(view, await stateDirectory(store), stateOpts);
        genesisBlock = genesisHeader(genesis, loaded.root);
        await commitGenesis(genesisBlock, new Map(), []);
        await store.setGenesisPending(false);
        logger.info({ keys: loaded.keys, nodes: loaded.nodes, bulkItems: items, ms: Date.now() - started }, 'wrote a large genesis state through the bulk load');
      } else {
        const tree = state.tree.updateRaw(writes);
        genesisBlock = genesisHeader(genesis, tree.root);
        const staged = state.stage(writes, tree, 0);
        await commitGenesis(genesisBlock, writes, staged.ops);
        state.apply(staged);
      }
      logger.info({ chainId: genesis.chainId, hash: toHex(genesisBlock.hash()), stateRoot: toHex(genesisBlock.stateRoot) }, 'wrote genesis');
      const chain = new Blockchain(genesis.chainId, store, sm, state, genesisBlock, logger, opts, deps.blockLimits);
      chain.priorities = first;
      chain.haltBefore = deps.haltBefore;
      chain.checkHalt();
      return chain;
    }
    const mismatch = (hash: Uint8Array): StorageError =>
      new StorageError(
        StorageErrorCode.Mismatch,
        `the data folder holds chain "${info.chainId}" (genesis ${toHex(info.genesisHash)}), not the one in the genesis file (genesis ${toHex(hash)}); use a fresh home for this genesis`,
      );
    if (info.chainId !== genesis.chainId) throw mismatch(genesisHeader(genesis, new Uint8Array(32)).hash());
    // The genesis file is the one the chain was made from when its digest is the one recorded;
    // otherwise (a file written differently, or a home from before digests were kept) its block is
    // computed again and compared, and its digest recorded.
    const recorded = await store.genesisDigest();
    if (!recorded || !equalBytes(recorded, digest)) {
      const withBulk = Object.entries(genesis.modules).filter(([, section]) => bulkFileOf(section) !== undefined).map(([name]) => name);
      if (withBulk.length) {
        throw new StorageError(
          StorageErrorCode.Mismatch,
          `the genesis file is not the one this chain was made from (its digest differs), and its state is too large to check again (modules ${withBulk.join(', ')} name bulk files): restore the chain's genesis file`,
        );
      }
      const hash = genesisHeader(genesis, genesisStateRoot(sm, genesis, genesisInfo, commitment)).hash();
      if (!equalBytes(info.genesisHash, hash)) throw mismatch(hash);
      await store.setGenesisDigest(digest);
    }
    const head = await store.head();
    const headHeader = head && (await store.header(head.height));
    if (!head || !headHeader) throw new StorageError(StorageErrorCode.Corrupt, 'the data folder has a chain but no head block: it is corrupt');
    let world: StoredState;
    try {
      const stored = StoredState.storedCommitment(view);
      if (stored !== undefined && stored !== commitment) {
        throw new StorageError(StorageErrorCode.Mismatch, `the data folder's state keeps the ${describeCommitment(stored)}, but the genesis file says the chain commits to the ${describeCommitment(commitment)} (stateCommitment): restore the chain's genesis file`);
      }
      // A home from before the state was kept on disk holds only the head's values, of a chain on
      // the tree (the entry log came later): its tree is built from them once. An entry log's root
      // depends on the order its entries were written in, so it cannot be rebuilt from values.
      if (stored === undefined && commitment === 'entries') throw new StateStorageError('the data folder holds a chain on the entry log but no stored state');
      if (!StoredState.exists(view)) await migrateState(store, view, head.height, stateOpts, logger);
      world = StoredState.open(view, await stateDirectory(store), stateOpts);
    } catch (e) {
      if (e instanceof StateStorageError) throw new StorageError(StorageErrorCode.Corrupt, `${e.message}; restore the data folder from a backup or re-sync into an empty home`);
      throw e;
    }
    if (world.height !== head.height) throw new StorageError(StorageErrorCode.Corrupt, `the stored state is of height ${world.height}, the head block of ${head.height}: the data folder is corrupt`);
    if (!equalBytes(world.root, headHeader.stateRoot)) {
      throw new StorageError(StorageErrorCode.Corrupt, `stored state root ${toHex(world.root)} does not match block ${head.height}'s ${toHex(headHeader.stateRoot)}: the data folder is corrupt`);
    }
    logger.info({ height: head.height, hash: toHex(head.hash), stateKeys: world.size }, 'loaded chain');
    const chain = new Blockchain(genesis.chainId, store, sm, world, headHeader, logger, opts, deps.blockLimits);
    chain.headCertificate = await store.certificate(head.height);
    chain.priorities = await chain.loadPriorities();
    chain.haltBefore = deps.haltBefore;
    chain.checkHalt();
    return chain;
  }

  /** Why the chain takes no more blocks (a software upgrade it does not know is due), or undefined. */
  get halted(): ChainHalt | undefined {
    return this.halt;
  }

  private checkHalt(): void {
    if (this.halt || !this.haltBefore) return;
    const height = this.height + 1;
    const reason = this.haltBefore(this.world, height);
    if (reason === undefined) return;
    this.halt = { height, reason };
    this.emit('halted', this.halt);
  }

  private refuseIfHalted(): void {
    if (this.halt) throw new ConsensusError(ConsensusErrorCode.Halted, `the chain is halted before height ${this.halt.height}: ${this.halt.reason}`, { height: this.halt.height });
  }

  /** The stored priorities of head + 1; when missing or unreadable, computed again from height 1 (O(height × validators)). */
  private async loadPriorities(): Promise<ProposerPriorities> {
    const next = this.height + 1;
    const bytes = await this.store.proposerPriorities();
    let problem = 'none are stored (a home written before they were kept)';
    if (bytes) {
      try {
        const p = ProposerPriorities.decode(bytes, this.validatorSet(next));
        if (p.height === next) return p;
        problem = `the stored ones are of height ${p.height}`;
      } catch (e) {
        problem = `the stored ones cannot be read (${(e as Error).message})`;
      }
    }
    this.logger.warn({ height: next, problem }, 'computing the proposer priorities from height 1');
    return prioritiesAt(next, (h) => this.validatorSet(h));
  }

  /**
   * The proposer of `round` at `height` (chain/proposer.ts: weighted by power, CometBFT's
   * priorities). Kept for the next height and the head's; another height is computed from the
   * nearest known one (from height 1 for a height below the head's: slow, for tools only).
   */
  proposer(height: number, round: number): Validator {
    if (height === this.priorities.height) return this.priorities.proposer(round);
    if (height === this.headPriorities?.height) return this.headPriorities.proposer(round);
    const from = height > this.priorities.height ? this.priorities : undefined;
    return prioritiesAt(height, (h) => this.validatorSet(h), from).proposer(round);
  }

  get head(): BlockHeader {
    return this.headHeader;
  }

  get height(): number {
    return this.headHeader.height;
  }

  get state(): StoredState {
    return this.world;
  }

  /**
   * Set from a block's first failed write until a retry succeeds, and for good once the retries
   * are spent: while set, this node must not sign anything (consensus/ibft/core.ts).
   */
  get writeFailure(): WriteFailure | undefined {
    return this.failure;
  }

  /** Ends a commit that is waiting to retry a failed write (the node is stopping): it fails now, for good. */
  stopRetrying(): void {
    this.retryAbort.abort();
  }

  get blocks(): ChainStore {
    return this.store;
  }

  get stateMachine(): StateMachine {
    return this.sm;
  }

  validatorSet(height: number): ValidatorSet {
    const v = this.store.validatorSet(height);
    if (!v) throw new StorageError(StorageErrorCode.Corrupt, `no validator set stored for height ${height}`);
    return v;
  }

  /** What the state machine is told about block `height` (see BlockInfo). */
  private blockInfo(height: number, timestamp: number, proposer: Uint8Array, lastCommit: CommitCertificate | undefined): BlockInfo {
    const last = height > 1 ? { lastValidators: this.validatorSet(height - 1) } : {};
    return { chainId: this.chainId, height, timestamp, proposer, lastCommitSigners: this.signersOf(lastCommit, height - 1), ...last };
  }

  /** The addresses that signed `cert` (of block `height`), in the set's order; [] without one. */
  private signersOf(cert: CommitCertificate | undefined, height: number): Uint8Array[] {
    if (!cert) return [];
    const set = this.validatorSet(height);
    return cert.signerIndices().map((i) => set.validators[i]!.address);
  }

  /** The limits the next block must keep (the consensus module's parameters at the head). */
  blockLimits(): BlockLimits {
    return this.limitsOf?.(this.world) ?? { maxBlockTxs: Number.MAX_SAFE_INTEGER, maxBlockBytes: Number.MAX_SAFE_INTEGER };
  }

  /**
   * The validator set of `height + 2` after block `height`'s updates (undefined: unchanged). Updates
   * that cannot apply to the set of `height + 1` (a malformed one, removing a validator that is
   * not there, an empty set) are all dropped, and a `vm/validator_updates_refused` block event
   * with the reason's code is added to the result before its events root is taken: every
   * validator does the same, so the chain goes on with the set it had.
   */
  private settleUpdates(result: ExecutionResult, height: number): ValidatorSet | undefined {
    if (result.validatorUpdates.length === 0) return undefined;
    try {
      return this.validatorSet(height + 1).apply(result.validatorUpdates);
    } catch (e) {
      const code = e instanceof ChainError ? e.code : 'VM_MODULE_FAULT';
      this.logger.error({ height, err: (e as Error).message, updates: result.validatorUpdates.length }, 'the validator updates of this block cannot apply: none do (a bug in the module that returned them)');
      result.blockEvents.push({ module: 'vm', type: VALIDATOR_UPDATES_REFUSED_EVENT, attributes: [['code', code]] });
      result.validatorUpdates = [];
      return undefined;
    }
  }

  /**
   * Warms the state's caches for a block of these transactions (StoredState.prefetch of the keys
   * the modules say they will read, then the tree's nodes on the way to them), reading off the
   * main thread while it serves other work; `build` or `validate` then finds them in memory.
   * Advisory: never throws (a failed read is logged and the block reads synchronously as before),
   * and changes no result.
   */
  async prefetch(txs: readonly Transaction[]): Promise<void> {
    if (!this.opts.statePrefetch || txs.length === 0) return;
    try {
      await this.world.prefetch(this.sm.prefetchKeys(txs));
    } catch (e) {
      this.logger.debug({ err: (e as Error).message }, 'state prefetch failed; the block reads what it needs as it runs');
    }
  }

  /** Builds the next block from candidate transactions; invalid candidates are left out. */
  build(proposer: Uint8Array, candidates: readonly Transaction[], now: number, isVerified?: (tx: Transaction) => boolean): { executed: ExecutedBlock; build: BuildResult } {
    this.refuseIfHalted();
    const parent = this.headHeader;
    const height = parent.height + 1;
    const timestamp = Math.max(now, parent.timestamp + 1);
    const lastCommit = height > 1 ? this.headCertificate : undefined;
    const build = this.sm.build(this.world, this.blockInfo(height, timestamp, proposer, lastCommit), candidates, { isVerified });
    const nextValidatorSet = this.settleUpdates(build, height);
    const header = new BlockHeader({
      version: HEADER_VERSION,
      chainId: this.chainId,
      height,
      parentHash: parent.hash(),
      timestamp,
      proposer,
      txRoot: txRoot(build.included),
      receiptsRoot: merkleRoot(build.receipts.map((r) => r.serialize())),
      eventsRoot: blockEventsRoot(build.blockEvents),
      stateRoot: build.stateRoot,
      validatorsHash: this.validatorSet(height).hash(),
      nextValidatorsHash: this.validatorSet(height + 1).hash(),
      lastCommit,
    });
    return { executed: { block: new Block(header, build.included), result: build, ...(nextValidatorSet ? { nextValidatorSet } : {}) }, build };
  }

  /** Checks a proposed next block by executing it; throws ConsensusError if it is not valid. */
  /**
   * `now`, when given (a proposal being voted on, not a committed block being synced), also bounds
   * the timestamp: a proposer cannot push the chain's clock into the future.
   */
  validate(block: Block, isVerified?: (tx: Transaction) => boolean, now?: number): ExecutedBlock {
    this.refuseIfHalted();
    const h = block.header;
    const parent = this.headHeader;
    const bad = (why: string): never => {
      throw new ConsensusError(ConsensusErrorCode.InvalidProposal, `block ${h.height} (${toHex(h.hash())}) is invalid: ${why}`, { height: h.height });
    };
    if (h.version !== HEADER_VERSION) bad(`version ${h.version}`);
    if (h.chainId !== this.chainId) bad(`chain id "${h.chainId}"`);
    if (h.height !== parent.height + 1) bad(`height is not ${parent.height + 1}`);
    if (!equalBytes(h.parentHash, parent.hash())) bad('parent hash is not the head');
    if (h.timestamp <= parent.timestamp) bad('timestamp does not increase');
    if (now !== undefined && h.timestamp > now + MAX_CLOCK_DRIFT_MS) bad(`timestamp is ${h.timestamp - now} ms ahead of this node's clock`);
    const valset = this.validatorSet(h.height);
    if (!valset.has(h.proposer)) bad('proposer is not a validator');
    if (!equalBytes(h.validatorsHash, valset.hash())) bad('validators hash does not match');
    if (!equalBytes(h.nextValidatorsHash, this.validatorSet(h.height + 1).hash())) bad('next validators hash does not match');
    if (h.height === 1 && h.lastCommit) bad('block 1 carries a last commit (genesis has none)');
    if (h.height > 1) {
      if (!h.lastCommit) bad(`it carries no certificate of block ${h.height - 1} (lastCommit)`);
      // The certificate this node committed the parent with was verified then: the same bytes need no second check.
      const same = this.headCertificate !== undefined && equalBytes(h.lastCommit!.serialize(), this.headCertificate.serialize());
      try {
        if (!same) h.lastCommit!.verify(this.chainId, this.validatorSet(h.height - 1), h.height - 1, h.parentHash);
      } catch (e) {
        bad(`its lastCommit does not certify block ${h.height - 1}: ${(e as Error).message}`);
      }
    }
    if (!equalBytes(h.txRoot, txRoot(block.transactions))) bad('transactions root does not match');
    const limits = this.blockLimits();
    if (block.transactions.length > limits.maxBlockTxs) bad(`it holds ${block.transactions.length} transactions, more than the chain's maxBlockTxs (${limits.maxBlockTxs})`);
    let bytes = 0;
    for (const t of block.transactions) bytes += t.serialize().length;
    if (bytes > limits.maxBlockBytes) bad(`its transactions are ${bytes} bytes, more than the chain's maxBlockBytes (${limits.maxBlockBytes})`);
    let result: ExecutionResult;
    try {
      result = this.sm.execute(this.world, this.blockInfo(h.height, h.timestamp, h.proposer, h.lastCommit), block.transactions, { isVerified });
    } catch (e) {
      if (e instanceof VmError) bad(e.message);
      throw e;
    }
    const nextValidatorSet = this.settleUpdates(result!, h.height);
    if (!equalBytes(result!.stateRoot, h.stateRoot)) bad(`state root ${toHex(result!.stateRoot)} after execution differs from the header's`);
    if (!equalBytes(merkleRoot(result!.receipts.map((r) => r.serialize())), h.receiptsRoot)) bad('receipts root does not match');
    if (!equalBytes(blockEventsRoot(result!.blockEvents), h.eventsRoot)) bad('events root does not match');
    return { block, result: result!, ...(nextValidatorSet ? { nextValidatorSet } : {}) };
  }

  /**
   * Makes an executed block durable with its certificate, then the new head. The certificate is
   * verified unless the caller just did (`certificateVerified`: consensus aggregated and checked it).
   */
  async commit(executed: ExecutedBlock, certificate: CommitCertificate, opts: { certificateVerified?: boolean } = {}): Promise<void> {
    if (this.failure?.final) {
      throw new StorageError(StorageErrorCode.Write, `the chain takes no more blocks: writing block ${this.failure.height} failed (${this.failure.error.message})`, { height: this.failure.height });
    }
    const block = executed.block.withCertificate(certificate);
    if (block.height !== this.headHeader.height + 1 || !equalBytes(block.header.parentHash, this.headHeader.hash())) {
      throw new ConsensusError(ConsensusErrorCode.InvalidProposal, `block ${block.height} does not extend the head ${this.headHeader.height}`);
    }
    if (!opts.certificateVerified) certificate.verify(this.chainId, this.validatorSet(block.height), block.height, block.hash());
    const { result } = executed;
    const accounts = block.transactions.map((t) => this.sm.registry.namedAccounts(t));
    const nextSet = executed.nextValidatorSet && { height: block.height + 2, set: executed.nextValidatorSet };
    const priorities = this.priorities.next(this.validatorSet(block.height + 1));
    const staged = this.world.stage(result.writes, result.tree, block.height);
    await this.write({ block, receipts: result.receipts, blockEvents: result.blockEvents, stateWrites: result.writes, stateOps: staged.ops, accounts, proposerPriorities: priorities.serialize(), ...(nextSet ? { nextValidatorSet: nextSet } : {}) });
    this.headPriorities = this.priorities;
    this.priorities = priorities;
    this.world.apply(staged);
    this.headHeader = block.header;
    this.headCertificate = certificate;
    this.logger.debug({ height: block.height, txs: block.transactions.length, hash: toHex(block.hash()) }, 'committed block');
    this.emit('committed', { block, receipts: result.receipts, blockEvents: result.blockEvents });
    this.checkHalt();
  }

  /** Writes a block, retrying a failed write with backoff (BlockchainOptions.writeRetries). */
  private async write(c: BlockCommit): Promise<void> {
    const height = c.block.height;
    for (let attempts = 1; ; attempts++) {
      try {
        await this.store.commit(c);
      } catch (e) {
        if (!(e instanceof StorageError) || e.code !== StorageErrorCode.Write) throw e;
        const final = attempts > this.opts.writeRetries || this.retryAbort.signal.aborted;
        this.failure = { height, error: e, attempts, final };
        const delayMs = Math.min(this.opts.writeRetryDelayMs * 2 ** (attempts - 1), MAX_WRITE_RETRY_DELAY_MS);
        this.logger.error({ height, attempts, err: e.message, ...(final ? {} : { retryInMs: delayMs }) }, final ? 'writing a block failed: giving up' : 'writing a block failed: retrying');
        this.emit('writeFailed', this.failure);
        if (final) throw e;
        await sleep(delayMs, undefined, { signal: this.retryAbort.signal }).catch(() => undefined);
        continue;
      }
      if (this.failure) {
        this.logger.warn({ height, attempts }, 'block written after failed attempts');
        this.failure = undefined;
        this.emit('writeRecovered', { height, attempts });
      }
      return;
    }
  }
}

function describeCommitment(c: StateCommitment): string {
  return c === 'entries' ? 'entry log ("entry-log")' : 'sparse Merkle tree ("sparse-merkle-tree")';
}

/** The state root of a genesis computed in memory (to check a genesis file against a chain's block 0). */
function genesisStateRoot(sm: StateMachine, genesis: GenesisDoc, info: BlockInfo, commitment: StateCommitment): Uint8Array {
  if (commitment === 'tree') return sm.genesis(WorldState.fromEntries([], 0, SparseMerkleTree.empty()), info, genesis.modules).stateRoot;
  const state = StoredState.empty(new MemoryStateStorage(), { history: 0, cacheBytes: 4 * 1024 * 1024, commitment });
  return state.tree.updateRaw(sm.genesisWrites(state, info, genesis.modules)).root;
}

/** A genesis whose state is more operations than this is written in batches before its block (ChainStore.writeStateBulk). */
const BULK_GENESIS_OPS = 200_000;

/** The state's key directory records (StoredState.open reads them). */
function stateDirectory(store: ChainStore): Promise<Iterable<[Uint8Array, Uint8Array]>> {
  return store.stateRecordsPacked(Uint8Array.of(StateTable.Directory));
}

/** A digest of the genesis document as validated (its fields in the schema's order), when no file's is given. */
function genesisDigest(genesis: GenesisDoc): Uint8Array {
  return sha256(new TextEncoder().encode(JSON.stringify(genesis)));
}

/**
 * The tree, key pages and meta record of the state values stored in `store` (they are not written
 * again), as the state at `height`: for a large genesis, and once for a home written before the
 * state was kept on disk (which holds only the head's values).
 */
async function buildStoredState(store: ChainStore, view: ReturnType<ChainStore['stateView']>, height: number, opts: { history: number; cacheBytes: number; commitment: StateCommitment }): Promise<{ root: Uint8Array; keys: number; nodes: number }> {
  async function* entries(): AsyncIterable<[string, Uint8Array]> {
    for await (const [k, v] of store.stateEntries()) yield [toKey(k), v];
  }
  const scratch = await store.scratch();
  try {
    return await StoredState.empty(view, { ...opts, history: 0 }).load(entries(), height, { write: (_values, ops) => store.writeStateBulk(new Map(), ops), clearRecords: async () => void (await store.clearState(50_000, true)), index: scratch });
  } finally {
    // A scratch store that cannot be removed is removed at the next open (storage/kv.ts): not the error to report.
    await scratch.destroy().catch(() => undefined);
  }
}

async function migrateState(store: ChainStore, view: ReturnType<ChainStore['stateView']>, height: number, opts: { history: number; cacheBytes: number; commitment: StateCommitment }, logger: Logger): Promise<void> {
  const started = Date.now();
  const { keys } = await buildStoredState(store, view, height, opts);
  logger.info({ height, keys, ms: Date.now() - started }, 'built the stored state from an older home');
}
