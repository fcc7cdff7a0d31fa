import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { equalBytes, formatAddress, toHex } from '../chain/index.js';
import { BlockSync, Blockchain, FileSignLog, defaultBlockchainOptions, IbftEngine, Mempool, TxJournal, TxRelay, VerifierPool, systemTimer, type ValidatorKey } from '../consensus/index.js';
import { bulkFileOf, readBulkFile, readGenesisFile, type GenesisDoc } from '../genesis/index.js';
import { P2PError, P2PErrorCode, P2PNetwork, peerKeyFromEd25519Seed, validatorPeerIds } from '../p2p/index.js';
import { JwtAuth, RpcServer, invalidParams, type AdminBackend, type LogLevel } from '../rpc/index.js';
import { AuditLog, ChainStore, LevelKV, StorageError, StorageErrorCode } from '../storage/index.js';
import { StateMachine, type ModuleFault } from '../vm/index.js';
import { createModules, type CourtModule } from '../vm/modules/index.js';
import type { UpgradePlan } from '../vm/modules/court/records.js';
import type { UpgradeHandler } from '../vm/upgrades/index.js';
import { refuseEarlyUpgrade, upgradeGate } from './upgrade.js';
import type { NodeConfig } from './config.js';
import { ValidatorDuties } from './duties.js';
import { NodeError, NodeErrorCode } from './errors.js';
import { NodeHealth } from './health.js';
import { exists, homePaths, readConfig } from './home.js';
import { TxIntake } from './intake.js';
import { readValidatorKey, type KeyPassword } from './keyfile.js';
import { MetricsServer } from './metrics-server.js';
import { NodeMetrics } from './metrics.js';
import { VERSION } from './version.js';

export type NodeStatus = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface NodeOverrides {
  rpcHost?: string;
  rpcPort?: number;
  /** Replaces config p2p.listen with /ip4/0.0.0.0/tcp/<port> (0: any free port). */
  p2pPort?: number;
}

/**
 * The composition root: storage, state machine, chain, mempool, p2p, transaction relay, consensus,
 * block sync and RPC. Started in that order; stopped in reverse, once, behind a status guard.
 */
export class MetanodeNode {
  private status: NodeStatus = 'created';

  private constructor(
    readonly config: NodeConfig,
    readonly key: ValidatorKey,
    readonly chain: Blockchain,
    readonly mempool: Mempool,
    readonly relay: TxRelay,
    readonly network: P2PNetwork,
    readonly engine: IbftEngine,
    readonly sync: BlockSync,
    readonly rpc: RpcServer,
    private readonly intake: TxIntake,
    private readonly duties: ValidatorDuties,
    readonly metricsServer: MetricsServer | undefined,
    private readonly audit: AuditLog | undefined,
    /** Whether the node can go on; its 'fatal' event means it cannot (bin/metanode.ts stops it and exits). */
    readonly health: NodeHealth,
    private readonly store: ChainStore,
    private readonly signLog: FileSignLog | undefined,
    private readonly verifier: VerifierPool,
    private readonly logger: Logger,
    private readonly court: CourtModule,
  ) {}

  /**
   * The software upgrade the node halted for (chain.halted; its 'halted' event says when), or
   * undefined: bin/metanode.ts writes it to upgrade-info.json and exits with code 5.
   */
  upgradeNeeded(): UpgradePlan | undefined {
    return this.chain.halted ? this.court.plan(this.chain.state) : undefined;
  }

  /** `secrets.keyPassword`: the password of an encrypted validator key (node/keyfile.ts). */
  /** `upgrades`: the software upgrades this binary knows (default: vm/upgrades UPGRADES). */
  static async create(home: string, logger: Logger, overrides: NodeOverrides = {}, secrets: { keyPassword?: KeyPassword } = {}, upgrades?: ReadonlyMap<string, UpgradeHandler>): Promise<MetanodeNode> {
    const p = homePaths(home);
    if (!(await exists(p.config))) throw new NodeError(NodeErrorCode.NoHome, `no node home at ${home} (config.json missing); create one with: metanode init --home ${home}`);
    const config = await readConfig(p.config);
    const key = await readValidatorKey(p.validatorKey, { password: secrets.keyPassword });
    const vmLog = logger.child({ module: 'vm' });
    const onFault = (f: ModuleFault) => vmLog.error({ err: f.error, module: f.module, where: f.where, height: f.height }, 'a module threw: its writes were reverted and the chain goes on (a bug: please report it)');
    const { registry, bank, consensus: consensusParams, staking, court } = createModules({ ...(upgrades ? { upgrades } : {}), onFault });
    // LevelDB writes CURRENT when it creates a database, and skips unreadable log records without
    // an error: a database that existed but now holds no chain lost its records, and writing a new
    // genesis over it would silently restart the chain from height 0.
    const hadDatabase = await exists(join(p.data, 'CURRENT'));
    // A new chain's genesis file is read and validated before a database is made for it; an
    // existing chain's after, with the digest the chain recorded (compose).
    const loaded = hadDatabase ? undefined : await readGenesisFile(p.genesis, registry.modules);
    let kv: LevelKV;
    try {
      kv = await LevelKV.open(p.data, config.storage?.openFiles === undefined ? {} : { openFiles: config.storage.openFiles });
    } catch (e) {
      if (e instanceof StorageError && e.code === StorageErrorCode.Locked) {
        throw new NodeError(NodeErrorCode.HomeInUse, `the home ${home} is in use by another process (is another metanode running with this home?): stop that one first, or start this one with another --home`);
      }
      throw e;
    }
    // What is open so far, closed in reverse if anything after it fails (closing the store closes the database).
    const opened: (() => Promise<unknown>)[] = [() => kv.close()];
    try {
      return await MetanodeNode.compose({ home, p, config, key, registry, bank, consensusParams, staking, court, loaded, onFault, kv, hadDatabase, logger, overrides, opened });
    } catch (e) {
      for (const close of opened.reverse()) await close().catch(() => undefined);
      throw e;
    }
  }

  /** The rest of create(), from the open database on: every resource it opens is pushed on `opened`. */
  private static async compose(c: {
    home: string;
    p: ReturnType<typeof homePaths>;
    config: NodeConfig;
    key: ValidatorKey;
    registry: ReturnType<typeof createModules>['registry'];
    consensusParams: ReturnType<typeof createModules>['consensus'];
    staking: ReturnType<typeof createModules>['staking'];
    bank: ReturnType<typeof createModules>['bank'];
    court: CourtModule;
    loaded: { doc: GenesisDoc; digest: Uint8Array } | undefined;
    onFault: (f: ModuleFault) => void;
    kv: LevelKV;
    hadDatabase: boolean;
    logger: Logger;
    overrides: NodeOverrides;
    opened: (() => Promise<unknown>)[];
  }): Promise<MetanodeNode> {
    const { home, p, config, key, registry, bank, consensusParams, staking, court, kv, logger, overrides, opened } = c;
    const store = await ChainStore.open(kv);
    // A large genesis cut short (killed, or a bad line of its bulk file) left state and a pending
    // mark, and no chain: Blockchain.open removes it and writes genesis again.
    if (c.hadDatabase && !(await store.chainInfo()) && !(await store.genesisPending())) {
      throw new StorageError(
        StorageErrorCode.Corrupt,
        `the data folder ${p.data} holds a database but no chain: it is corrupt (or its first start was interrupted); restore it from a backup, or remove it to start again from genesis`,
      );
    }
    // The genesis document is not kept: a large one (every funded account) would stay in memory.
    const { doc: genesis, digest: genesisDigest } = c.loaded ?? (await readGenesisFile(p.genesis, registry.modules, await store.genesisDigest()));
    const sm = new StateMachine({ chainId: genesis.chainId }, { registry, fees: bank, onFault: c.onFault });
    // The modules' bulk genesis files, read only if genesis is written now.
    const genesisBulk = () =>
      registry.modules.flatMap((m) => {
        const ref = m.initGenesisBulk ? bulkFileOf(genesis.modules[m.name]) : undefined;
        return ref ? [{ module: m.name, chunks: readBulkFile(p.genesis, ref) }] : [];
      });
    const chain = await Blockchain.open(genesis, { store, sm, genesisDigest, genesisBulk, logger: logger.child({ module: 'chain' }), blockLimits: (s) => consensusParams.limits(s), haltBefore: upgradeGate(court) }, config.storage ?? {});
    refuseEarlyUpgrade(court, chain);
    const valset = chain.validatorSet(chain.height + 1);
    const i = valset.indexOf(key.address);
    if (i >= 0 && !equalBytes(valset.validators[i]!.blsPublicKey, key.bls.publicKey)) {
      throw new NodeError(NodeErrorCode.BadKey, `the BLS key in ${p.validatorKey} does not match the validator set`);
    }
    /** Whether this node validates the next block (the set changes by height: it may become one, or stop being one). */
    const isValidator = () => chain.validatorSet(chain.height + 1).has(key.address);
    // Every node runs the consensus engine, which signs only at heights whose set holds it, so a
    // node joins (or leaves) the validators at the height the chain says, without a restart.
    // Older versions kept the sign log in the database: it moves to its own files on first start.
    const signLog = await FileSignLog.open(p.signLog, { importFrom: kv });
    opened.push(() => signLog.close());
    const verifier = new VerifierPool(config.verifier ?? {});
    opened.push(() => verifier.close());
    const { journal: journalOn = true, ...mempoolOpts } = config.mempool ?? {};
    const mempool = new Mempool(mempoolOpts, { chainId: genesis.chainId, registry, fees: bank, state: () => chain.state, verifier, logger: logger.child({ module: 'mempool' }) });
    const metrics = new NodeMetrics();
    const listen = overrides.p2pPort !== undefined ? { listen: [`/ip4/0.0.0.0/tcp/${overrides.p2pPort}`] } : {};
    // The libp2p identity is the validator key, so every validator's peer id follows from the set.
    const peerKey = await peerKeyFromEd25519Seed(key.ed25519.secret, key.ed25519.publicKey);
    if (await exists(p.p2pKey)) logger.info({ path: p.p2pKey, peerId: peerKey.peerId }, 'keys/p2p.key is no longer used (the p2p identity is the validator key); it can be deleted');
    const network = new P2PNetwork(
      { chainId: genesis.chainId, ...(config.p2p ?? {}), ...listen },
      { logger: logger.child({ module: 'p2p' }), privateKey: peerKey.privateKey, validatorPeers: validatorPeerIds(() => chain.validatorSet(chain.height + 1)), metrics: metrics.p2p },
    );
    const relay = new TxRelay({ gossipWithoutPeers: network.options.bootstrap.length > 0 }, { mempool, network, logger: logger.child({ module: 'relay' }) });
    let journal: TxJournal | undefined;
    let journaled: Uint8Array[] = [];
    if (journalOn) {
      ({ journal, raws: journaled } = await TxJournal.open(p.txJournal));
      const j = journal;
      opened.push(() => j.close());
    }
    const intake = new TxIntake({ mempool, journal, relay, network, chain, logger: logger.child({ module: 'mempool' }) });
    await intake.replay(journaled);
    const health = new NodeHealth({ writeRetries: config.storage?.writeRetries ?? defaultBlockchainOptions.writeRetries }, { chain, logger: logger.child({ module: 'node' }), registry: metrics.registry });
    // (sync is made below: duties ask it only once the node runs)
    const duties = new ValidatorDuties({ chain, key, staking, fees: bank, submit: (raw) => intake.submit(raw), syncing: () => sync.syncing, now: () => systemTimer.now(), logger: logger.child({ module: 'duties' }) });
    const engine = new IbftEngine(config.consensus ?? {}, {
      chain,
      key,
      signLog: health.guardSignLog(signLog),
      mempool,
      network,
      timer: systemTimer,
      logger: logger.child({ module: 'consensus' }),
      metrics: metrics.consensus,
      onEquivocation: (e) => duties.reportEquivocation(e),
    });
    const sync = new BlockSync({}, {
      chain,
      network,
      importBlock: (b) => engine.importBlock(b),
      timer: systemTimer,
      logger: logger.child({ module: 'sync' }),
    });
    metrics.attach({ chain, mempool, network, sync });
    const { audit: auditOn = true, ...rpcConfig } = config.rpc ?? {};
    const rpcOpts = {
      ...rpcConfig,
      ...(rpcConfig.auth?.jwtPublicKeyFile ? { auth: { ...rpcConfig.auth, jwtPublicKeyFile: resolve(home, rpcConfig.auth.jwtPublicKeyFile) } } : {}),
      ...(overrides.rpcHost !== undefined ? { host: overrides.rpcHost } : {}),
      ...(overrides.rpcPort !== undefined ? { port: overrides.rpcPort } : {}),
    };
    const auth = rpcOpts.auth?.jwtPublicKeyFile
      ? await JwtAuth.load(rpcOpts.auth.jwtPublicKeyFile).catch((e: Error) => Promise.reject(new NodeError(NodeErrorCode.BadConfig, `${e.message} (config.json rpc.auth.jwtPublicKeyFile)`)))
      : undefined;
    const audit = auditOn ? await AuditLog.open(p.audit) : undefined;
    if (audit) opened.push(() => audit.close());
    const admin: AdminBackend = {
      nodeInfo: () => ({
        peerId: network.peerId,
        addresses: network.addresses(),
        version: VERSION,
        chainId: genesis.chainId,
        validator: isValidator() ? formatAddress(key.address) : null,
        height: chain.height,
        logLevel: logger.level,
      }),
      peers: () => network.peerDetails().map((peer) => ({ ...peer })),
      addPeer: async (multiaddr) => {
        const peerId = await asInvalidParams('multiaddr', () => network.addPeer(multiaddr));
        return { peerId, connected: await network.awaitConnection(peerId, network.options.dialTimeoutMs) };
      },
      removePeer: async (peerId) => {
        const r = await asInvalidParams('peerId', () => network.removePeer(peerId));
        return r.disconnected || r.redialStopped || r.admissionRevoked;
      },
      logLevel: () => logger.level,
      setLogLevel: (level: LogLevel) => {
        logger.level = level;
      },
    };
    const rpc = new RpcServer(rpcOpts, {
      backend: {
        chain,
        mempool,
        version: VERSION,
        get validatorAddress() {
          return isValidator() ? key.address : undefined;
        },
        submitTransaction: (raw) => intake.submit(raw),
        submitTransactions: (raws) => intake.submitMany(raws),
        network: () => ({ peers: network.peers().length, syncing: sync.syncing }),
        admin,
        health: () => health.status(),
      },
      logger: logger.child({ module: 'rpc' }),
      metrics: metrics.rpc,
      registry: metrics.registry,
      auth,
      audit,
    });
    const metricsServer = config.metrics ? new MetricsServer({ host: config.metrics.host ?? '127.0.0.1', port: config.metrics.port }, { registry: metrics.registry, logger: logger.child({ module: 'metrics' }) }) : undefined;
    return new MetanodeNode(config, key, chain, mempool, relay, network, engine, sync, rpc, intake, duties, metricsServer, audit, health, store, signLog, verifier, logger, court);
  }

  async start(): Promise<void> {
    if (this.status !== 'created') throw new NodeError(NodeErrorCode.State, `cannot start a node that is ${this.status}`);
    this.status = 'starting';
    try {
      await this.network.start();
      this.relay.start({ receive: true });
      this.intake.start();
      await this.engine.start();
      this.sync.start();
      this.duties.start();
      await this.rpc.start();
      await this.metricsServer?.start();
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.status = 'running';
    const validating = this.chain.validatorSet(this.chain.height + 1).has(this.key.address);
    this.logger.info(
      { chainId: this.chain.chainId, height: this.chain.height, head: toHex(this.chain.head.hash()), validator: validating ? formatAddress(this.key.address) : null, p2p: this.network.addresses() },
      validating ? 'node started' : 'node started (not a validator at this height: following the chain)',
    );
  }

  /** Stops RPC, block sync, consensus and p2p, then closes the database. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.status === 'stopping' || this.status === 'stopped') return;
    this.status = 'stopping';
    this.chain.stopRetrying(); // a block write waiting to be retried fails now: consensus can stop
    await this.metricsServer?.stop();
    await this.rpc.stop();
    this.duties.stop();
    await this.audit?.close();
    await this.intake.stop();
    await this.sync.stop();
    await this.engine.stop();
    this.relay.stop();
    await this.network.stop();
    await this.verifier.close();
    await this.signLog?.close();
    await this.store.close();
    this.status = 'stopped';
    this.logger.info({ height: this.chain.height }, 'node stopped');
  }

  get state(): NodeStatus {
    return this.status;
  }
}

/** `f()`, with the p2p layer's refusal of a malformed address or peer id turned into JSON-RPC invalid params. */
async function asInvalidParams<T>(param: string, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof P2PError && (e.code === P2PErrorCode.BadAddress || e.code === P2PErrorCode.BadPeerId)) throw invalidParams(param, e.message);
    throw e;
  }
}
