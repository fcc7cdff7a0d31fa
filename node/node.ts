import { join } from 'node:path';
import type { Logger } from 'pino';
import { equalBytes, formatAddress, toHex } from '../chain/index.js';
import { Blockchain, Mempool, SoloProducer, type ValidatorKey } from '../consensus/index.js';
import { loadGenesisFile, type GenesisDoc } from '../genesis/index.js';
import { RpcServer } from '../rpc/index.js';
import { ChainStore, LevelKV, StorageError, StorageErrorCode } from '../storage/index.js';
import { StateMachine } from '../vm/index.js';
import { createModules } from '../vm/modules/index.js';
import type { NodeConfig } from './config.js';
import { NodeError, NodeErrorCode } from './errors.js';
import { exists, homePaths, readConfig, readValidatorKey } from './home.js';
import { VERSION } from './version.js';

export type NodeStatus = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface NodeOverrides {
  rpcHost?: string;
  rpcPort?: number;
}

/**
 * The composition root: storage, state machine, chain, mempool, block production and RPC.
 * Started in that order; stopped in reverse, once, behind a status guard.
 */
export class MetanodeNode {
  private status: NodeStatus = 'created';

  private constructor(
    readonly config: NodeConfig,
    readonly genesis: GenesisDoc,
    readonly key: ValidatorKey,
    readonly chain: Blockchain,
    readonly mempool: Mempool,
    readonly producer: SoloProducer,
    readonly rpc: RpcServer,
    private readonly store: ChainStore,
    private readonly logger: Logger,
  ) {}

  static async create(home: string, logger: Logger, overrides: NodeOverrides = {}): Promise<MetanodeNode> {
    const p = homePaths(home);
    if (!(await exists(p.config))) throw new NodeError(NodeErrorCode.NoHome, `no node home at ${home} (config.json missing); create one with: metanode init --home ${home}`);
    const config = await readConfig(p.config);
    const key = await readValidatorKey(p.validatorKey);
    const { registry, bank } = createModules();
    const genesis = await loadGenesisFile(p.genesis, registry.modules);
    const sm = new StateMachine({ chainId: genesis.chainId }, { registry, fees: bank });
    // LevelDB writes CURRENT when it creates a database, and skips unreadable log records without
    // an error: a database that existed but now holds no chain lost its records, and writing a new
    // genesis over it would silently restart the chain from height 0.
    const hadDatabase = await exists(join(p.data, 'CURRENT'));
    const store = await ChainStore.open(await LevelKV.open(p.data));
    let chain: Blockchain;
    try {
      if (hadDatabase && !(await store.chainInfo())) {
        throw new StorageError(
          StorageErrorCode.Corrupt,
          `the data folder ${p.data} holds a database but no chain: it is corrupt (or its first start was interrupted); restore it from a backup, or remove it to start again from genesis`,
        );
      }
      chain = await Blockchain.open(genesis, { store, sm, logger: logger.child({ module: 'chain' }) });
    } catch (e) {
      await store.close();
      throw e;
    }
    const valset = chain.validatorSet(chain.height + 1);
    if (!valset.has(key.address)) {
      await store.close();
      throw new NodeError(NodeErrorCode.BadKey, `this node's validator key (${formatAddress(key.address)}) is not in the validator set; only validators can run in this release`);
    }
    const v = valset.validators[valset.indexOf(key.address)]!;
    if (!equalBytes(v.blsPublicKey, key.bls.publicKey)) {
      await store.close();
      throw new NodeError(NodeErrorCode.BadKey, `the BLS key in ${p.validatorKey} does not match the validator set`);
    }
    const mempool = new Mempool(config.mempool ?? {}, { chainId: genesis.chainId, registry, fees: bank, state: () => chain.state, logger: logger.child({ module: 'mempool' }) });
    const producer = new SoloProducer(config.producer ?? {}, { chain, mempool, key, clock: Date, logger: logger.child({ module: 'producer' }) });
    const rpcOpts = { ...(config.rpc ?? {}), ...(overrides.rpcHost !== undefined ? { host: overrides.rpcHost } : {}), ...(overrides.rpcPort !== undefined ? { port: overrides.rpcPort } : {}) };
    const rpc = new RpcServer(rpcOpts, {
      backend: { chain, mempool, version: VERSION, validatorAddress: key.address, submitTransaction: (raw) => mempool.addRaw(raw), network: () => ({ peers: 0, syncing: false }) },
      logger: logger.child({ module: 'rpc' }),
    });
    return new MetanodeNode(config, genesis, key, chain, mempool, producer, rpc, store, logger);
  }

  async start(): Promise<void> {
    if (this.status !== 'created') throw new NodeError(NodeErrorCode.State, `cannot start a node that is ${this.status}`);
    this.status = 'starting';
    try {
      await this.rpc.start();
      this.producer.start();
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.status = 'running';
    this.logger.info({ chainId: this.chain.chainId, height: this.chain.height, head: toHex(this.chain.head.hash()), validator: formatAddress(this.key.address) }, 'node started');
  }

  /** Stops block production, then RPC, then closes the database. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.status === 'stopping' || this.status === 'stopped') return;
    this.status = 'stopping';
    await this.producer.stop();
    await this.rpc.stop();
    await this.store.close();
    this.status = 'stopped';
    this.logger.info({ height: this.chain.height }, 'node stopped');
  }

  get state(): NodeStatus {
    return this.status;
  }
}
