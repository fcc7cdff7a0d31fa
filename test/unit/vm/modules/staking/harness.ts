/**
 * A chain in miniature for the staking tests: the real modules and state machine, blocks executed
 * one after another with what the chain tells the state machine (the previous set and who signed
 * it), and the set of each height computed as the chain does (block H's updates are the set of H+2).
 */
import { expect } from 'chai';
import { ReceiptStatus, addressFromPublicKey, moduleAddress, formatAddress, toKey, type Ed25519Key, type Event, type Transaction, type ValidatorSet } from '../../../../../chain/index.js';
import { genesisValidatorSet, type GenesisDoc } from '../../../../../genesis/index.js';
import { createModules, type StakingModule } from '../../../../../vm/modules/index.js';
import { encodeStaking, type StakingArgs } from '../../../../../vm/modules/staking/index.js';
import { StateMachine, WorldState, getNonce, type ExecutionResult } from '../../../../../vm/index.js';
import { SparseMerkleTree } from '../../../../../vm/state/smt.js';
import { CHAIN_ID, GENESIS_TIME, MIN_FEE, StateMap, signedTx, testGenesis, validatorKey, type TestGenesisOptions } from '../../../fixtures.js';
import type { ValidatorKey } from '../../../../../consensus/keys.js';

export const GEN_UNIT = 1_000_000n;

/** A genesis with a staking section: `params` over the defaults. */
export function stakingGenesis(o: TestGenesisOptions & { params?: Record<string, string | number> } = {}): GenesisDoc {
  const doc = testGenesis({ validators: [0, 1, 2, 3].map((i) => validatorKey(i)), accounts: 6, ...o });
  doc.modules.staking = { params: o.params ?? {} };
  return doc;
}

export class StakingChain {
  readonly sm: StateMachine;
  readonly staking: StakingModule;
  readonly modules: ReturnType<typeof createModules>;
  readonly world = WorldState.fromEntries([], 0, SparseMerkleTree.empty());
  /** Every key and value, for sums over all balances. */
  readonly map = new StateMap();
  readonly sets = new Map<number, ValidatorSet>();
  height = 0;
  /** Validators (by address key) that do not sign the blocks from now on. */
  readonly absent = new Set<string>();
  readonly blockEvents: Event[][] = [];
  /** GEN minted at genesis (the genesis self-bonds) plus the genesis balances: the supply before any slash. */
  readonly initialGen: bigint;

  /** `modules`: createModules' options (the software upgrades this chain's binary knows). */
  constructor(readonly doc: GenesisDoc = stakingGenesis(), modules: Parameters<typeof createModules>[0] = {}) {
    this.modules = createModules(modules);
    this.staking = this.modules.staking;
    this.sm = new StateMachine({ chainId: doc.chainId }, { registry: this.modules.registry, fees: this.modules.bank });
    const set = genesisValidatorSet(doc);
    const g = this.sm.genesis(this.world, { chainId: doc.chainId, height: 0, timestamp: GENESIS_TIME.getTime(), proposer: new Uint8Array(20), lastValidators: set }, doc.modules);
    this.world.apply(g.writes, g.tree, 0);
    this.map.apply(g.writes);
    this.sets.set(1, set);
    this.sets.set(2, set);
    this.initialGen = this.modules.bank.supply(this.world, 'GEN');
  }

  set(height: number): ValidatorSet {
    return this.sets.get(height)!;
  }

  /** Executes the next block with `txs`; every member of the previous set signed it but the absent ones. */
  block(txs: Transaction[] = []): ExecutionResult {
    const h = ++this.height;
    const last = h > 1 ? this.set(h - 1) : undefined;
    const signers = last ? last.validators.filter((v) => !this.absent.has(toKey(v.address))).map((v) => v.address) : [];
    const set = this.set(h);
    const proposer = set.validators[h % set.size]!.address;
    const r = this.sm.execute(this.world, { chainId: CHAIN_ID, height: h, timestamp: GENESIS_TIME.getTime() + h * 1000, proposer, lastCommitSigners: signers, ...(last ? { lastValidators: last } : {}) }, txs);
    this.world.apply(r.writes, r.tree, h);
    this.map.apply(r.writes);
    this.sets.set(h + 2, this.set(h + 1).apply(r.validatorUpdates));
    this.blockEvents.push(r.blockEvents);
    return r;
  }

  /** Runs `n` empty blocks. */
  blocks(n: number): void {
    for (let i = 0; i < n; i++) this.block();
  }

  /** A signed staking transaction from `key` with its account's next nonce. */
  tx(key: Ed25519Key, a: StakingArgs, fee = MIN_FEE): Transaction {
    return signedTx(key, { nonce: getNonce(this.world, addressFromKey(key)), kind: `staking.${a.method}`, payload: encodeStaking(a), fee });
  }

  /** Executes one transaction in a block of its own; returns its receipt. */
  send(key: Ed25519Key, a: StakingArgs, fee = MIN_FEE) {
    return this.block([this.tx(key, a, fee)]).receipts[0]!;
  }

  /** Sends and expects success. */
  ok(key: Ed25519Key, a: StakingArgs) {
    const r = this.send(key, a);
    expect(r.status, `${a.method}: ${r.errorCode} ${r.errorMessage}`).to.equal(ReceiptStatus.Success);
    return r;
  }

  /** Sends and expects failure with `code`; nothing but the fee and the nonce changed. */
  fails(key: Ed25519Key, a: StakingArgs, code: string): string {
    const r = this.send(key, a);
    expect(r.status, `${a.method} should fail with ${code}`).to.equal(ReceiptStatus.Failed);
    expect(r.errorCode).to.equal(code);
    return r.errorMessage;
  }

  query<T>(path: string, params?: unknown): T {
    return this.staking.query({ state: this.world, height: this.height }, path, params) as T;
  }

  gen(address: Uint8Array): bigint {
    return this.modules.bank.balance(this.world, address, 'GEN');
  }

  nex(address: Uint8Array): bigint {
    return this.modules.bank.balance(this.world, address, 'NEX');
  }

  /** The power of `address` in the set of `height` (0: not in it). */
  powerAt(height: number, address: Uint8Array): bigint {
    const s = this.set(height);
    const i = s.indexOf(address);
    return i < 0 ? 0n : s.validators[i]!.power;
  }

  /** Block events of type `type` so far, as attribute objects. */
  events(type: string): Record<string, string>[] {
    return this.blockEvents.flat().filter((e) => e.module === 'staking' && e.type === type).map((e) => Object.fromEntries(e.attributes));
  }

  /**
   * The GEN invariant: every GEN is liquid, bonded, unbonding or burned. The balances of all
   * accounts add up to the supply; the staking account holds exactly the validators' tokens, the
   * unbonding account exactly the entries waiting; supply + burned is the supply after genesis.
   */
  checkGen(): void {
    const bank = this.modules.bank;
    const supply = bank.supply(this.world, 'GEN');
    expect(this.map.total('GEN'), 'balances add up to the supply').to.equal(supply);
    let tokens = 0n;
    let unbonding = 0n;
    for (const a of this.staking.candidates(this.world)) {
      const v = this.staking.validator(this.world, a)!;
      expect(v.tokens >= 0n && v.shares >= 0n).to.equal(true);
      tokens += v.tokens;
      for (const u of this.staking.unbondingsOf(this.world, a)) unbonding += u.amount;
    }
    expect(this.gen(moduleAddress('staking')), 'bonded pool = validator tokens').to.equal(tokens);
    expect(this.gen(moduleAddress('staking_unbonding')), 'unbonding pool = entries').to.equal(unbonding);
    expect(supply + this.staking.burned(this.world), 'supply + burned = supply after genesis').to.equal(this.initialGen);
  }
}

export function addressFromKey(key: Ed25519Key): Uint8Array {
  return addressFromPublicKey(key.publicKey);
}

export { formatAddress };

/** A validator's create_validator arguments from its keys. */
export function createArgs(v: ValidatorKey, selfBond: bigint, o: { commissionPpm?: bigint; moniker?: string } = {}): StakingArgs {
  return { method: 'create_validator', args: { publicKey: v.ed25519.publicKey, blsPublicKey: v.bls.publicKey, proofOfPossession: v.bls.proofOfPossession(), moniker: o.moniker ?? 'new', commissionPpm: o.commissionPpm ?? 100_000n, selfBond } };
}
