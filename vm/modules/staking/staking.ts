import { z } from 'zod';
import {
  addressFromPublicKey,
  copyBytes,
  asRlpUint,
  rlpUint,
  type DuplicateVoteEvidence,
  checkDuplicateVote,
  compareBytes,
  equalBytes,
  formatAddress,
  toHex,
  toKey,
  verifyBlsPossession,
  type Event,
  type ValidatorUpdate,
} from '../../../chain/index.js';
import { TxError, VmError, VmErrorCode } from '../../errors.js';
import type { ExecContext, Module, QueryContext, QuerySpec, TxContext } from '../../module.js';
import { ParamSpace, genesisParamsSchema } from '../../params.js';
import { asModule, type StateReader } from '../../state/overlay.js';
import type { BankKeeper } from '../bank/bank.js';
import { FEE_ASSET } from '../bank/genesis.js';
import { StakingTx, decodeStaking, type CreateValidatorArgs, type DelegateArgs, type RedelegateArgs, type StakingArgs } from './codec.js';
import { StakingErrorCode as E } from './errors.js';
import {
  Keys,
  REWARD_SCALE,
  SLASH_HISTORY,
  decodeAddresses,
  decodeDelegation,
  decodePowers,
  decodeRedelegations,
  decodeSigning,
  decodeUnbondings,
  decodeValidator,
  encodeAddresses,
  encodeDelegation,
  encodePowers,
  encodeRedelegations,
  encodeSigning,
  encodeUnbondings,
  encodeValidator,
  type Delegation,
  SIGNING_CHUNK_BITS,
  type SlashKind,
  type ValidatorRecord,
  type UnbondingEntry,
  type RosterEntry,
  MAX_ORGANISATION,
  decodeRosterEntry,
  encodeRosterEntry,
  rosterKeyAddress,
} from './records.js';

const GEN = 'GEN';
const PPM = 1_000_000n;
/** Most validators one delegator may delegate to, and unbonding or redelegation entries per pair (Cosmos: 7). */
export const MAX_DELEGATIONS_PER_DELEGATOR = 32;
export const MAX_ENTRIES = 7;

const paramFields = {
  unbondingBlocks: { description: 'blocks from an undelegation until its GEN is paid out (slashable meanwhile)', min: 1n, max: 10_000_000n },
  maxValidators: { description: 'most validators in the set', min: 1n, max: 1000n },
  maxCandidates: { description: 'most registered validators (in the set or not)', min: 1n, max: 10_000n },
  minValidators: { description: 'the set never shrinks below this many validators', min: 1n, max: 1000n },
  signedBlocksWindow: { description: 'blocks over which a validator’s signatures are counted for downtime', min: 10n, max: 100_000n },
  minSignedPpm: { description: 'the share of the window a validator must sign (ppm)', min: 1n, max: PPM },
  downtimeJailBlocks: { description: 'blocks a validator jailed for downtime stays out before it may unjail', min: 1n, max: 10_000_000n },
  slashDoubleSignPpm: { description: 'share of its stake burned for double-signing (ppm)', min: 0n, max: PPM },
  slashDowntimePpm: { description: 'share of its stake burned for downtime (ppm)', min: 0n, max: PPM },
  evidenceMaxAgeBlocks: { description: 'evidence older than this many blocks is refused', min: 1n, max: 10_000_000n },
  minSelfBond: { description: 'GEN (base units) the operator must keep bonded to its validator for it to be in the set', min: 1n, max: 10n ** 30n },
  communityTaxPpm: { description: 'share of each block’s rewards paid to the treasury (ppm)', min: 0n, max: PPM },
  powerReduction: { description: 'GEN base units per unit of voting power', min: 1n, max: 10n ** 24n },
  maxPowerChangePpm: { description: 'most of the set’s total power one block’s updates may move (ppm; at least 1 power)', min: 1n, max: PPM },
} as const;
type ParamName = keyof typeof paramFields;
export type StakingParams = Readonly<Record<ParamName, bigint>>;

/**
 * The anchor's (Cosmos SDK's) values, with periods in blocks, but for two reasons: the unbonding
 * period is shorter (a permissioned chain's members know each other), and the downtime window is
 * the Cosmos Hub's (10,000 blocks, 5% signed) rather than the SDK's 100 at 50%: under load this
 * chain makes a block every 50–100 ms, so 50 missed blocks would jail a validator for a restart.
 */
export const STAKING_DEFAULTS: Record<ParamName, bigint> = {
  unbondingBlocks: 100_000n,
  maxValidators: 100n,
  maxCandidates: 300n,
  minValidators: 1n,
  signedBlocksWindow: 10_000n,
  minSignedPpm: 50_000n,
  downtimeJailBlocks: 600n,
  slashDoubleSignPpm: 50_000n,
  slashDowntimePpm: 10_000n,
  evidenceMaxAgeBlocks: 100_000n,
  minSelfBond: 1_000_000n,
  communityTaxPpm: 20_000n,
  powerReduction: 1_000_000n,
  maxPowerChangePpm: 333_333n,
};

export const stakingGenesisSchema = z
  .object({
    params: genesisParamsSchema.optional(),
    /** A permissioned chain: only validators on the roster (the genesis validators, then those governance adds) may bond. */
    permissioned: z.boolean().optional(),
  })
  .strict();
export type StakingGenesis = z.infer<typeof stakingGenesisSchema>;

/** What the staking module is handed by the bank and the composition root. */
export interface StakingDeps {
  /** The bonded pool: the staking account (mint for genesis self-bonds, burn for slashes). */
  bonded: BankKeeper;
  /** Where undelegated GEN waits for the unbonding period (burn for slashes). */
  unbonding: BankKeeper;
  /** Where the community tax and undistributable rewards go. */
  treasury: Uint8Array;
  /** Where the bank pays each transaction's fee; staking shares it out at the next block. */
  feeCollector: Uint8Array;
}

/**
 * What staking hands the governance module (through the composition root): the bonded
 * validators and a delegator's delegations, for a tally by stake. Read as staking (asModule).
 */
export interface StakingKeeper {
  /** Whether this chain's genesis enabled staking. */
  enabled(state: StateReader): boolean;
  /** The validators of the set staking last returned (bonded), in address order: operator, tokens, shares. */
  bonded(state: StateReader): { address: Uint8Array; operator: Uint8Array; tokens: bigint; shares: bigint }[];
  /** A delegator's delegations (at most MAX_DELEGATIONS_PER_DELEGATOR): validator and shares. */
  delegationsOf(state: StateReader, delegator: Uint8Array): { validator: Uint8Array; shares: bigint }[];
  /** Whether the chain is permissioned (only validators on the roster may bond). */
  permissioned(state: StateReader): boolean;
  /** Why a roster change cannot be made in `state` (a staking failure code and words), or undefined. */
  rosterProblem(state: StateReader, change: RosterChange): { code: string; message: string } | undefined;
  /** Makes a roster change (checked again: a TxError with the staking code if it cannot be made). */
  changeRoster(ctx: ExecContext, change: RosterChange): void;
}

/** A change to a permissioned chain's roster, as governance makes it. */
export type RosterChange =
  | { kind: 'add'; organisation: string; operator: Uint8Array; publicKey: Uint8Array; blsPublicKey: Uint8Array; proofOfPossession: Uint8Array }
  | { kind: 'remove'; address: Uint8Array };

/** A validator's status, as queries and the explorer show it. */
export type ValidatorStatus = 'active' | 'inactive' | 'jailed' | 'tombstoned' | 'unbonding' | 'pending' | 'removed';

const ev = (type: string, attributes: [string, string][]): Event => ({ module: 'staking', type, attributes });
const fmt = (a: Uint8Array) => formatAddress(a);
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/**
 * Staking: GEN bonded to validators decides the validator set and its voting power.
 *
 * - **Bonding.** `create_validator` registers a consensus key pair (Ed25519 + BLS with its proof of
 *   possession) and bonds the operator's self-bond; the validator joins the set only once its
 *   consensus key has sent `ready` (its node is up). Delegators hold shares of a validator's
 *   tokens, so a slash reduces every delegator pro rata. `undelegate` queues GEN for the unbonding
 *   period (still slashable for infractions from before it left); `redelegate` moves it at once
 *   (the moved shares stay slashable for the source's earlier infractions for the same period).
 * - **The set.** Each end-block ranks ready, unjailed validators whose operator keeps minSelfBond,
 *   by tokens (then address), takes maxValidators, with power = tokens / powerReduction, and
 *   returns the changes from the set it last returned: consensus applies them at height + 2. One
 *   block's changes move at most maxPowerChangePpm of the total power (at least 1), so that a big
 *   change spreads over successive blocks; removing a jailed or tombstoned validator is not held
 *   back; the set never shrinks below minValidators.
 * - **Rewards.** Fees are paid into the fee collector; each begin-block shares what it holds among
 *   the validators that signed the previous block (header.lastCommit), by power, after the
 *   community tax to the treasury; a validator's operator takes its commission, and its delegators
 *   the rest through a reward-per-share accumulator: O(validators) per block, O(1) per delegator
 *   when it withdraws. Amounts round down; the remainders stay in the staking account.
 * - **Punishment.** Downtime: a validator that missed more than (1 − minSignedPpm) of the last
 *   signedBlocksWindow blocks is slashed slashDowntimePpm and jailed for downtimeJailBlocks.
 *   Double-signing (evidence: two conflicting signed consensus messages) is slashed
 *   slashDoubleSignPpm, jailed and tombstoned: never again in the set. Slashed GEN is burned.
 *
 * A chain whose genesis has no `modules.staking` section keeps the validator set of its genesis
 * file: every staking transaction fails with STAKING_DISABLED and the hooks do nothing.
 */
export class StakingModule implements Module {
  readonly name = 'staking';
  readonly methods = Object.values(StakingTx);
  readonly params = new ParamSpace({
    module: 'staking',
    fields: paramFields,
    defaults: STAKING_DEFAULTS,
    check: (p) => (p.minValidators > p.maxValidators ? 'minValidators must not exceed maxValidators' : p.maxValidators > p.maxCandidates ? 'maxValidators must not exceed maxCandidates' : undefined),
  });
  readonly queries: readonly QuerySpec[] = [
    { name: 'params', summary: 'The staking parameters', params: [] },
    { name: 'pool', summary: 'GEN bonded, unbonding and burned by slashes; the GEN supply; rewards waiting in the fee collector', params: [] },
    { name: 'validators', summary: 'Every registered validator: power, tokens, self-bond, commission, status, missed blocks, slashes', params: [] },
    { name: 'validator', summary: 'One validator', params: [{ name: 'address', type: 'address', description: "the validator's address (of its consensus key)", required: true }] },
    { name: 'delegations', summary: "A delegator's delegations: validator, shares, GEN they are worth, rewards to withdraw", params: [{ name: 'address', type: 'address', description: 'the delegator', required: true }] },
    { name: 'unbondings', summary: "A delegator's GEN waiting for the unbonding period: validator, amount, completion height", params: [{ name: 'address', type: 'address', description: 'the delegator', required: true }] },
    {
      name: 'roster',
      summary: "A permissioned chain's roster, in address order: each admitted validator's organisation, operator, keys and whether it is registered",
      params: [{ name: 'after', type: 'address', description: 'list validators after this one (the previous page’s `next`)' }],
    },
  ];

  constructor(private readonly deps: StakingDeps) {}

  /** Whether this chain's genesis enabled staking (else the genesis validator set is fixed). */
  enabled(state: StateReader): boolean {
    return asModule(state, this.name, () => state.getRaw(Keys.last) !== undefined);
  }

  /** The keeper governance is handed (StakingKeeper). */
  keeper(): StakingKeeper {
    return {
      enabled: (state) => this.enabled(state),
      bonded: (state) =>
        asModule(state, this.name, () =>
          this.lastPowers(state).map(({ address }) => {
            const v = this.validator(state, address)!;
            return { address, operator: v.operator, tokens: v.tokens, shares: v.shares };
          }),
        ),
      delegationsOf: (state, delegator) =>
        asModule(state, this.name, () => this.delegatedTo(state, delegator).map((validator) => ({ validator, shares: this.delegation(state, validator, delegator)?.shares ?? 0n }))),
      permissioned: (state) => asModule(state, this.name, () => this.permissioned(state)),
      rosterProblem: (state, change) => asModule(state, this.name, () => this.rosterProblem(state, change)),
      changeRoster: (ctx, change) => asModule(ctx.state, this.name, () => this.changeRoster(ctx, change)),
    };
  }

  // ---- The roster (a permissioned chain) ----

  /** Whether the chain's genesis made it permissioned (only validators on the roster may bond). */
  permissioned(state: StateReader): boolean {
    return state.getRaw(Keys.permissioned) !== undefined;
  }

  rosterEntry(state: StateReader, address: Uint8Array): RosterEntry | undefined {
    const b = state.getRaw(Keys.rosterEntry(address));
    return b && decodeRosterEntry(b);
  }

  /** Whether `address` may be in the set: any validator on an open chain, one on the roster on a permissioned one. */
  private admitted(state: StateReader, address: Uint8Array): boolean {
    return !this.permissioned(state) || state.getRaw(Keys.rosterEntry(address)) !== undefined;
  }

  private rosterProblem(state: StateReader, c: RosterChange): { code: string; message: string } | undefined {
    if (!this.enabled(state) || !this.permissioned(state)) return { code: E.NotPermissioned, message: 'this chain is open (its genesis is not permissioned): it has no roster; any validator that bonds enough may validate' };
    if (c.kind === 'remove') return this.rosterEntry(state, c.address) ? undefined : { code: E.NotOnRoster, message: `${fmt(c.address)} is not on the roster` };
    const address = addressFromPublicKey(c.publicKey);
    const nameBytes = Buffer.byteLength(c.organisation, 'utf8');
    if (nameBytes === 0 || nameBytes > MAX_ORGANISATION) return { code: E.InvalidRosterEntry, message: `the organisation's name has 1 to ${MAX_ORGANISATION} bytes of UTF-8` };
    if (this.rosterEntry(state, address)) return { code: E.AlreadyOnRoster, message: `${fmt(address)} is already on the roster` };
    if (!verifyBlsPossession(c.blsPublicKey, c.proofOfPossession)) return { code: E.BadPossession, message: 'the proof of possession is not a signature of the BLS key over itself' };
    const holder = state.getRaw(Keys.bls(c.blsPublicKey));
    if (holder && !equalBytes(holder, address)) return { code: E.BlsKeyInUse, message: `this BLS key is ${fmt(holder)}'s` };
    const v = this.validator(state, address);
    if (v && (!equalBytes(v.operator, c.operator) || !equalBytes(v.blsPublicKey, c.blsPublicKey))) {
      return { code: E.RosterMismatch, message: `${fmt(address)} was a validator with operator ${fmt(v.operator)} and another BLS key or operator: re-admit it with the same ones` };
    }
    return undefined;
  }

  /**
   * Adds an organisation's validator to the roster (it may then create_validator, or, if it was a
   * validator before, rejoin the set), or removes one: it leaves the set at the next end-block (not
   * held back by maxPowerChangePpm, as a jailed one) and its operator's self-bond is unbonded
   * (paid out after unbondingBlocks); its delegators' stake stays until they move it.
   */
  private changeRoster(ctx: ExecContext, c: RosterChange): void {
    const problem = this.rosterProblem(ctx.state, c);
    if (problem) throw new TxError(problem.code, problem.message);
    if (c.kind === 'add') {
      const address = addressFromPublicKey(c.publicKey);
      ctx.state.setRaw(Keys.rosterEntry(address), encodeRosterEntry({ organisation: c.organisation, operator: c.operator, publicKey: c.publicKey, blsPublicKey: c.blsPublicKey, addedHeight: ctx.block.height }));
      ctx.emit(ev('roster_added', [['validator', fmt(address)], ['organisation', c.organisation], ['operator', fmt(c.operator)]]));
      return;
    }
    const entry = this.rosterEntry(ctx.state, c.address)!;
    ctx.state.setRaw(Keys.rosterEntry(c.address), null);
    const v = this.validator(ctx.state, c.address);
    let unbonded = 0n;
    if (v) {
      const self = this.delegation(ctx.state, c.address, v.operator);
      if (self && self.shares > 0n) unbonded = this.startUnbonding(ctx, c.address, v, v.operator, this.tokensOf(v, this.settle(self, v).shares), this.unbondingsOf(ctx.state, c.address));
    }
    ctx.emit(ev('roster_removed', [['validator', fmt(c.address)], ['organisation', entry.organisation], ['selfBondUnbonded', unbonded.toString()]]));
  }

  /** Whether `address` is a validator that has yet to declare itself ready (what node/duties.ts watches for). */
  awaitsReady(state: StateReader, address: Uint8Array): boolean {
    const v = this.validator(state, address);
    return v !== undefined && !v.ready && !v.tombstoned;
  }

  /** Whether evidence against `sender` at `height` would still punish it (it was a validator then, is not tombstoned, and none was taken for that height). */
  takesEvidence(state: StateReader, sender: Uint8Array, height: number): boolean {
    const v = this.validator(state, sender);
    return v !== undefined && !v.tombstoned && height >= v.createdHeight && state.getRaw(Keys.evidence(sender, height)) === undefined;
  }

  // ---- Genesis ----

  /** The section with the defaults spelled out, which `init` and `testnet` write: staking on. */
  defaultGenesis(): StakingGenesis {
    return { params: this.params.genesisDefaults() };
  }

  private genesisParams(config: unknown): Partial<Record<ParamName, bigint>> {
    return this.params.fromGenesis(stakingGenesisSchema.parse(config).params);
  }

  validateGenesis(config: unknown): void {
    if (config === undefined) return;
    const bad = this.params.genesisProblem(this.genesisParams(config));
    if (bad) throw new Error(bad);
  }

  /**
   * With a staking section: the parameters, and every genesis validator bonded as its own
   * operator, its self-bond (power × powerReduction GEN) minted into the staking account.
   */
  initGenesis(ctx: ExecContext, config: unknown): void {
    if (config === undefined) return;
    this.params.init(ctx, this.genesisParams(config));
    const set = ctx.block.lastValidators;
    if (!set) throw new VmError(VmErrorCode.InvalidGenesis, 'staking needs the genesis validator set');
    const p = this.params.get(ctx.state);
    const powers: { address: Uint8Array; power: bigint }[] = [];
    for (const [i, v] of set.validators.entries()) {
      const tokens = v.power * p.powerReduction;
      this.deps.bonded.mint(ctx, GEN, tokens);
      this.putValidator(ctx, v.address, {
        operator: v.address,
        publicKey: v.publicKey,
        blsPublicKey: v.blsPublicKey,
        moniker: `genesis-${i}`,
        commissionPpm: 0n,
        tokens,
        shares: tokens,
        ready: true,
        jailedUntil: 0,
        jailed: false,
        tombstoned: false,
        rewardPerShare: 0n,
        commissionOwed: 0n,
        createdHeight: 0,
        slashes: [],
      });
      ctx.state.setRaw(Keys.bls(v.blsPublicKey), v.address);
      this.putDelegation(ctx, v.address, v.address, { shares: tokens, entry: 0n, owed: 0n });
      powers.push({ address: v.address, power: v.power });
    }
    ctx.state.setRaw(Keys.candidates, encodeAddresses(set.validators.map((v) => v.address)));
    ctx.state.setRaw(Keys.last, encodePowers(powers));
    if (stakingGenesisSchema.parse(config).permissioned) {
      ctx.state.setRaw(Keys.permissioned, Uint8Array.of(1));
      for (const [i, v] of set.validators.entries()) {
        ctx.state.setRaw(Keys.rosterEntry(v.address), encodeRosterEntry({ organisation: `genesis-${i}`, operator: v.address, publicKey: v.publicKey, blsPublicKey: v.blsPublicKey, addedHeight: 0 }));
      }
    }
  }

  // ---- Records ----

  validator(state: StateReader, address: Uint8Array): ValidatorRecord | undefined {
    const b = state.getRaw(Keys.validator(address));
    return b && decodeValidator(b);
  }

  private putValidator(ctx: ExecContext, address: Uint8Array, v: ValidatorRecord): void {
    ctx.state.setRaw(Keys.validator(address), encodeValidator(v));
  }

  candidates(state: StateReader): Uint8Array[] {
    const b = state.getRaw(Keys.candidates);
    return b ? decodeAddresses(b, 'candidates') : [];
  }

  delegation(state: StateReader, validator: Uint8Array, delegator: Uint8Array): Delegation | undefined {
    const b = state.getRaw(Keys.delegation(validator, delegator));
    return b && decodeDelegation(b);
  }

  private delegatedTo(state: StateReader, delegator: Uint8Array): Uint8Array[] {
    const b = state.getRaw(Keys.delegations(delegator));
    return b ? decodeAddresses(b, 'delegations') : [];
  }

  /** Writes a delegation (an empty one, no shares and nothing owed, is deleted) and keeps the delegator's list of validators. */
  private putDelegation(ctx: ExecContext, validator: Uint8Array, delegator: Uint8Array, d: Delegation): void {
    const list = this.delegatedTo(ctx.state, delegator);
    const at = list.findIndex((a) => equalBytes(a, validator));
    if (d.shares === 0n && d.owed === 0n) {
      ctx.state.setRaw(Keys.delegation(validator, delegator), null);
      if (at >= 0) {
        list.splice(at, 1);
        ctx.state.setRaw(Keys.delegations(delegator), list.length ? encodeAddresses(list) : null);
      }
      return;
    }
    if (at < 0) {
      if (list.length >= MAX_DELEGATIONS_PER_DELEGATOR) throw new TxError(E.TooManyDelegations, `a delegator may delegate to at most ${MAX_DELEGATIONS_PER_DELEGATOR} validators`);
      list.push(validator);
      list.sort(compareBytes);
      ctx.state.setRaw(Keys.delegations(delegator), encodeAddresses(list));
    }
    ctx.state.setRaw(Keys.delegation(validator, delegator), encodeDelegation(d));
  }

  /** Moves what the delegation earned since it was last settled into `owed`. */
  private settle(d: Delegation, v: ValidatorRecord): Delegation {
    return { shares: d.shares, entry: v.rewardPerShare, owed: d.owed + (d.shares * (v.rewardPerShare - d.entry)) / REWARD_SCALE };
  }

  /** GEN that `shares` of `v` are worth (rounded down). */
  tokensOf(v: ValidatorRecord, shares: bigint): bigint {
    return v.shares === 0n ? 0n : (shares * v.tokens) / v.shares;
  }

  selfBond(state: StateReader, address: Uint8Array, v: ValidatorRecord): bigint {
    const d = this.delegation(state, address, v.operator);
    return d ? this.tokensOf(v, d.shares) : 0n;
  }

  private requireEnabled(state: StateReader): void {
    if (!this.enabled(state)) throw new TxError(E.Disabled, "this chain's genesis has no staking section: its validator set is fixed");
  }

  private requireValidator(state: StateReader, address: Uint8Array): ValidatorRecord {
    const v = this.validator(state, address);
    if (!v) throw new TxError(E.UnknownValidator, `${fmt(address)} is not a validator`);
    return v;
  }

  // ---- Transactions ----

  decodePayload(method: string, payload: Uint8Array): StakingArgs {
    let a: StakingArgs;
    try {
      a = decodeStaking(method, payload);
    } catch (e) {
      throw new TxError(E.InvalidPayload, `bad staking.${method} payload: ${(e as Error).message}`);
    }
    if (a.method === 'create_validator') {
      if (a.args.commissionPpm > PPM) throw new TxError(E.CommissionTooHigh, `commission is at most ${PPM} ppm (100%), not ${a.args.commissionPpm}`);
      if (a.args.selfBond === 0n) throw new TxError(E.ZeroAmount, 'the self-bond must be positive');
    }
    if ((a.method === 'delegate' || a.method === 'undelegate' || a.method === 'redelegate') && a.args.amount === 0n) throw new TxError(E.ZeroAmount, 'the amount must be positive');
    if (a.method === 'redelegate' && equalBytes(a.args.src, a.args.dst)) throw new TxError(E.SameValidator, 'a redelegation moves stake to another validator');
    return a;
  }

  addressesOf(_method: string, args: unknown): Uint8Array[] {
    const a = args as StakingArgs;
    switch (a.method) {
      case 'create_validator':
        return [addressFromPublicKey(a.args.publicKey)];
      case 'delegate':
      case 'undelegate':
      case 'withdraw':
      case 'unjail':
        return [a.args.validator];
      case 'redelegate':
        return [a.args.src, a.args.dst];
      case 'evidence':
        return [a.args.sender];
      default:
        return [];
    }
  }

  describePayload(method: string, payload: Uint8Array): Record<string, string> | undefined {
    let a: StakingArgs;
    try {
      a = decodeStaking(method, payload);
    } catch {
      return undefined;
    }
    switch (a.method) {
      case 'create_validator':
        return { validator: fmt(addressFromPublicKey(a.args.publicKey)), moniker: a.args.moniker, commissionPpm: a.args.commissionPpm.toString(), selfBond: a.args.selfBond.toString(), blsPublicKey: toHex(a.args.blsPublicKey) };
      case 'ready':
        return {};
      case 'delegate':
      case 'undelegate':
        return { validator: fmt(a.args.validator), amount: a.args.amount.toString() };
      case 'redelegate':
        return { src: fmt(a.args.src), dst: fmt(a.args.dst), amount: a.args.amount.toString() };
      case 'withdraw':
      case 'unjail':
        return { validator: fmt(a.args.validator) };
      case 'evidence':
        return { validator: fmt(a.args.sender), type: String(a.args.type) };
    }
  }

  deliverTx(ctx: TxContext, _method: string, args: unknown): void {
    this.requireEnabled(ctx.state);
    const a = args as StakingArgs;
    switch (a.method) {
      case 'create_validator':
        return this.createValidator(ctx, a.args);
      case 'ready':
        return this.ready(ctx);
      case 'delegate':
        return this.delegate(ctx, a.args);
      case 'undelegate':
        return this.undelegate(ctx, a.args);
      case 'redelegate':
        return this.redelegate(ctx, a.args);
      case 'withdraw':
        return this.withdraw(ctx, a.args.validator);
      case 'unjail':
        return this.unjail(ctx, a.args.validator);
      case 'evidence':
        return this.evidence(ctx, a.args);
    }
  }

  private createValidator(ctx: TxContext, a: CreateValidatorArgs): void {
    const p = this.params.get(ctx.state);
    const address = addressFromPublicKey(a.publicKey);
    if (this.validator(ctx.state, address)) throw new TxError(E.ValidatorExists, `${fmt(address)} is already a validator`);
    if (this.permissioned(ctx.state)) {
      const r = this.rosterEntry(ctx.state, address);
      if (!r) throw new TxError(E.NotOnRoster, `this chain is permissioned and ${fmt(address)} is not on its roster: a governance proposal (gov propose roster-add) must admit it first`);
      if (!equalBytes(r.operator, ctx.sender)) throw new TxError(E.RosterMismatch, `the roster names ${fmt(r.operator)} as the operator of ${fmt(address)}: send create_validator from that account`);
      if (!equalBytes(r.blsPublicKey, a.blsPublicKey)) throw new TxError(E.RosterMismatch, `the BLS key is not the one the roster holds for ${fmt(address)}`);
    }
    if (ctx.state.getRaw(Keys.bls(a.blsPublicKey))) throw new TxError(E.BlsKeyInUse, 'this BLS key is already a validator’s');
    if (!verifyBlsPossession(a.blsPublicKey, a.proofOfPossession)) throw new TxError(E.BadPossession, 'the proof of possession is not a signature of the BLS key over itself');
    if (a.selfBond < p.minSelfBond) throw new TxError(E.SelfBondTooLow, `the self-bond ${a.selfBond} is below minSelfBond ${p.minSelfBond} (GEN base units)`);
    const candidates = this.candidates(ctx.state);
    if (BigInt(candidates.length) >= p.maxCandidates) throw new TxError(E.TooManyCandidates, `the chain has its most registered validators (maxCandidates ${p.maxCandidates})`);
    const v: ValidatorRecord = {
      operator: ctx.sender,
      publicKey: a.publicKey,
      blsPublicKey: a.blsPublicKey,
      moniker: a.moniker,
      commissionPpm: a.commissionPpm,
      tokens: 0n,
      shares: 0n,
      ready: false,
      jailedUntil: 0,
      jailed: false,
      tombstoned: false,
      rewardPerShare: 0n,
      commissionOwed: 0n,
      createdHeight: ctx.block.height,
      slashes: [],
    };
    candidates.push(address);
    candidates.sort(compareBytes);
    ctx.state.setRaw(Keys.candidates, encodeAddresses(candidates));
    ctx.state.setRaw(Keys.bls(a.blsPublicKey), address);
    ctx.emit(ev('validator_created', [['validator', fmt(address)], ['operator', fmt(ctx.sender)], ['moniker', a.moniker], ['commissionPpm', a.commissionPpm.toString()]]));
    this.bond(ctx, address, v, ctx.sender, a.selfBond);
  }

  /** Bonds `amount` GEN of `delegator` to validator `address` (record `v`, written here). */
  private bond(ctx: ExecContext, address: Uint8Array, v: ValidatorRecord, delegator: Uint8Array, amount: bigint): void {
    if (v.shares > 0n && v.tokens === 0n) throw new TxError(E.Tombstoned, `${fmt(address)} has no stake left to delegate to`);
    this.deps.bonded.transfer(ctx, delegator, this.deps.bonded.account, GEN, amount);
    const shares = this.addShares(ctx, address, v, delegator, amount);
    ctx.emit(ev('delegated', [['validator', fmt(address)], ['delegator', fmt(delegator)], ['amount', amount.toString()], ['shares', shares.toString()]]));
  }

  /**
   * Adds `tokens` GEN (already in the staking account) to validator `address` as shares of
   * `delegator`, settling its rewards first; writes both records and returns the shares.
   */
  private addShares(ctx: ExecContext, address: Uint8Array, v: ValidatorRecord, delegator: Uint8Array, tokens: bigint): bigint {
    const shares = v.shares === 0n ? tokens : (tokens * v.shares) / v.tokens;
    const before = this.delegation(ctx.state, address, delegator);
    const d = before ? this.settle(before, v) : { shares: 0n, entry: v.rewardPerShare, owed: 0n };
    d.shares += shares;
    v.tokens += tokens;
    v.shares += shares;
    this.putValidator(ctx, address, v);
    this.putDelegation(ctx, address, delegator, d);
    return shares;
  }

  /**
   * Takes `shares` of settled delegation `d` off validator `address`; writes both records and
   * returns the GEN they were worth (the last shares out take whatever rounding left behind).
   */
  private removeShares(ctx: ExecContext, address: Uint8Array, v: ValidatorRecord, delegator: Uint8Array, d: Delegation, shares: bigint): bigint {
    const tokens = shares === v.shares ? v.tokens : (shares * v.tokens) / v.shares;
    d.shares -= shares;
    v.shares -= shares;
    v.tokens -= tokens;
    this.putValidator(ctx, address, v);
    this.putDelegation(ctx, address, delegator, d);
    return tokens;
  }

  private ready(ctx: TxContext): void {
    const v = this.validator(ctx.state, ctx.sender);
    if (!v) throw new TxError(E.NotConsensusKey, `${fmt(ctx.sender)} is not a validator's consensus key: send staking.ready signed by the validator's Ed25519 key`);
    if (v.ready) throw new TxError(E.AlreadyReady, `${fmt(ctx.sender)} has already declared itself ready`);
    v.ready = true;
    this.putValidator(ctx, ctx.sender, v);
    ctx.emit(ev('ready', [['validator', fmt(ctx.sender)]]));
  }

  private delegate(ctx: TxContext, a: DelegateArgs): void {
    const v = this.requireValidator(ctx.state, a.validator);
    if (v.tombstoned) throw new TxError(E.Tombstoned, `${fmt(a.validator)} is tombstoned (it double-signed): it takes no more delegations`);
    if (!this.admitted(ctx.state, a.validator)) throw new TxError(E.NotOnRoster, `${fmt(a.validator)} was removed from the roster: it takes no more delegations`);
    this.bond(ctx, a.validator, v, ctx.sender, a.amount);
  }

  /**
   * Takes `amount` GEN worth of the sender's shares off validator `address` (all of them when it
   * asks for all they are worth or more than they are worth by rounding); returns the GEN they
   * were worth, which has left the validator's tokens. The validator record is written.
   */
  private unbondShares(ctx: ExecContext, address: Uint8Array, v: ValidatorRecord, delegator: Uint8Array, amount: bigint): bigint {
    const before = this.delegation(ctx.state, address, delegator);
    if (!before || before.shares === 0n) throw new TxError(E.NoDelegation, `${fmt(delegator)} has no stake with ${fmt(address)}`);
    const d = this.settle(before, v);
    const worth = this.tokensOf(v, d.shares);
    if (amount > worth) throw new TxError(E.InsufficientBond, `${fmt(delegator)} has ${worth} GEN base units bonded to ${fmt(address)}, less than ${amount}`);
    const wanted = amount === worth || v.tokens === 0n ? d.shares : ceilDiv(amount * v.shares, v.tokens);
    return this.removeShares(ctx, address, v, delegator, d, wanted > d.shares ? d.shares : wanted);
  }

  private entriesFull(count: number, what: string): void {
    if (count >= MAX_ENTRIES) throw new TxError(E.TooManyEntries, `at most ${MAX_ENTRIES} ${what} may wait at once for one delegator and validator`);
  }

  private undelegate(ctx: TxContext, a: DelegateArgs): void {
    const v = this.requireValidator(ctx.state, a.validator);
    const list = this.unbondingsOf(ctx.state, a.validator);
    this.entriesFull(list.filter((e) => equalBytes(e.delegator, ctx.sender)).length, 'unbondings');
    this.startUnbonding(ctx, a.validator, v, ctx.sender, a.amount, list);
  }

  /**
   * Unbonds `amount` GEN of `delegator`'s stake with validator `address` (its unbonding list
   * `list`): the GEN moves to the unbonding account and is paid out after unbondingBlocks.
   * Returns the GEN unbonded.
   */
  private startUnbonding(ctx: ExecContext, address: Uint8Array, v: ValidatorRecord, delegator: Uint8Array, amount: bigint, list: UnbondingEntry[]): bigint {
    const p = this.params.get(ctx.state);
    const tokens = this.unbondShares(ctx, address, v, delegator, amount);
    const completion = ctx.block.height + Number(p.unbondingBlocks);
    if (tokens > 0n) this.deps.bonded.transfer(ctx, this.deps.bonded.account, this.deps.unbonding.account, GEN, tokens);
    list.push({ delegator, amount: tokens, creation: ctx.block.height, completion });
    ctx.state.setRaw(Keys.unbondings(address), encodeUnbondings(list));
    this.enqueue(ctx, Keys.unbondingQueue(completion), address);
    ctx.emit(ev('undelegated', [['validator', fmt(address)], ['delegator', fmt(delegator)], ['amount', tokens.toString()], ['completion', String(completion)]]));
    return tokens;
  }

  private redelegate(ctx: TxContext, a: RedelegateArgs): void {
    const src = this.requireValidator(ctx.state, a.src);
    const dst = this.requireValidator(ctx.state, a.dst);
    if (dst.tombstoned) throw new TxError(E.Tombstoned, `${fmt(a.dst)} is tombstoned (it double-signed): it takes no more delegations`);
    if (!this.admitted(ctx.state, a.dst)) throw new TxError(E.NotOnRoster, `${fmt(a.dst)} was removed from the roster: it takes no more delegations`);
    const p = this.params.get(ctx.state);
    const list = this.redelegationsOf(ctx.state, a.src);
    this.entriesFull(list.filter((e) => equalBytes(e.delegator, ctx.sender)).length, 'redelegations');
    const tokens = this.unbondShares(ctx, a.src, src, ctx.sender, a.amount);
    if (tokens === 0n) throw new TxError(E.InsufficientBond, 'those shares are worth no GEN');
    // The GEN stays in the staking account: only the records move.
    const dstNow = this.validator(ctx.state, a.dst)!;
    if (dstNow.shares > 0n && dstNow.tokens === 0n) throw new TxError(E.Tombstoned, `${fmt(a.dst)} has no stake left to delegate to`);
    const shares = this.addShares(ctx, a.dst, dstNow, ctx.sender, tokens);
    const completion = ctx.block.height + Number(p.unbondingBlocks);
    list.push({ delegator: ctx.sender, dst: a.dst, shares, creation: ctx.block.height, completion });
    ctx.state.setRaw(Keys.redelegations(a.src), encodeRedelegations(list));
    this.enqueue(ctx, Keys.redelegationQueue(completion), a.src);
    ctx.emit(ev('redelegated', [['src', fmt(a.src)], ['dst', fmt(a.dst)], ['delegator', fmt(ctx.sender)], ['amount', tokens.toString()], ['completion', String(completion)]]));
  }

  private withdraw(ctx: TxContext, address: Uint8Array): void {
    const v = this.requireValidator(ctx.state, address);
    let paid = 0n;
    const before = this.delegation(ctx.state, address, ctx.sender);
    if (before) {
      const d = this.settle(before, v);
      paid += d.owed;
      d.owed = 0n;
      this.putDelegation(ctx, address, ctx.sender, d);
    }
    let commission = 0n;
    if (equalBytes(v.operator, ctx.sender) && v.commissionOwed > 0n) {
      commission = v.commissionOwed;
      v.commissionOwed = 0n;
      this.putValidator(ctx, address, v);
    }
    if (paid + commission === 0n) throw new TxError(E.NothingToWithdraw, `${fmt(ctx.sender)} has no rewards to withdraw from ${fmt(address)}`);
    this.deps.bonded.transfer(ctx, this.deps.bonded.account, ctx.sender, FEE_ASSET, paid + commission);
    ctx.emit(ev('rewards_withdrawn', [['validator', fmt(address)], ['delegator', fmt(ctx.sender)], ['rewards', paid.toString()], ['commission', commission.toString()]]));
  }

  private unjail(ctx: TxContext, address: Uint8Array): void {
    const v = this.requireValidator(ctx.state, address);
    if (!equalBytes(v.operator, ctx.sender)) throw new TxError(E.NotOperator, `only ${fmt(v.operator)}, the operator of ${fmt(address)}, may unjail it`);
    if (v.tombstoned) throw new TxError(E.Tombstoned, `${fmt(address)} is tombstoned (it double-signed): it can never be unjailed`);
    if (!v.jailed) throw new TxError(E.NotJailed, `${fmt(address)} is not jailed`);
    if (ctx.block.height < v.jailedUntil) throw new TxError(E.JailNotOver, `${fmt(address)} is jailed until height ${v.jailedUntil} (now ${ctx.block.height})`);
    const p = this.params.get(ctx.state);
    const self = this.selfBond(ctx.state, address, v);
    if (self < p.minSelfBond) throw new TxError(E.SelfBondTooLow, `the self-bond ${self} is below minSelfBond ${p.minSelfBond}: bond more first`);
    v.jailed = false;
    v.jailedUntil = 0;
    this.putValidator(ctx, address, v);
    this.resetSigning(ctx, address);
    ctx.emit(ev('unjailed', [['validator', fmt(address)]]));
  }

  private evidence(ctx: TxContext, e: DuplicateVoteEvidence): void {
    const v = this.validator(ctx.state, e.sender);
    if (!v) throw new TxError(E.UnknownValidator, `${fmt(e.sender)} is not a validator`);
    const checked = checkDuplicateVote(ctx.block.chainId, e, v.publicKey);
    if ('invalid' in checked) throw new TxError(E.InvalidEvidence, `the evidence is not valid: ${checked.invalid}`);
    const p = this.params.get(ctx.state);
    if (checked.height >= ctx.block.height) throw new TxError(E.EvidenceFromFuture, `the evidence is for height ${checked.height}, not below the current ${ctx.block.height}`);
    if (BigInt(ctx.block.height - checked.height) > p.evidenceMaxAgeBlocks) throw new TxError(E.EvidenceTooOld, `the evidence is from height ${checked.height}, more than evidenceMaxAgeBlocks (${p.evidenceMaxAgeBlocks}) ago`);
    if (checked.height < v.createdHeight) throw new TxError(E.InvalidEvidence, `${fmt(e.sender)} was created at height ${v.createdHeight}, after the evidence's height ${checked.height}`);
    if (v.tombstoned) throw new TxError(E.EvidenceDone, `${fmt(e.sender)} is already tombstoned: it is never punished twice`);
    const key = Keys.evidence(e.sender, checked.height);
    if (ctx.state.getRaw(key)) throw new TxError(E.EvidenceDone, `evidence against ${fmt(e.sender)} at height ${checked.height} was already handled`);
    ctx.state.setRaw(key, rlpUint(1));
    const burned = this.slash(ctx, e.sender, v, checked.height, p.slashDoubleSignPpm, 'double_sign');
    v.jailed = true;
    v.tombstoned = true;
    v.jailedUntil = 0;
    this.putValidator(ctx, e.sender, v);
    ctx.emit(ev('jailed', [['validator', fmt(e.sender)], ['reason', 'double_sign'], ['height', String(checked.height)], ['round', String(checked.round)], ['burned', burned.toString()], ['tombstoned', 'true']]));
  }

  // ---- Slashing ----

  /**
   * Burns `ppm` of what validator `address` had at stake at `infraction`: of its tokens now, of
   * each unbonding that started at or after it, and of each redelegation from it that did (taken
   * from the shares at the destination, at most what remains there). Writes `v` (the caller may
   * change it further and write it again); returns the GEN burned.
   */
  private slash(ctx: ExecContext, address: Uint8Array, v: ValidatorRecord, infraction: number, ppm: bigint, kind: SlashKind): bigint {
    let burned = 0n;
    const fromBond = (v.tokens * ppm) / PPM;
    v.tokens -= fromBond;
    burned += fromBond;
    this.deps.bonded.burn(ctx, GEN, fromBond);
    const unbondings = this.unbondingsOf(ctx.state, address);
    let fromUnbonding = 0n;
    for (const u of unbondings) {
      if (u.creation < infraction) continue;
      const cut = (u.amount * ppm) / PPM;
      u.amount -= cut;
      fromUnbonding += cut;
    }
    if (fromUnbonding > 0n) {
      ctx.state.setRaw(Keys.unbondings(address), encodeUnbondings(unbondings));
      this.deps.unbonding.burn(ctx, GEN, fromUnbonding);
      burned += fromUnbonding;
    }
    this.putValidator(ctx, address, v);
    const redelegations = this.redelegationsOf(ctx.state, address);
    let touched = false;
    for (const r of redelegations) {
      if (r.creation < infraction) continue;
      const dst = this.validator(ctx.state, r.dst);
      const held = this.delegation(ctx.state, r.dst, r.delegator);
      if (!dst || !held) continue;
      let shares = (r.shares * ppm) / PPM;
      if (shares > held.shares) shares = held.shares;
      if (shares === 0n) continue;
      const tokens = this.removeShares(ctx, r.dst, dst, r.delegator, this.settle(held, dst), shares);
      r.shares -= shares;
      touched = true;
      this.deps.bonded.burn(ctx, GEN, tokens);
      burned += tokens;
    }
    if (touched) ctx.state.setRaw(Keys.redelegations(address), encodeRedelegations(redelegations));
    v.slashes = [...v.slashes, { height: infraction, kind, burned }].slice(-SLASH_HISTORY);
    this.putValidator(ctx, address, v);
    const total = this.burned(ctx.state) + burned;
    ctx.state.setRaw(Keys.burned, rlpUint(total));
    ctx.emit(ev('slashed', [['validator', fmt(address)], ['reason', kind], ['infractionHeight', String(infraction)], ['ppm', ppm.toString()], ['burned', burned.toString()]]));
    return burned;
  }

  burned(state: StateReader): bigint {
    const b = state.getRaw(Keys.burned);
    return b === undefined ? 0n : asRlpUint(b, 'staking burned');
  }

  // ---- Queues ----

  unbondingsOf(state: StateReader, validator: Uint8Array) {
    const b = state.getRaw(Keys.unbondings(validator));
    return b ? decodeUnbondings(b) : [];
  }

  redelegationsOf(state: StateReader, validator: Uint8Array) {
    const b = state.getRaw(Keys.redelegations(validator));
    return b ? decodeRedelegations(b) : [];
  }

  private enqueue(ctx: ExecContext, key: string, address: Uint8Array): void {
    const b = ctx.state.getRaw(key);
    const list = b ? decodeAddresses(b, 'queue') : [];
    if (list.some((a) => equalBytes(a, address))) return;
    list.push(address);
    ctx.state.setRaw(key, encodeAddresses(list));
  }

  /** Pays out the unbondings that complete at this height and forgets the redelegations whose slashable period ends. */
  private completeQueues(ctx: ExecContext): void {
    const h = ctx.block.height;
    const uq = ctx.state.getRaw(Keys.unbondingQueue(h));
    if (uq) {
      ctx.state.setRaw(Keys.unbondingQueue(h), null);
      for (const validator of decodeAddresses(uq, 'queue')) {
        const list = this.unbondingsOf(ctx.state, validator);
        const keep = [];
        for (const u of list) {
          if (u.completion > h) {
            keep.push(u);
            continue;
          }
          if (u.amount > 0n) this.deps.unbonding.transfer(ctx, this.deps.unbonding.account, u.delegator, GEN, u.amount);
          ctx.emit(ev('unbonding_completed', [['validator', fmt(validator)], ['delegator', fmt(u.delegator)], ['amount', u.amount.toString()]]));
        }
        ctx.state.setRaw(Keys.unbondings(validator), keep.length ? encodeUnbondings(keep) : null);
      }
    }
    const rq = ctx.state.getRaw(Keys.redelegationQueue(h));
    if (rq) {
      ctx.state.setRaw(Keys.redelegationQueue(h), null);
      for (const src of decodeAddresses(rq, 'queue')) {
        const keep = this.redelegationsOf(ctx.state, src).filter((r) => r.completion > h);
        ctx.state.setRaw(Keys.redelegations(src), keep.length ? encodeRedelegations(keep) : null);
      }
    }
  }

  // ---- Block hooks ----

  beginBlock(ctx: ExecContext): void {
    if (!this.enabled(ctx.state)) return;
    const set = ctx.block.lastValidators;
    if (!set || ctx.block.height <= 1) return;
    const signers = new Set((ctx.block.lastCommitSigners ?? []).map((a) => toKey(a)));
    if (signers.size === 0) return;
    this.distribute(ctx, set.validators, signers);
    this.trackLiveness(ctx, set.validators, signers);
  }

  /** Shares the fee collector's NEX among the previous block's signers, by power (see the class comment). */
  private distribute(ctx: ExecContext, set: readonly { address: Uint8Array; power: bigint }[], signers: Set<string>): void {
    const total = this.deps.bonded.balance(ctx.state, this.deps.feeCollector, FEE_ASSET);
    if (total === 0n) return;
    const p = this.params.get(ctx.state);
    const tax = (total * p.communityTaxPpm) / PPM;
    const pot = total - tax;
    const signed = set.filter((v) => signers.has(toKey(v.address)));
    const signedPower = signed.reduce((s, v) => s + v.power, 0n);
    let toStaking = 0n;
    for (const s of signed) {
      const portion = (pot * s.power) / signedPower;
      const v = this.validator(ctx.state, s.address);
      if (!v || portion === 0n || v.shares === 0n) continue;
      const commission = (portion * v.commissionPpm) / PPM;
      const rest = portion - commission;
      v.commissionOwed += commission;
      v.rewardPerShare += (rest * REWARD_SCALE) / v.shares;
      this.putValidator(ctx, s.address, v);
      toStaking += portion;
      ctx.emit(ev('reward', [['validator', fmt(s.address)], ['amount', portion.toString()], ['commission', commission.toString()]]));
    }
    if (toStaking > 0n) this.deps.bonded.transfer(ctx, this.deps.feeCollector, this.deps.bonded.account, FEE_ASSET, toStaking);
    const toTreasury = total - toStaking;
    if (toTreasury > 0n) this.deps.bonded.transfer(ctx, this.deps.feeCollector, this.deps.treasury, FEE_ASSET, toTreasury);
    ctx.emit(ev('rewards', [['total', total.toString()], ['communityTax', tax.toString()], ['toTreasury', toTreasury.toString()], ['signers', String(signed.length)]]));
  }

  /**
   * Records who signed the previous block (height h) in each validator's window (SigningInfo);
   * jails and slashes those that missed too many of the last signedBlocksWindow.
   */
  private trackLiveness(ctx: ExecContext, set: readonly { address: Uint8Array }[], signers: Set<string>): void {
    const p = this.params.get(ctx.state);
    const window = Number(p.signedBlocksWindow);
    const maxMissed = window - Number(ceilDiv(p.signedBlocksWindow * p.minSignedPpm, PPM));
    const h = ctx.block.height - 1;
    for (const { address } of set) {
      const v = this.validator(ctx.state, address);
      if (!v || v.jailed) continue;
      const stored = ctx.state.getRaw(Keys.signing(address));
      let info = stored ? decodeSigning(stored) : undefined;
      if (info && info.window !== window) {
        this.resetSigning(ctx, address);
        info = undefined;
      }
      let dirty = info === undefined;
      info ??= { start: h, window, missed: 0 };
      const slot = (h - info.start) % window;
      const chunkKey = Keys.signingChunk(address, Math.floor(slot / SIGNING_CHUNK_BITS));
      const bit = slot % SIGNING_CHUNK_BITS;
      const held = ctx.state.getRaw(chunkKey);
      const chunk = held ? copyBytes(held) : new Uint8Array(SIGNING_CHUNK_BITS / 8);
      const was = (chunk[bit >> 3]! >> (bit & 7)) & 1;
      const missed = signers.has(toKey(address)) ? 0 : 1;
      if (was !== missed) {
        chunk[bit >> 3] = chunk[bit >> 3]! ^ (1 << (bit & 7));
        ctx.state.setRaw(chunkKey, chunk.every((b) => b === 0) ? null : chunk);
        info.missed += missed - was;
        dirty = true;
      }
      if (h - info.start + 1 >= window && info.missed > maxMissed) {
        const burned = this.slash(ctx, address, v, h, p.slashDowntimePpm, 'downtime');
        v.jailed = true;
        v.jailedUntil = ctx.block.height + Number(p.downtimeJailBlocks);
        this.putValidator(ctx, address, v);
        this.resetSigning(ctx, address);
        ctx.emit(ev('jailed', [['validator', fmt(address)], ['reason', 'downtime'], ['missed', String(info.missed)], ['window', String(window)], ['until', String(v.jailedUntil)], ['burned', burned.toString()]]));
        continue;
      }
      if (dirty) ctx.state.setRaw(Keys.signing(address), encodeSigning(info));
    }
  }

  /** Forgets a validator's window (it joins the set again, or was jailed): ⌈window / chunk⌉ deletions at most. */
  private resetSigning(ctx: ExecContext, address: Uint8Array): void {
    const stored = ctx.state.getRaw(Keys.signing(address));
    if (!stored) return;
    const { window } = decodeSigning(stored);
    for (let c = 0; c * SIGNING_CHUNK_BITS < window; c++) if (ctx.state.getRaw(Keys.signingChunk(address, c))) ctx.state.setRaw(Keys.signingChunk(address, c), null);
    ctx.state.setRaw(Keys.signing(address), null);
  }

  /** The validators that should be in the set, with their power (before the per-block limit on change). */
  private wanted(state: StateReader, p: StakingParams): Map<string, { address: Uint8Array; power: bigint; v: ValidatorRecord }> {
    const ranked: { address: Uint8Array; power: bigint; v: ValidatorRecord }[] = [];
    for (const address of this.candidates(state)) {
      const v = this.validator(state, address)!;
      if (!v.ready || v.jailed || v.tombstoned || !this.admitted(state, address)) continue;
      const power = v.tokens / p.powerReduction;
      if (power === 0n || this.selfBond(state, address, v) < p.minSelfBond) continue;
      ranked.push({ address, power, v });
    }
    ranked.sort((a, b) => (a.power === b.power ? compareBytes(a.address, b.address) : a.power > b.power ? -1 : 1));
    return new Map(ranked.slice(0, Number(p.maxValidators)).map((r) => [toKey(r.address), r]));
  }

  endBlock(ctx: ExecContext): ValidatorUpdate[] {
    if (!this.enabled(ctx.state)) return [];
    this.completeQueues(ctx);
    const p = this.params.get(ctx.state);
    const last = decodePowers(ctx.state.getRaw(Keys.last)!);
    const want = this.wanted(ctx.state, p);
    const lastTotal = last.reduce((s, x) => s + x.power, 0n);
    let budget = (lastTotal * p.maxPowerChangePpm) / PPM;
    if (budget < 1n) budget = 1n;
    const next = new Map(last.map((x) => [toKey(x.address), x.power]));
    const changed = new Set<string>();
    const min = Number(p.minValidators);
    // A jailed, tombstoned or removed validator leaves at once; one that is no longer wanted steps down within the budget.
    const leaving: { address: Uint8Array; power: bigint; from: bigint }[] = [];
    for (const x of last) {
      const k = toKey(x.address);
      if (want.has(k)) continue;
      const v = this.validator(ctx.state, x.address);
      if (v && !v.jailed && !v.tombstoned && this.admitted(ctx.state, x.address)) {
        leaving.push({ address: x.address, power: 0n, from: x.power });
        continue;
      }
      if (next.size <= min) break;
      next.delete(k);
      changed.add(k);
    }
    const moves = [...want.values()].map((w) => ({ ...w, from: next.get(toKey(w.address)) ?? 0n }));
    // Then decreases, then increases, in address order, each as far as the budget goes.
    for (const w of [...leaving, ...moves.filter((m) => m.power < m.from)]) {
      if (budget === 0n) break;
      const step = w.from - w.power > budget ? budget : w.from - w.power;
      const k = toKey(w.address);
      if (step === w.from) {
        if (next.size <= min) continue;
        next.delete(k);
      } else next.set(k, w.from - step);
      budget -= step;
      changed.add(k);
    }
    for (const w of moves.filter((m) => m.power > m.from)) {
      if (budget === 0n) break;
      const step = w.power - w.from > budget ? budget : w.power - w.from;
      budget -= step;
      next.set(toKey(w.address), w.from + step);
      changed.add(toKey(w.address));
    }
    if (changed.size === 0) return [];
    const updates: ValidatorUpdate[] = [];
    const before = new Map(last.map((x) => [toKey(x.address), x.power]));
    /** Every address the old or the new set holds, by key. */
    const addresses = new Map([...last, ...moves].map((x) => [toKey(x.address), x.address]));
    for (const x of [...addresses.values()].sort(compareBytes)) {
      const k = toKey(x);
      if (!changed.has(k)) continue;
      const v = this.validator(ctx.state, x)!;
      const power = next.get(k) ?? 0n;
      if (!before.has(k)) this.resetSigning(ctx, x);
      updates.push({ publicKey: v.publicKey, blsPublicKey: v.blsPublicKey, power });
      ctx.emit(ev('power_changed', [['validator', fmt(x)], ['from', (before.get(k) ?? 0n).toString()], ['to', power.toString()], ['effectiveHeight', String(ctx.block.height + 2)]]));
    }
    const powers = [...next.entries()].map(([k, power]) => ({ address: addresses.get(k)!, power }));
    powers.sort((a, b) => compareBytes(a.address, b.address));
    ctx.state.setRaw(Keys.last, encodePowers(powers));
    return updates;
  }

  // ---- Queries ----

  /** The powers staking last handed to consensus (the set of the height after next). */
  lastPowers(state: StateReader): { address: Uint8Array; power: bigint }[] {
    const b = state.getRaw(Keys.last);
    return b ? decodePowers(b) : [];
  }

  status(state: StateReader, address: Uint8Array, v: ValidatorRecord, inSet: boolean): ValidatorStatus {
    if (v.tombstoned) return 'tombstoned';
    if (!this.admitted(state, address)) return inSet ? 'active' : 'removed';
    if (v.jailed) return 'jailed';
    if (inSet) return 'active';
    if (!v.ready) return 'pending';
    return this.selfBond(state, address, v) < this.params.get(state).minSelfBond ? 'unbonding' : 'inactive';
  }

  private validatorJson(state: StateReader, address: Uint8Array, v: ValidatorRecord, powers: Map<string, bigint>) {
    const p = this.params.get(state);
    const power = powers.get(toKey(address));
    const self = this.selfBond(state, address, v);
    const s = state.getRaw(Keys.signing(address));
    const info = s ? decodeSigning(s) : undefined;
    return {
      address: fmt(address),
      operator: fmt(v.operator),
      moniker: v.moniker,
      publicKey: toHex(v.publicKey),
      blsPublicKey: toHex(v.blsPublicKey),
      status: this.status(state, address, v, power !== undefined),
      power: (power ?? 0n).toString(),
      tokens: v.tokens.toString(),
      selfBond: self.toString(),
      delegated: (v.tokens - self).toString(),
      shares: v.shares.toString(),
      commissionPpm: v.commissionPpm.toString(),
      commissionOwed: v.commissionOwed.toString(),
      ready: v.ready,
      jailedUntil: v.jailedUntil,
      missedBlocks: info?.missed ?? 0,
      signedBlocksWindow: Number(p.signedBlocksWindow),
      createdHeight: v.createdHeight,
      slashes: v.slashes.map((x) => ({ height: x.height, kind: x.kind, burned: x.burned.toString() })),
    };
  }

  validatorInfo(ctx: QueryContext, address: Uint8Array): Record<string, unknown> {
    const v = this.validator(ctx.state, address);
    if (!v) return {};
    const { address: _a, power: _p, publicKey: _k, blsPublicKey: _b, ...rest } = this.validatorJson(ctx.state, address, v, new Map(this.lastPowers(ctx.state).map((x) => [toKey(x.address), x.power])));
    return rest;
  }

  account(ctx: QueryContext, address: Uint8Array): Record<string, unknown> {
    if (!this.enabled(ctx.state)) return {};
    return { delegations: this.query(ctx, 'delegations', { address }) };
  }

  query(ctx: QueryContext, path: string, params: unknown): unknown {
    const state = ctx.state;
    const address = (params as { address?: Uint8Array } | undefined)?.address;
    const powers = () => new Map(this.lastPowers(state).map((x) => [toKey(x.address), x.power]));
    switch (path) {
      case 'params':
        return { enabled: this.enabled(state), permissioned: this.permissioned(state), ...this.params.toJson(this.params.get(state)) };
      case 'pool': {
        let unbonding = 0n;
        for (const c of this.candidates(state)) for (const u of this.unbondingsOf(state, c)) unbonding += u.amount;
        return {
          bonded: this.deps.bonded.balance(state, this.deps.bonded.account, GEN).toString(),
          unbonding: unbonding.toString(),
          burned: this.burned(state).toString(),
          supply: this.deps.bonded.supply(state, GEN).toString(),
          feeCollector: { address: fmt(this.deps.feeCollector), NEX: this.deps.bonded.balance(state, this.deps.feeCollector, FEE_ASSET).toString() },
          treasury: { address: fmt(this.deps.treasury), NEX: this.deps.bonded.balance(state, this.deps.treasury, FEE_ASSET).toString() },
        };
      }
      case 'validators': {
        const inSet = powers();
        return this.candidates(state).map((a) => this.validatorJson(state, a, this.validator(state, a)!, inSet));
      }
      case 'validator': {
        const v = this.validator(state, address!);
        if (!v) throw new VmError(VmErrorCode.InvalidQuery, `${fmt(address!)} is not a validator`);
        return this.validatorJson(state, address!, v, powers());
      }
      case 'delegations':
        return this.delegatedTo(state, address!).map((va) => {
          const v = this.validator(state, va)!;
          const d = this.settle(this.delegation(state, va, address!)!, v);
          return { validator: fmt(va), shares: d.shares.toString(), tokens: this.tokensOf(v, d.shares).toString(), rewards: d.owed.toString(), ...(equalBytes(v.operator, address!) ? { commission: v.commissionOwed.toString() } : {}) };
        });
      case 'roster': {
        const after = (params as { after?: Uint8Array } | undefined)?.after;
        const page = state.scan(Keys.roster, { limit: 100, ...(after ? { after: Keys.rosterEntry(after) } : {}) });
        const roster = page.map(([k, b]) => {
          const r = decodeRosterEntry(b);
          const a = rosterKeyAddress(k);
          return { address: fmt(a), organisation: r.organisation, operator: fmt(r.operator), publicKey: toHex(r.publicKey), blsPublicKey: toHex(r.blsPublicKey), addedHeight: r.addedHeight, registered: this.validator(state, a) !== undefined };
        });
        return { permissioned: this.permissioned(state), roster, next: page.length === 100 ? roster[roster.length - 1]!.address : null };
      }
      case 'unbondings':
        return this.candidates(state).flatMap((va) =>
          this.unbondingsOf(state, va)
            .filter((u) => equalBytes(u.delegator, address!))
            .map((u) => ({ validator: fmt(va), amount: u.amount.toString(), creationHeight: u.creation, completionHeight: u.completion })),
        );
      default:
        throw new VmError(VmErrorCode.InvalidQuery, `staking has no query "${path}"`);
    }
  }
}
