import { z } from 'zod';
import { addressFromPublicKey, asRlpUint, equalBytes, formatAddress, rlpUint, toHex, toKey, type Event } from '../../../chain/index.js';
import { TxError, VmError, VmErrorCode } from '../../errors.js';
import type { ModuleFault } from '../../executor.js';
import type { ExecContext, Module, QueryContext, QuerySpec, TxContext } from '../../module.js';
import { ParamSpace, genesisParamsSchema } from '../../params.js';
import { asModule, type OrderedReader, type StateReader } from '../../state/overlay.js';
import { isAsset, type BankKeeper } from '../bank/bank.js';
import { ASSETS } from '../bank/genesis.js';
import type { RosterChange, StakingKeeper } from '../staking/staking.js';
import { CourtTx, MAX_CHANGES, MAX_PAYMENTS, UPGRADE_NAME, VoteOption, decodeCourt, voteOptionName, type CourtArgs, type DepositArgs, type ProposalContent, type ProposeArgs, type VoteArgs, type VoteOptionName } from './codec.js';
import { CourtErrorCode as E } from './errors.js';
import { Keys, decodePlan, decodeProposal, encodePlan, encodeProposal, keyAddress, queueEntryId, type ProposalRecord, type UpgradePlan } from './records.js';
import type { UpgradeHandler } from '../../upgrades/index.js';
import { emptyTally, judge, ppmText, share, tallyVotes, type Tally } from './tally.js';

const GEN = 'GEN';
const PPM = 1_000_000n;
/** Most depositors one proposal takes (its refund or burn is one transfer each). */
export const MAX_DEPOSITORS = 64;
/** Most proposals one block can end (the cap of maxActiveProposals). */
const MAX_ACTIVE_CAP = 100n;

const paramFields = {
  minDeposit: { description: 'GEN (base units) a proposal needs in deposits before its voting starts', min: 0n, max: 10n ** 30n },
  minInitialDepositPpm: { description: 'share of minDeposit the proposer must deposit with the proposal (ppm)', min: 0n, max: PPM },
  depositPeriodBlocks: { description: 'blocks a proposal has to reach minDeposit', min: 1n, max: 10_000_000n },
  votingPeriodBlocks: { description: 'blocks of voting', min: 1n, max: 10_000_000n },
  emergencyVotingBlocks: { description: 'blocks of voting of an emergency proposal', min: 1n, max: 10_000_000n },
  quorumPpm: { description: 'share of the bonded GEN that must vote (ppm)', min: 1n, max: PPM },
  thresholdPpm: { description: 'yes must be more than this share of yes, no and veto (ppm)', min: 0n, max: PPM - 1n },
  emergencyThresholdPpm: { description: 'the threshold of an emergency proposal (ppm)', min: 0n, max: PPM - 1n },
  vetoThresholdPpm: { description: 'veto above this share of the votes vetoes the proposal and burns its deposits (ppm)', min: 0n, max: PPM },
  minProposerStake: { description: 'GEN (base units) the proposer must have bonded', min: 0n, max: 10n ** 30n },
  maxActiveProposals: { description: 'most proposals in their deposit or voting period at once', min: 1n, max: MAX_ACTIVE_CAP },
  maxVoters: { description: 'most voters one proposal takes (bounds the tally)', min: 1n, max: 100_000n },
} as const;
type ParamName = keyof typeof paramFields;
export type CourtParams = Readonly<Record<ParamName, bigint>>;

/**
 * The seed's values for quorum (33%) and approval (67%; emergency 80%), Cosmos's veto (33.4%), and
 * periods in blocks (two days of one-second blocks for deposit and voting, four hours for an
 * emergency).
 */
export const COURT_DEFAULTS: Record<ParamName, bigint> = {
  minDeposit: 1_000_000_000n,
  minInitialDepositPpm: 250_000n,
  depositPeriodBlocks: 172_800n,
  votingPeriodBlocks: 172_800n,
  emergencyVotingBlocks: 14_400n,
  quorumPpm: 330_000n,
  thresholdPpm: 670_000n,
  emergencyThresholdPpm: 800_000n,
  vetoThresholdPpm: 334_000n,
  minProposerStake: 1_000_000n,
  maxActiveProposals: 20n,
  maxVoters: 10_000n,
};

export const courtGenesisSchema = z.object({ params: genesisParamsSchema.optional() }).strict();
export type CourtGenesis = z.infer<typeof courtGenesisSchema>;

/** What the court is handed by the bank, staking and the composition root. */
export interface CourtDeps {
  /** The court's own account, where deposits wait (burn: vetoed and expired deposits). */
  escrow: BankKeeper;
  /** The treasury (community tax), which spend proposals pay from. */
  treasury: BankKeeper;
  staking: StakingKeeper;
  /** The parameters a proposal may change, besides the court's own: every module's ParamSpace. */
  params: readonly ParamSpace<string>[];
  /** The software upgrades this binary knows, by plan name (vm/upgrades). */
  upgrades?: ReadonlyMap<string, UpgradeHandler>;
  /** Told of a passed proposal whose execution threw something other than a TxError (a bug: the node logs it with its stack). */
  onFault?: (fault: ModuleFault) => void;
}

const ev = (type: string, attributes: [string, string][]): Event => ({ module: 'court', type, attributes });
const fmt = (a: Uint8Array) => formatAddress(a);

/**
 * Court, part 1: governance. A proposal (text, parameter change, treasury spend, a change to a
 * permissioned chain's validator roster (staking's, through its keeper), a software upgrade plan or
 * its cancellation; any of them as an emergency) is submitted with a GEN deposit, which others may add to; once the deposits reach
 * minDeposit its voting period starts. Accounts with bonded GEN vote yes, abstain, no or veto; a
 * delegator who does not vote inherits its validator's operator's vote. At the end of the voting
 * period the chain tallies by bonded stake *at that moment* (as Cosmos: GEN bonded or unbonded
 * during the period counts as it stands at the end; tally.ts) and, if the proposal passed, executes
 * it in the same end-block, all of its changes or none: a failure (a parameter set that would be
 * invalid, a treasury that cannot pay) is stored with the proposal as its reason and changes
 * nothing else. Deposits are refunded when a proposal passes, fails or is rejected, and burned
 * when it is vetoed or never reaches minDeposit.
 *
 * Bounded work per block: at most maxActiveProposals proposals end in one block, each tally reads
 * at most maxVoters votes and their delegations (at most 32 each), and each refund at most
 * MAX_DEPOSITORS transfers.
 */
export class CourtModule implements Module {
  readonly name = 'court';
  readonly methods = Object.values(CourtTx);
  readonly params = new ParamSpace({
    module: 'court',
    fields: paramFields,
    defaults: COURT_DEFAULTS,
    check: (p) =>
      p.emergencyVotingBlocks > p.votingPeriodBlocks
        ? 'emergencyVotingBlocks must not exceed votingPeriodBlocks'
        : p.emergencyThresholdPpm < p.thresholdPpm
          ? 'emergencyThresholdPpm must not be below thresholdPpm'
          : undefined,
  });
  readonly queries: readonly QuerySpec[] = [
    { name: 'params', summary: 'The governance parameters', params: [] },
    { name: 'plan', summary: 'The software upgrade plan (name, height, info), or null; and the upgrades that ran', params: [] },
    {
      name: 'proposals',
      summary: 'Proposals, newest first: id, title, kind, status, deposit, voting period, tally',
      params: [
        { name: 'before', type: 'integer', description: 'list proposals with a lower id (the previous page’s `next`)' },
        { name: 'limit', type: 'integer', description: 'at most this many (default 20, at most 100)' },
      ],
    },
    { name: 'proposal', summary: 'One proposal with its deposits and, while it is voted on, its live tally and what it still needs', params: [{ name: 'id', type: 'integer', description: 'the proposal id', required: true }] },
    {
      name: 'votes',
      summary: "A proposal's votes in voter order (votes are removed once it is tallied; its tally stays)",
      params: [
        { name: 'id', type: 'integer', description: 'the proposal id', required: true },
        { name: 'after', type: 'address', description: 'list voters after this one (the previous page’s `next`)' },
      ],
    },
  ];

  private readonly spaces: Map<string, ParamSpace<string>>;

  constructor(private readonly deps: CourtDeps) {
    this.spaces = new Map([...deps.params, this.params as unknown as ParamSpace<string>].map((s) => [s.spec.module, s]));
  }

  // ---- Genesis ----

  /** The section with the defaults spelled out, which `init` and `testnet` write. */
  defaultGenesis(): CourtGenesis {
    return { params: this.params.genesisDefaults() };
  }

  private genesisParams(config: unknown): Partial<Record<ParamName, bigint>> {
    return this.params.fromGenesis(courtGenesisSchema.parse(config ?? {}).params);
  }

  validateGenesis(config: unknown): void {
    const bad = this.params.genesisProblem(this.genesisParams(config));
    if (bad) throw new Error(bad);
  }

  initGenesis(ctx: ExecContext, config: unknown): void {
    this.params.init(ctx, this.genesisParams(config));
  }

  // ---- Records ----

  proposal(state: StateReader, id: number): ProposalRecord | undefined {
    const b = state.getRaw(Keys.proposal(id));
    return b && decodeProposal(b);
  }

  private put(ctx: ExecContext, p: ProposalRecord): void {
    ctx.state.setRaw(Keys.proposal(p.id), encodeProposal(p));
  }

  private counter(state: StateReader, key: string): number {
    const b = state.getRaw(key);
    return b ? Number(asRlpUint(b, key)) : 0;
  }

  private setCounter(ctx: ExecContext, key: string, n: number): void {
    ctx.state.setRaw(key, n === 0 ? null : rlpUint(BigInt(n)));
  }

  /** GEN `address` has bonded to validators of the set (`set`: staking's bonded validators, when the caller has read them). */
  private bondedBy(state: StateReader, address: Uint8Array, set = this.deps.staking.bonded(state)): bigint {
    const vals = new Map(set.map((v) => [toKey(v.address), v]));
    let sum = 0n;
    for (const d of this.deps.staking.delegationsOf(state, address)) {
      const v = vals.get(toKey(d.validator));
      if (v && v.shares > 0n) sum += (d.shares * v.tokens) / v.shares;
    }
    return sum;
  }

  // ---- Transactions ----

  decodePayload(method: string, payload: Uint8Array): CourtArgs {
    try {
      return decodeCourt(method, payload);
    } catch (e) {
      throw new TxError(E.InvalidPayload, `bad court.${method} payload: ${(e as Error).message}`);
    }
  }

  describePayload(method: string, payload: Uint8Array): Record<string, string> | undefined {
    try {
      const a = decodeCourt(method, payload);
      switch (a.method) {
        case 'propose':
          return { title: a.args.title, kind: a.args.content.kind, emergency: String(a.args.emergency), deposit: a.args.deposit.toString(), content: JSON.stringify(contentJson(a.args.content)) };
        case 'deposit':
          return { id: String(a.args.id), amount: a.args.amount.toString() };
        case 'vote':
          return { id: String(a.args.id), option: a.args.option };
      }
    } catch {
      return undefined;
    }
  }

  addressesOf(_method: string, args: unknown): Uint8Array[] {
    const a = args as CourtArgs;
    if (a.method !== 'propose') return [];
    const c = a.args.content;
    return c.kind === 'spend' ? c.payments.map((p) => p.to) : c.kind === 'roster_add' ? [c.operator] : [];
  }

  deliverTx(ctx: TxContext, _method: string, args: unknown): void {
    if (!this.deps.staking.enabled(ctx.state)) throw new TxError(E.NoStaking, 'this chain has no staking: there is no bonded GEN to weigh votes by');
    const a = args as CourtArgs;
    switch (a.method) {
      case 'propose':
        return this.propose(ctx, a.args);
      case 'deposit':
        return this.deposit(ctx, a.args);
      case 'vote':
        return this.vote(ctx, a.args);
    }
  }

  /** Why `content` cannot be executed in `state` (for early refusal; execution checks again), or undefined. */
  private contentProblem(state: StateReader, c: ProposalContent, height: number): { code: string; message: string } | undefined {
    if (c.kind === 'params') {
      if (c.changes.length === 0 || c.changes.length > MAX_CHANGES) return { code: E.InvalidParams, message: `a parameter change names 1 to ${MAX_CHANGES} modules` };
      const seen = new Set<string>();
      for (const m of c.changes) {
        const space = this.spaces.get(m.module);
        if (!space) return { code: E.InvalidParams, message: `no module "${m.module}" has parameters (modules with parameters: ${[...this.spaces.keys()].join(', ')})` };
        if (seen.has(m.module)) return { code: E.InvalidParams, message: `module ${m.module} is named twice` };
        seen.add(m.module);
        if (m.values.length === 0) return { code: E.InvalidParams, message: `the change of ${m.module} sets no parameter` };
        const bad = space.problem({ ...space.get(state), ...Object.fromEntries(m.values) });
        if (bad) return { code: E.InvalidParams, message: `the parameters of ${m.module} would be invalid: ${bad}` };
      }
    }
    if (c.kind === 'spend') {
      if (c.payments.length === 0 || c.payments.length > MAX_PAYMENTS) return { code: E.InvalidPayload, message: `a spend makes 1 to ${MAX_PAYMENTS} payments` };
      const total = new Map<string, bigint>();
      for (const p of c.payments) {
        if (!isAsset(p.asset)) return { code: E.InvalidPayload, message: `unknown asset "${p.asset}"; assets are ${ASSETS.join(', ')}` };
        if (p.amount === 0n) return { code: E.ZeroAmount, message: 'a payment must be of a positive amount' };
        total.set(p.asset, (total.get(p.asset) ?? 0n) + p.amount);
      }
      for (const [asset, amount] of total) {
        const held = this.deps.treasury.balance(state, this.deps.treasury.account, asset as (typeof ASSETS)[number]);
        if (held < amount) return { code: E.TreasuryTooLow, message: `the treasury holds ${held} ${asset} (base units), the spend pays ${amount}` };
      }
    }
    if (c.kind === 'roster_add' || c.kind === 'roster_remove') return this.deps.staking.rosterProblem(state, rosterChange(c));
    if (c.kind === 'upgrade') {
      if (!UPGRADE_NAME.test(c.name)) return { code: E.InvalidUpgrade, message: `an upgrade's name is a letter or digit then up to 63 letters, digits, '.', '_' or '-', not "${c.name}"` };
      if (state.getRaw(Keys.upgradeDone(c.name))) return { code: E.InvalidUpgrade, message: `the upgrade "${c.name}" already ran: give the new one another name` };
      if (c.height <= height) return { code: E.UpgradeHeightPassed, message: `the upgrade height ${c.height} is not after the current height ${height}` };
    }
    if (c.kind === 'cancel_upgrade' && !state.getRaw(Keys.plan)) return { code: E.NoUpgradePlan, message: 'there is no upgrade plan to cancel' };
    return undefined;
  }

  private propose(ctx: TxContext, a: ProposeArgs): void {
    const p = this.params.get(ctx.state);
    const active = this.counter(ctx.state, Keys.active);
    if (BigInt(active) >= p.maxActiveProposals) throw new TxError(E.TooManyProposals, `${active} proposals are open, the most there may be (maxActiveProposals)`);
    const stake = this.bondedBy(ctx.state, ctx.sender);
    if (stake < p.minProposerStake) throw new TxError(E.ProposerStakeTooLow, `the proposer has ${stake} GEN (base units) bonded; proposing needs ${p.minProposerStake}`);
    const problem = this.contentProblem(ctx.state, a.content, ctx.block.height);
    if (problem) throw new TxError(problem.code, problem.message);
    const minInitial = (p.minDeposit * p.minInitialDepositPpm) / PPM;
    if (a.deposit < minInitial) throw new TxError(E.InitialDepositTooLow, `the initial deposit is ${a.deposit} GEN (base units); it must be at least ${minInitial} (${ppmText(p.minInitialDepositPpm)} of minDeposit ${p.minDeposit})`);
    const id = this.counter(ctx.state, Keys.next) || 1;
    this.setCounter(ctx, Keys.next, id + 1);
    this.setCounter(ctx, Keys.active, active + 1);
    const h = ctx.block.height;
    const rec: ProposalRecord = {
      id,
      proposer: ctx.sender,
      title: a.title,
      summary: a.summary,
      content: a.content,
      emergency: a.emergency,
      status: 'deposit',
      submitHeight: h,
      depositEnd: h + Number(p.depositPeriodBlocks),
      votingStart: 0,
      votingEnd: 0,
      totalDeposit: 0n,
      depositors: 0,
      voters: 0,
      tally: emptyTally(),
      reason: '',
      endHeight: 0,
    };
    ctx.emit(ev('proposal_submitted', [['id', String(id)], ['proposer', fmt(ctx.sender)], ['kind', a.content.kind], ['emergency', String(a.emergency)]]));
    if (a.deposit > 0n) this.addDeposit(ctx, rec, ctx.sender, a.deposit);
    if (rec.status === 'deposit') ctx.state.setRaw(Keys.queueEntry(rec.depositEnd, id), new Uint8Array(0));
    this.put(ctx, rec);
  }

  /** Moves a deposit into escrow; starts the voting period when the deposits reach minDeposit. */
  private addDeposit(ctx: ExecContext, rec: ProposalRecord, depositor: Uint8Array, amount: bigint): void {
    const key = Keys.deposit(rec.id, depositor);
    const before = ctx.state.getRaw(key);
    if (!before) {
      if (rec.depositors >= MAX_DEPOSITORS) throw new TxError(E.TooManyDepositors, `proposal ${rec.id} has ${MAX_DEPOSITORS} depositors, the most it takes`);
      rec.depositors++;
    }
    this.deps.escrow.transfer(ctx, depositor, this.deps.escrow.account, GEN, amount);
    ctx.state.setRaw(key, rlpUint((before ? asRlpUint(before, 'deposit') : 0n) + amount));
    rec.totalDeposit += amount;
    ctx.emit(ev('deposit', [['id', String(rec.id)], ['depositor', fmt(depositor)], ['amount', amount.toString()], ['total', rec.totalDeposit.toString()]]));
    const p = this.params.get(ctx.state);
    if (rec.status === 'deposit' && rec.totalDeposit >= p.minDeposit) {
      ctx.state.setRaw(Keys.queueEntry(rec.depositEnd, rec.id), null);
      rec.status = 'voting';
      rec.votingStart = ctx.block.height;
      rec.votingEnd = ctx.block.height + Number(rec.emergency ? p.emergencyVotingBlocks : p.votingPeriodBlocks);
      ctx.state.setRaw(Keys.queueEntry(rec.votingEnd, rec.id), new Uint8Array(0));
      ctx.emit(ev('voting_started', [['id', String(rec.id)], ['voting_end', String(rec.votingEnd)]]));
    }
  }

  private requireProposal(state: StateReader, id: number): ProposalRecord {
    const p = this.proposal(state, id);
    if (!p) throw new TxError(E.UnknownProposal, `there is no proposal ${id}`);
    return p;
  }

  private deposit(ctx: TxContext, a: DepositArgs): void {
    const rec = this.requireProposal(ctx.state, a.id);
    if (rec.status !== 'deposit' && rec.status !== 'voting') throw new TxError(E.ProposalClosed, `proposal ${a.id} is ${rec.status}: it takes no more deposits`);
    if (a.amount === 0n) throw new TxError(E.ZeroAmount, 'a deposit must be of a positive amount');
    this.addDeposit(ctx, rec, ctx.sender, a.amount);
    this.put(ctx, rec);
  }

  private vote(ctx: TxContext, a: VoteArgs): void {
    const rec = this.requireProposal(ctx.state, a.id);
    if (rec.status !== 'voting') throw new TxError(E.NotVoting, `proposal ${a.id} is ${rec.status === 'deposit' ? 'still collecting deposits' : rec.status}: it is not being voted on`);
    const set = this.deps.staking.bonded(ctx.state);
    const operates = set.some((v) => equalBytes(v.operator, ctx.sender));
    if (!operates && this.bondedBy(ctx.state, ctx.sender, set) === 0n) throw new TxError(E.NoStake, `${fmt(ctx.sender)} has no GEN bonded to a validator of the set: only bonded stake votes`);
    const key = Keys.vote(a.id, ctx.sender);
    if (!ctx.state.getRaw(key)) {
      const max = this.params.get(ctx.state).maxVoters;
      if (BigInt(rec.voters) >= max) throw new TxError(E.TooManyVoters, `proposal ${a.id} has ${rec.voters} voters, the most it takes (maxVoters)`);
      rec.voters++;
      this.put(ctx, rec);
    }
    ctx.state.setRaw(key, Uint8Array.of(VoteOption[a.option]));
    ctx.emit(ev('vote', [['id', String(a.id)], ['voter', fmt(ctx.sender)], ['option', a.option]]));
  }

  // ---- End of a period ----

  /** The proposals whose deposit or voting period ends at this block: each is settled here. */
  endBlock(ctx: ExecContext): void {
    const due = ctx.state.scan(Keys.queue(ctx.block.height), { limit: Number(MAX_ACTIVE_CAP) });
    for (const [key] of due) {
      ctx.state.setRaw(key, null);
      const rec = this.proposal(ctx.state, queueEntryId(key));
      if (!rec) continue;
      if (rec.status === 'deposit') this.expire(ctx, rec);
      else if (rec.status === 'voting') this.finish(ctx, rec);
      this.setCounter(ctx, Keys.active, Math.max(0, this.counter(ctx.state, Keys.active) - 1));
    }
  }

  private votesOf(state: OrderedReader, id: number): { voter: Uint8Array; option: VoteOptionName; key: string }[] {
    const out: { voter: Uint8Array; option: VoteOptionName; key: string }[] = [];
    for (let after: string | undefined; ; ) {
      const page = state.scan(Keys.votes(id), { limit: 1024, ...(after !== undefined ? { after } : {}) });
      for (const [key, v] of page) out.push({ voter: keyAddress(key), option: voteOptionName(v[0]!)!, key });
      if (page.length < 1024) return out;
      after = page[page.length - 1]![0];
    }
  }

  /** The tally of a proposal by the stake bonded now. */
  tally(state: OrderedReader, id: number): Tally {
    return tallyVotes(this.deps.staking.bonded(state), this.votesOf(state, id), (voter) => this.deps.staking.delegationsOf(state, voter));
  }

  private rules(rec: ProposalRecord, p: CourtParams) {
    return { quorumPpm: p.quorumPpm, thresholdPpm: rec.emergency ? p.emergencyThresholdPpm : p.thresholdPpm, vetoThresholdPpm: p.vetoThresholdPpm };
  }

  private expire(ctx: ExecContext, rec: ProposalRecord): void {
    rec.status = 'expired';
    rec.reason = `the deposits reached ${rec.totalDeposit} of the ${this.params.get(ctx.state).minDeposit} GEN (base units) needed within the deposit period`;
    rec.endHeight = ctx.block.height;
    this.settleDeposits(ctx, rec, 'burn');
    this.put(ctx, rec);
    ctx.emit(ev('proposal_ended', [['id', String(rec.id)], ['status', rec.status], ['reason', rec.reason]]));
  }

  private finish(ctx: ExecContext, rec: ProposalRecord): void {
    const p = this.params.get(ctx.state);
    const votes = this.votesOf(ctx.state, rec.id);
    rec.tally = tallyVotes(this.deps.staking.bonded(ctx.state), votes, (voter) => this.deps.staking.delegationsOf(ctx.state, voter));
    for (const v of votes) ctx.state.setRaw(v.key, null);
    const outcome = judge(rec.tally, this.rules(rec, p));
    rec.endHeight = ctx.block.height;
    if (!outcome.passed) {
      rec.status = outcome.vetoed ? 'vetoed' : 'rejected';
      rec.reason = outcome.reason;
      this.settleDeposits(ctx, rec, outcome.vetoed ? 'burn' : 'refund');
    } else {
      const failure = this.executeAtomically(ctx, rec.content, rec.id);
      rec.status = failure ? 'failed' : 'passed';
      rec.reason = failure ?? '';
      this.settleDeposits(ctx, rec, 'refund');
    }
    this.put(ctx, rec);
    const t = rec.tally;
    ctx.emit(
      ev('proposal_ended', [
        ['id', String(rec.id)],
        ['status', rec.status],
        ['reason', rec.reason],
        ['yes', t.yes.toString()],
        ['abstain', t.abstain.toString()],
        ['no', t.no.toString()],
        ['veto', t.veto.toString()],
        ['bonded', t.bonded.toString()],
      ]),
    );
  }

  /**
   * Executes a passed proposal's content after a checkpoint: all of it, with its events, or, when
   * any part fails, none of it (reverted). Returns the failure's reason (the module's code and
   * words; a fault of the node only its code), or undefined.
   */
  private executeAtomically(ctx: ExecContext, content: ProposalContent, id: number): string | undefined {
    const mark = ctx.state.checkpoint();
    const events: Event[] = [];
    const sub: ExecContext = { block: ctx.block, state: ctx.state, emit: (e) => events.push(e) };
    try {
      const problem = this.contentProblem(ctx.state, content, ctx.block.height);
      if (problem) throw new TxError(problem.code, problem.message);
      this.execute(sub, content);
      ctx.state.release(mark);
      for (const e of events) ctx.emit(e);
      return undefined;
    } catch (e) {
      ctx.state.revertTo(mark);
      if (e instanceof TxError) return `${e.code}: ${e.message}`;
      this.deps.onFault?.({ module: 'court', where: `execution of proposal ${id}`, height: ctx.block.height, error: e });
      return `${E.ExecutionFault}: the execution failed on a fault of the node`;
    }
  }

  private execute(ctx: ExecContext, c: ProposalContent): void {
    const authority = this.params.authority;
    switch (c.kind) {
      case 'text':
        return;
      case 'params':
        for (const m of c.changes) this.spaces.get(m.module)!.update(ctx, authority, Object.fromEntries(m.values));
        return;
      case 'spend':
        for (const p of c.payments) this.deps.treasury.transfer(ctx, this.deps.treasury.account, p.to, p.asset as (typeof ASSETS)[number], p.amount);
        return;
      case 'roster_add':
      case 'roster_remove':
        return this.deps.staking.changeRoster(ctx, rosterChange(c));
      case 'upgrade': {
        const before = this.plan(ctx.state);
        ctx.state.setRaw(Keys.plan, encodePlan({ name: c.name, height: c.height, info: c.info }));
        ctx.emit(ev('upgrade_scheduled', [['name', c.name], ['height', String(c.height)], ['replaces', before?.name ?? '']]));
        return;
      }
      case 'cancel_upgrade': {
        const before = this.plan(ctx.state)!;
        ctx.state.setRaw(Keys.plan, null);
        ctx.emit(ev('upgrade_cancelled', [['name', before.name], ['height', String(before.height)]]));
        return;
      }
    }
  }

  // ---- Software upgrades ----

  /** The software upgrade plan, if there is one. */
  plan(state: StateReader): UpgradePlan | undefined {
    const b = asModule(state, this.name, () => state.getRaw(Keys.plan));
    return b && decodePlan(b);
  }

  /** Whether this binary knows the upgrade called `name` (it carries its handler). */
  knowsUpgrade(name: string): boolean {
    return this.deps.upgrades?.has(name) === true;
  }

  /**
   * At the plan's height, before any transaction: the upgrade's handler runs, the plan is cleared
   * and the upgrade recorded as done. A node whose binary does not know the plan never gets here:
   * it halts before this height (node/upgrade.ts); a binary without the handler that did would
   * fail this hook (reverted, and logged as a fault).
   */
  beginBlock(ctx: ExecContext): void {
    const plan = this.plan(ctx.state);
    if (!plan || plan.height !== ctx.block.height) return;
    const handler = this.deps.upgrades?.get(plan.name);
    if (!handler) throw new Error(`upgrade "${plan.name}" is due at height ${plan.height} and this binary does not know it`);
    handler(ctx);
    ctx.state.setRaw(Keys.plan, null);
    ctx.state.setRaw(Keys.upgradeDone(plan.name), rlpUint(BigInt(plan.height)));
    ctx.emit(ev('upgrade_applied', [['name', plan.name], ['height', String(plan.height)]]));
  }

  /** Pays every deposit back, or burns them all, and removes the deposit records. */
  private settleDeposits(ctx: ExecContext, rec: ProposalRecord, how: 'refund' | 'burn'): void {
    const deposits = ctx.state.scan(Keys.deposits(rec.id), { limit: MAX_DEPOSITORS });
    let total = 0n;
    for (const [key, v] of deposits) {
      const amount = asRlpUint(v, 'deposit');
      ctx.state.setRaw(key, null);
      total += amount;
      if (how === 'refund') this.deps.escrow.transfer(ctx, this.deps.escrow.account, keyAddress(key), GEN, amount);
    }
    if (how === 'burn') this.deps.escrow.burn(ctx, GEN, total);
    if (total > 0n) ctx.emit(ev(how === 'refund' ? 'deposits_refunded' : 'deposits_burned', [['id', String(rec.id)], ['amount', total.toString()], ['depositors', String(deposits.length)]]));
  }

  // ---- Queries ----

  private proposalJson(state: OrderedReader, height: number, rec: ProposalRecord, full: boolean) {
    const p = this.params.get(state);
    const live = rec.status === 'voting';
    const t = live ? this.tally(state, rec.id) : rec.tally;
    const voted = t.yes + t.abstain + t.no + t.veto;
    const rules = this.rules(rec, p);
    const out: Record<string, unknown> = {
      id: rec.id,
      title: rec.title,
      kind: rec.content.kind,
      emergency: rec.emergency,
      status: rec.status,
      proposer: fmt(rec.proposer),
      submitHeight: rec.submitHeight,
      depositEnd: rec.depositEnd,
      totalDeposit: rec.totalDeposit.toString(),
      minDeposit: p.minDeposit.toString(),
      votingStart: rec.votingStart,
      votingEnd: rec.votingEnd,
      blocksLeft: live ? Math.max(0, rec.votingEnd - height) : rec.status === 'deposit' ? Math.max(0, rec.depositEnd - height) : 0,
      voters: rec.voters,
      tally: { yes: t.yes.toString(), abstain: t.abstain.toString(), no: t.no.toString(), veto: t.veto.toString(), bonded: t.bonded.toString() },
      participation: share(voted, t.bonded),
      yesShare: share(t.yes, t.yes + t.no + t.veto),
      vetoShare: share(t.veto, voted),
      quorum: ppmText(rules.quorumPpm),
      threshold: ppmText(rules.thresholdPpm),
      vetoThreshold: ppmText(rules.vetoThresholdPpm),
      reason: rec.reason,
      endHeight: rec.endHeight,
    };
    if (live) {
      const o = judge(t, rules);
      out.wouldPass = o.passed;
      out.needed = o.passed ? 'nothing: it passes if the tally stays so' : o.reason;
    }
    if (full) {
      out.summary = rec.summary;
      out.content = contentJson(rec.content);
      out.deposits = state.scan(Keys.deposits(rec.id), { limit: MAX_DEPOSITORS }).map(([k, v]) => ({ depositor: fmt(keyAddress(k)), amount: asRlpUint(v, 'deposit').toString() }));
    }
    return out;
  }

  query(ctx: QueryContext, path: string, params: unknown): unknown {
    const q = (params ?? {}) as { id?: number; before?: number; limit?: number; after?: Uint8Array };
    switch (path) {
      case 'params':
        return this.params.toJson(this.params.get(ctx.state));
      case 'plan': {
        const done = ctx.state.scan(Keys.upgradeDone(''), { limit: 100 }).map(([k, v]) => ({ name: k.slice(Keys.upgradeDone('').length), height: Number(asRlpUint(v, 'upgrade height')) }));
        return { plan: this.plan(ctx.state) ?? null, done };
      }
      case 'proposals': {
        const limit = Math.min(Math.max(q.limit ?? 20, 1), 100);
        const newest = this.counter(ctx.state, Keys.next) - 1;
        const out = [];
        let id = Math.min(newest, (q.before ?? newest + 1) - 1);
        for (; id >= 1 && out.length < limit; id--) {
          const rec = this.proposal(ctx.state, id);
          if (rec) out.push(this.proposalJson(ctx.state, ctx.height, rec, false));
        }
        return { proposals: out, next: id >= 1 ? id + 1 : null };
      }
      case 'proposal': {
        const rec = this.proposal(ctx.state, q.id!);
        if (!rec) throw new VmError(VmErrorCode.InvalidQuery, `there is no proposal ${q.id}`);
        return this.proposalJson(ctx.state, ctx.height, rec, true);
      }
      case 'votes': {
        const rec = this.proposal(ctx.state, q.id!);
        if (!rec) throw new VmError(VmErrorCode.InvalidQuery, `there is no proposal ${q.id}`);
        const page = ctx.state.scan(Keys.votes(q.id!), { limit: 100, ...(q.after ? { after: Keys.vote(q.id!, q.after) } : {}) });
        const votes = page.map(([k, v]) => ({ voter: fmt(keyAddress(k)), option: voteOptionName(v[0]!) }));
        return { id: q.id, votes, next: page.length === 100 ? votes[votes.length - 1]!.voter : null };
      }
      default:
        throw new VmError(VmErrorCode.InvalidQuery, `court has no query "${path}"`);
    }
  }
}

/** A proposal's content as JSON (amounts and values as decimal strings). */
export function contentJson(c: ProposalContent): Record<string, unknown> {
  switch (c.kind) {
    case 'text':
      return { kind: 'text' };
    case 'params':
      return { kind: 'params', changes: c.changes.map((m) => ({ module: m.module, values: Object.fromEntries(m.values.map(([k, v]) => [k, v.toString()])) })) };
    case 'spend':
      return { kind: 'spend', payments: c.payments.map((p) => ({ to: fmt(p.to), asset: p.asset, amount: p.amount.toString() })) };
    case 'roster_add':
      return { kind: 'roster_add', validator: fmt(addressFromPublicKey(c.publicKey)), organisation: c.organisation, operator: fmt(c.operator), publicKey: toHex(c.publicKey), blsPublicKey: toHex(c.blsPublicKey), proofOfPossession: toHex(c.proofOfPossession) };
    case 'roster_remove':
      return { kind: 'roster_remove', validator: fmt(c.address) };
    case 'upgrade':
      return { kind: 'upgrade', name: c.name, height: c.height, info: c.info };
    case 'cancel_upgrade':
      return { kind: 'cancel_upgrade' };
  }
}

/** A roster proposal's content as the change staking makes. */
function rosterChange(c: Extract<ProposalContent, { kind: 'roster_add' | 'roster_remove' }>): RosterChange {
  return c.kind === 'roster_add' ? { kind: 'add', organisation: c.organisation, operator: c.operator, publicKey: c.publicKey, blsPublicKey: c.blsPublicKey, proofOfPossession: c.proofOfPossession } : { kind: 'remove', address: c.address };
}
