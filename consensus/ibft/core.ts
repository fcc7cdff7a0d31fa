import type { Logger } from 'pino';
import {
  CommitCertificate,
  blsVerify,
  commitVoteMessage,
  equalBytes,
  toHex,
  toKey,
  type Block,
  type DuplicateVoteEvidence,
  type Transaction,
  type ValidatorSet,
} from '../../chain/index.js';
import { MAX_CLOCK_DRIFT_MS, type Blockchain, type ExecutedBlock } from '../blockchain.js';
import type { ValidatorKey } from '../keys.js';
import type { IbftMetrics } from '../metrics.js';
import { isJustifiedProposal, isPreparedCertificate } from './justification.js';
import { MsgType, SignedMessage, decodeEnvelope, duplicateVoteEvidence, encodeEnvelope, type Envelope, type MessageBody } from './messages.js';
import { defaultIbftOptions, type IbftOptions } from './options.js';
import type { SignLog } from './signlog.js';

/** Inputs of the core; all of them arrive through the engine's one queue. */
export type IbftEvent =
  | { kind: 'message'; envelope: Envelope; from: string; /** the engine already checked the signature against this height's set */ verified?: boolean }
  | { kind: 'timer'; height: number; round: number; timer: 'round' | 'propose'; seq?: number }
  | { kind: 'txs' };

/** Where the core's effects go: the engine (real) or a simulator (tests). */
export interface IbftEnv {
  now(): number;
  /** Feed `event` back into the queue after `delayMs` (0: right after the event being handled). */
  schedule(delayMs: number, event: IbftEvent): void;
  /** Send to every other validator; `encoded` is the envelope's encoding when the caller has it. */
  broadcast(envelope: Envelope, encoded?: Uint8Array): void;
  /** A block this node proposed was committed (the engine may gossip it). */
  committed?(block: Block, proposedHere: boolean): void;
  /** A peer sent something invalid; `from` as given in the event. */
  penalise?(from: string, reason: string): void;
  /** Two conflicting messages signed by one validator (the node turns them into on-chain evidence). */
  equivocation?(evidence: DuplicateVoteEvidence): void;
}

export interface TxSource {
  readonly size: number;
  reap(maxTxs: number, maxBytes: number): Transaction[];
  isVerified(tx: Transaction): boolean;
  evict(tx: Transaction): void;
  update(committed: readonly Transaction[]): void;
  /** Checks (in parallel, off this thread) the signatures of transactions it has not seen. */
  preverify?(txs: readonly Transaction[]): Promise<void>;
}

type Votes = Map<string, Map<string, SignedMessage>>; // digest → sender → message

interface Prepared {
  round: number;
  digest: Uint8Array;
  block: Block;
  prepares: SignedMessage[];
}

const hex = (b: Uint8Array) => toKey(b);

/** Settled sign-log records are dropped every this many heights. */
const PRUNE_EVERY = 16;

/** A clock-drift warning is logged at most this often. */
export const CLOCK_WARNING_INTERVAL_MS = 60_000;

/**
 * IBFT 2.0 (QBFT) for one validator: PROPOSAL → PREPARE → COMMIT within a round, ROUND-CHANGE
 * between rounds, with prepared certificates so that a prepared block is re-proposed rather than
 * forked. Deterministic: it only reacts to events, and reaches the world through IbftEnv.
 */
export class IbftCore {
  readonly opts: IbftOptions;
  private height = 0;
  private round = 0;
  private valset!: ValidatorSet;
  private proposals = new Map<number, { digest: Uint8Array; executed: ExecutedBlock; envelope: Envelope }>();
  private prepares = new Map<number, Votes>();
  private commits = new Map<number, Votes>();
  /** The peer each stored COMMIT came from (to penalise it if its seal turns out bad). */
  private commitOrigins = new Map<SignedMessage, string>();
  private roundChanges = new Map<number, Map<string, Envelope>>();
  private prepared: Prepared | undefined;
  private proposedRounds = new Set<number>();
  private future = new Map<number, Envelope[]>();
  private futureCount = new Map<string, number>();
  private committing = false;
  /** The block being committed (with a certificate this node verified), while `committing`. */
  private committingDigest: Uint8Array | undefined;
  /** Only the latest armed round timer counts: progress in a round re-arms it. */
  private timerSeq = 0;
  /** When the pending proposal wake-up of this height fires (see tryPropose). */
  private proposeTimerDue: number | undefined;
  /** The sign log's records of the current height, by `${round}/${type}` (it is only written here). */
  private signed = new Map<string, Uint8Array>();
  /** When the last clock-drift warning was logged (env time). */
  private lastClockWarning = -Infinity;

  constructor(
    opts: Partial<IbftOptions>,
    private readonly deps: { chain: Blockchain; key: ValidatorKey; signLog: SignLog; txs: TxSource; env: IbftEnv; logger: Logger; metrics?: IbftMetrics },
  ) {
    this.opts = { ...defaultIbftOptions, ...opts };
  }

  get currentHeight(): number {
    return this.height;
  }

  get currentRound(): number {
    return this.round;
  }

  /** Starts (or restarts) consensus at the height after the committed head, resuming from the sign log. */
  async start(): Promise<void> {
    await this.startHeight(true);
  }

  async handle(ev: IbftEvent): Promise<void> {
    // A halted chain (a software upgrade this binary does not know is due) takes no block: sign nothing.
    if (this.deps.chain.halted) return;
    switch (ev.kind) {
      case 'timer':
        if (ev.height !== this.height) return;
        if (ev.timer === 'round' && ev.round === this.round && (ev.seq === undefined || ev.seq === this.timerSeq)) return this.roundChangeTo(this.round + 1, 'round timer expired');
        if (ev.timer === 'propose' && ev.round === this.round) {
          this.proposeTimerDue = undefined;
          return this.tryPropose();
        }
        return;
      case 'txs':
        if (this.round === 0 && !this.proposedRounds.has(0) && this.isProposer(0)) return this.tryPropose();
        return;
      case 'message':
        return this.onEnvelope(ev.envelope, ev.from, ev.verified === true && ev.envelope.message.body.height === this.height);
    }
  }

  /**
   * A commit certificate for this height that arrived with the proposer's block announcement,
   * already verified against this height's validator set. If this validator executed that block
   * (it holds the proposal), it commits with the certificate instead of waiting for its own quorum
   * of COMMITs, and nothing needs fetching. Returns whether it committed.
   */
  async commitCertified(height: number, certificate: CommitCertificate): Promise<boolean> {
    if (height !== this.height || this.committing) return false;
    const digest = certificate.blockHash;
    const executed = this.executedProposal(digest);
    if (!executed) return false;
    await this.commitBlock(executed, certificate);
    return true;
  }

  /**
   * Whether this node is committing this very block at `height` now, with a certificate it
   * verified itself: an announcement of it then brings nothing, and checking its certificate
   * (a BLS aggregate check, the dearest step of a round at light load) can be skipped.
   */
  isCommitting(height: number, digest: Uint8Array): boolean {
    return this.committing && height === this.height && this.committingDigest !== undefined && equalBytes(this.committingDigest, digest);
  }

  /** The block with this hash, if this height's proposals include it (executed when it was accepted). */
  private executedProposal(digest: Uint8Array): ExecutedBlock | undefined {
    for (const p of this.proposals.values()) if (equalBytes(p.digest, digest)) return p.executed;
    return undefined;
  }

  /** The chain moved on without us (block sync): abandon the height and start the next. */
  async onExternalCommit(): Promise<void> {
    if (this.deps.chain.height + 1 !== this.height) await this.startHeight(false);
  }

  // ---------------------------------------------------------------- heights and rounds

  /**
   * Enters the height after the head. `resume`: read what this validator signed at that height
   * from the sign log (only at start: while running, nothing is ever signed ahead of the current
   * height, so a new height has no records).
   */
  private async startHeight(resume: boolean): Promise<void> {
    const { chain, signLog } = this.deps;
    this.height = chain.height + 1;
    this.valset = chain.validatorSet(this.height);
    this.round = 0;
    this.proposals = new Map();
    this.prepares = new Map();
    this.commits = new Map();
    this.commitOrigins = new Map();
    this.roundChanges = new Map();
    this.prepared = undefined;
    this.proposedRounds = new Set();
    this.proposeTimerDue = undefined;
    // Records below the new height are settled; dropping them need not hold up the height, nor
    // happen at every one.
    const height = this.height;
    if (resume || height % PRUNE_EVERY === 0) signLog.prune(height).catch((e: unknown) => this.deps.logger.warn({ err: e, height }, 'pruning the sign log failed'));
    const records = resume ? await signLog.atHeight(this.height) : [];
    this.signed = new Map(records.map((r) => [`${r.round}/${r.type}`, r.envelope]));
    let resumeRound = 0;
    for (const rec of records) {
      resumeRound = Math.max(resumeRound, rec.round);
      if (rec.type === MsgType.Proposal) this.proposedRounds.add(rec.round);
      if (rec.type === MsgType.Commit) {
        const env = decodeEnvelope(rec.envelope);
        if (env.block && (!this.prepared || this.prepared.round < rec.round)) {
          this.prepared = { round: rec.round, digest: env.message.body.digest!, block: env.block, prepares: env.prepares };
        }
      }
    }
    if (resumeRound > 0) this.deps.logger.info({ height: this.height, round: resumeRound }, 'resuming consensus from the sign log');
    if (chain.halted) return;
    this.enterRound(resumeRound);
    // Re-send what we signed at this height (peers may have missed it while we were down) and
    // count it again ourselves; the sign log makes every later signature at this height agree with it.
    const signed = records.sort((a, b) => a.round - b.round || a.type - b.type);
    for (const rec of signed) {
      const env = stripLocal(decodeEnvelope(rec.envelope));
      this.broadcast(env);
      await this.onEnvelope(env, 'self');
    }
    const buffered = this.future.get(this.height) ?? [];
    for (const h of this.future.keys()) if (h <= this.height) this.future.delete(h);
    this.futureCount.clear();
    // The proposal goes through the queue rather than being made here: startHeight runs at the
    // end of a commit, and proposing inline would nest every height's commit inside the previous
    // one's, an async chain that never unwinds (and keeps every executed block alive).
    if (this.round === 0 && this.isProposer(0)) this.deps.env.schedule(0, { kind: 'timer', height: this.height, round: 0, timer: 'propose' });
    for (const env of buffered) await this.onEnvelope(env, 'buffered');
  }

  /**
   * Round r waits roundTimeoutMs · 2^(r-1) until that reaches maxRoundTimeoutMs, then
   * roundTimeoutMs more each round (2 s and 30 s: 2, 4, 8, 16, 30, 32, 34 … s). It never stops growing: were every timeout equal, a validator that entered the rounds a
   * whole timeout before the others would leave each round as they arrive in it, for ever (alone
   * ahead it is not f + 1, so nobody follows it), and with one validator down the others could
   * never meet. Tendermint's timeouts grow linearly for the same reason.
   */
  private timeout(round: number): number {
    const { roundTimeoutMs: base, maxRoundTimeoutMs: cap } = this.opts;
    if (round === 0) return this.opts.emptyBlockIntervalMs + base;
    let t = base;
    let r = 1;
    while (r < round && t < cap) {
      t = Math.min(t * 2, cap);
      r++;
    }
    return t + (round - r) * base;
  }

  private enterRound(round: number): void {
    this.round = round;
    this.armRoundTimer();
  }

  /**
   * (Re)starts the current round's timer. Called on entering a round, and again when the round
   * makes progress (a valid proposal accepted, a block prepared): a round that is advancing is
   * not abandoned because validating a large block took longer than the timeout.
   */
  private armRoundTimer(): void {
    const seq = ++this.timerSeq;
    this.deps.env.schedule(this.timeout(this.round), { kind: 'timer', height: this.height, round: this.round, timer: 'round', seq });
  }

  /**
   * Sends to the other validators. A validator alone in its set sends nothing: no peer needs its
   * PROPOSAL, PREPARE or COMMIT (a node following the chain gets the block's announcement), and
   * gossipsub would keep each of them, whole blocks, in its message cache for a few heartbeats.
   */
  private broadcast(envelope: Envelope, encoded?: Uint8Array): void {
    const alone = this.valset.size === 1 && this.valset.has(this.deps.key.address);
    if (alone && envelope.message.body.height === this.height) return;
    this.deps.env.broadcast(envelope, encoded);
  }

  private isProposer(round: number): boolean {
    return equalBytes(this.deps.chain.proposer(this.height, round).address, this.deps.key.address);
  }

  private async roundChangeTo(round: number, why: string): Promise<void> {
    if (round <= this.round && why !== 'restart') return;
    this.deps.logger.info({ height: this.height, round, why }, 'round change');
    this.deps.metrics?.roundChange(this.height, round);
    this.enterRound(round);
    const p = this.prepared;
    const body: MessageBody = { type: MsgType.RoundChange, height: this.height, round, prepared: p && { round: p.round, digest: p.digest } };
    await this.signAndSend(body, p ? { block: p.block, prepares: p.prepares } : {});
    await this.maybeProposeAfterRoundChange(round);
  }

  // ---------------------------------------------------------------- proposing

  private async tryPropose(): Promise<void> {
    if (this.round !== 0 || this.proposedRounds.has(0) || !this.isProposer(0) || this.committing) return;
    const { chain, txs } = this.deps;
    const now = this.deps.env.now();
    // The previous block's timestamp is its proposer's clock: never wait longer than the interval from now.
    const after = (ms: number) => Math.min(chain.head.timestamp + ms, now + ms);
    const due = txs.size === 0 ? after(this.opts.emptyBlockIntervalMs) : txs.size < this.opts.targetBlockTxs ? after(this.opts.minBlockIntervalMs) : now;
    if (now < due) {
      // One pending wake-up per height: every admission calls this again.
      if (this.proposeTimerDue === undefined || due < this.proposeTimerDue) {
        this.proposeTimerDue = due;
        this.deps.env.schedule(due - now, { kind: 'timer', height: this.height, round: 0, timer: 'propose' });
      }
      return;
    }
    await this.proposeNew(0, [], []);
  }

  private async proposeNew(round: number, roundChanges: SignedMessage[], prepares: SignedMessage[]): Promise<void> {
    const { chain, txs, key } = this.deps;
    // Within this node's own limits and the chain's (a block over the chain's is invalid).
    const limits = chain.blockLimits();
    const candidates = txs.reap(Math.min(this.opts.maxBlockTxs, limits.maxBlockTxs), Math.min(this.opts.maxBlockBytes, limits.maxBlockBytes));
    const height = this.height;
    await chain.prefetch(candidates);
    if (this.height !== height || this.proposedRounds.has(round)) return; // a block import moved the chain on meanwhile
    const { executed, build } = chain.build(key.address, candidates, this.deps.env.now(), (t) => txs.isVerified(t));
    for (const { tx } of build.excluded) txs.evict(tx);
    await this.propose(round, executed.block, roundChanges, prepares, executed);
  }

  private async propose(round: number, block: Block, roundChanges: SignedMessage[], prepares: SignedMessage[], executed?: ExecutedBlock): Promise<void> {
    if (this.proposedRounds.has(round)) return;
    this.proposedRounds.add(round);
    const digest = block.hash();
    const env = await this.signAndSend({ type: MsgType.Proposal, height: this.height, round, digest }, { block, roundChanges, prepares });
    if (env && executed) this.proposals.set(round, { digest, executed, envelope: env });
    if (env) await this.onProposal(env, 'self');
  }

  /** With ROUND-CHANGEs for `round` holding a quorum of the power, its proposer proposes: the highest prepared block, or a new one. */
  private async maybeProposeAfterRoundChange(round: number): Promise<void> {
    const rcs = this.roundChanges.get(round);
    if (round === 0 || round !== this.round || !rcs || !this.isProposer(round) || this.proposedRounds.has(round)) return;
    const all = [...rcs.values()];
    let best: Envelope | undefined;
    for (const e of all) {
      const p = e.message.body.prepared;
      if (p && (!best || p.round > best.message.body.prepared!.round)) best = e;
    }
    // The one that reports the highest prepared round goes first, so it is in the justification.
    const ordered = best ? [best, ...all.filter((e) => e !== best)] : all;
    const quorum = this.valset.quorumPrefix(ordered, (e) => e.message.sender);
    if (!quorum) return;
    const justification = quorum.map((e) => e.message);
    if (best) await this.propose(round, best.block!, justification, best.prepares);
    else await this.proposeNew(round, justification, []);
  }

  // ---------------------------------------------------------------- incoming messages

  private async onEnvelope(env: Envelope, from: string, verified = false): Promise<void> {
    const m = env.message.body;
    if (m.height < this.height) return;
    if (m.height > this.height) return this.buffer(env);
    if (m.round > this.round + this.opts.maxFutureRounds) return;
    if (!verified && !env.message.verify(this.deps.chain.chainId, this.valset)) return this.penalise(from, 'bad signature or not a validator');
    switch (m.type) {
      case MsgType.Proposal:
        return this.onProposal(env, from);
      case MsgType.Prepare:
        return this.onVote(this.prepares, env.message, from);
      case MsgType.Commit:
        return this.onCommit(env.message, from);
      case MsgType.RoundChange:
        return this.onRoundChange(env, from);
    }
  }

  private buffer(env: Envelope): void {
    const m = env.message.body;
    if (m.height > this.height + this.opts.maxFutureHeights) return;
    const sender = hex(env.message.sender);
    const n = this.futureCount.get(sender) ?? 0;
    if (n >= this.opts.maxFuturePerValidator) return;
    this.futureCount.set(sender, n + 1);
    const list = this.future.get(m.height) ?? [];
    list.push(env);
    this.future.set(m.height, list);
  }

  private reportEquivocation(a: SignedMessage, b: SignedMessage): void {
    const e = duplicateVoteEvidence(a, b);
    if (e) this.deps.env.equivocation?.(e);
  }

  private penalise(from: string, reason: string): void {
    this.deps.logger.warn({ from, height: this.height, round: this.round, reason }, 'dropped consensus message');
    if (from !== 'self' && from !== 'buffered') this.deps.env.penalise?.(from, reason);
  }

  private async onProposal(env: Envelope, from: string): Promise<void> {
    const m = env.message.body;
    const { chain, txs } = this.deps;
    if (!equalBytes(env.message.sender, this.deps.chain.proposer(this.height, m.round).address)) return this.penalise(from, `PROPOSAL from a validator that is not the proposer of round ${m.round}`);
    if (!env.block || !equalBytes(env.block.hash(), m.digest!)) return this.penalise(from, 'PROPOSAL without its block');
    if (m.round < this.round) return;
    const existing = this.proposals.get(m.round);
    if (existing) {
      if (!equalBytes(existing.digest, m.digest!)) {
        this.reportEquivocation(existing.envelope.message, env.message);
        this.penalise(from, `equivocating PROPOSAL for round ${m.round}`);
      }
      else if (from === 'self') await this.sendPrepare(m.round, existing.digest);
      return;
    }
    if (m.round > 0 && !isJustifiedProposal(this.deps.chain.chainId, this.valset, env)) return this.penalise(from, 'PROPOSAL without a valid round-change justification');
    let executed: ExecutedBlock;
    await Promise.all([txs.preverify?.(env.block.transactions), chain.prefetch(env.block.transactions)]);
    if (this.height !== m.height) return; // a block import moved the chain on meanwhile
    const now = this.deps.env.now();
    if (from !== 'self') this.watchClock(env, now);
    try {
      executed = chain.validate(env.block, (t) => txs.isVerified(t), now);
    } catch (e) {
      return this.penalise(from, (e as Error).message);
    }
    if (m.round > this.round) this.enterRound(m.round);
    else if (m.round === this.round) this.armRoundTimer();
    this.proposals.set(m.round, { digest: m.digest!, executed, envelope: env });
    await this.sendPrepare(m.round, m.digest!);
    // A quorum of COMMITs may have arrived before the PROPOSAL: with the block known, it decides now.
    if (this.height === m.height) await this.checkCommitted(m.round, m.digest!);
  }

  /**
   * Compares a peer's proposal timestamp with this node's clock (the consensus rule itself is
   * Blockchain.validate's: no more than MAX_CLOCK_DRIFT_MS ahead). A fresh proposal's timestamp
   * is its proposer's clock (a re-proposed prepared block, in a later round, carries an older
   * one): its offset is reported, and a refusal for the timestamp counted; past the allowed
   * drift either way, a warning says which clock is probably wrong (at most once a minute).
   */
  private watchClock(env: Envelope, now: number): void {
    const m = env.message.body;
    const offset = env.block!.header.timestamp - now;
    const fresh = m.round === 0 || env.prepares.length === 0;
    const refused = offset > MAX_CLOCK_DRIFT_MS;
    if (fresh || refused) this.deps.metrics?.proposalClock?.(offset, refused);
    const behind = fresh && offset < -MAX_CLOCK_DRIFT_MS;
    if (!refused && !behind) return;
    if (now - this.lastClockWarning < CLOCK_WARNING_INTERVAL_MS) return;
    this.lastClockWarning = now;
    const fields = { height: m.height, round: m.round, proposer: toHex(env.message.sender), offsetMs: offset, maxDriftMs: MAX_CLOCK_DRIFT_MS };
    if (refused) {
      this.deps.logger.warn(fields, "refusing a proposal whose timestamp is ahead of this node's clock by more than the allowed drift: this node's clock is probably behind; check its time synchronisation (NTP)");
    } else {
      this.deps.logger.warn(fields, "a proposal's timestamp is behind this node's clock by more than the allowed drift: this node's clock is probably ahead, and the other validators refuse its proposals; check its time synchronisation (NTP)");
    }
  }

  private async sendPrepare(round: number, digest: Uint8Array): Promise<void> {
    await this.signAndSend({ type: MsgType.Prepare, height: this.height, round, digest }, {});
    await this.checkPrepared(round);
  }

  /** Stores a PREPARE or COMMIT: one per sender and round; a second with another digest is equivocation. */
  private store(votes: Map<number, Votes>, msg: SignedMessage, from: string): boolean {
    const { round, digest } = msg.body;
    let byDigest = votes.get(round);
    if (!byDigest) votes.set(round, (byDigest = new Map()));
    const sender = hex(msg.sender);
    for (const [d, senders] of byDigest) {
      if (senders.has(sender)) {
        if (d !== hex(digest!)) {
          this.reportEquivocation(senders.get(sender)!, msg);
          this.penalise(from, `equivocating vote in round ${round}`);
        }
        return false;
      }
    }
    let senders = byDigest.get(hex(digest!));
    if (!senders) byDigest.set(hex(digest!), (senders = new Map()));
    senders.set(sender, msg);
    return true;
  }

  private async onVote(votes: Map<number, Votes>, msg: SignedMessage, from: string): Promise<void> {
    if (this.store(votes, msg, from)) await this.checkPrepared(msg.body.round);
  }

  private async checkPrepared(round: number): Promise<void> {
    const proposal = this.proposals.get(round);
    if (!proposal || round !== this.round) return;
    const votes = this.prepares.get(round)?.get(hex(proposal.digest));
    const prepares = votes && this.valset.quorumPrefix([...votes.values()], (m) => m.sender);
    if (!prepares) return;
    if (this.prepared?.round === round) return;
    this.prepared = { round, digest: proposal.digest, block: proposal.executed.block, prepares };
    this.armRoundTimer();
    const seal = this.deps.key.bls.sign(commitVoteMessage(this.deps.chain.chainId, this.height, round, proposal.digest));
    await this.signAndSend(
      { type: MsgType.Commit, height: this.height, round, digest: proposal.digest, seal },
      { block: proposal.executed.block, prepares: this.prepared.prepares, localOnly: true },
    );
  }

  /**
   * A COMMIT's seal is not checked on arrival: when a quorum is in, their aggregate is checked
   * once (certify), which costs what checking one seal would. Only if it fails are the seals
   * checked one by one, to drop (and penalise) the bad ones.
   */
  private async onCommit(msg: SignedMessage, from: string): Promise<void> {
    if (!this.store(this.commits, msg, from)) return;
    this.commitOrigins.set(msg, from);
    await this.checkCommitted(msg.body.round, msg.body.digest!);
  }

  /** The certificate of a quorum of COMMITs, or undefined (after dropping invalid seals) if their seals do not verify. */
  private certify(round: number, digest: Uint8Array, votes: Map<string, SignedMessage>): CommitCertificate | undefined {
    const { chainId } = this.deps.chain;
    const aggregate = (): CommitCertificate | undefined => {
      const signers = [...votes.values()].map((m) => ({ index: this.valset.indexOf(m.sender), signature: m.body.seal! }));
      try {
        const cert = CommitCertificate.aggregate(this.height, round, digest, this.valset.size, signers);
        cert.verify(chainId, this.valset, this.height, digest);
        return cert;
      } catch {
        return undefined; // a seal that is not a signature at all, or one that does not verify
      }
    };
    const cert = aggregate();
    if (cert) return cert;
    const message = commitVoteMessage(chainId, this.height, round, digest);
    for (const [sender, m] of votes) {
      const v = this.valset.validators[this.valset.indexOf(m.sender)]!;
      if (blsVerify(v.blsPublicKey, message, m.body.seal!)) continue;
      votes.delete(sender);
      this.penalise(this.commitOrigins.get(m) ?? 'unknown', 'COMMIT with an invalid seal');
    }
    return this.valset.hasQuorum([...votes.values()].map((m) => m.sender)) ? aggregate() : undefined;
  }

  private async checkCommitted(round: number, digest: Uint8Array): Promise<void> {
    const votes = this.commits.get(round)?.get(hex(digest));
    if (!votes || this.committing || !this.valset.hasQuorum([...votes.values()].map((m) => m.sender))) return;
    let executed = this.executedProposal(digest);
    if (!executed && this.prepared && equalBytes(this.prepared.digest, digest)) {
      try {
        executed = this.deps.chain.validate(this.prepared.block, (t) => this.deps.txs.isVerified(t));
      } catch (e) {
        this.deps.logger.error({ err: e }, 'a quorum committed a block this node cannot execute');
        return;
      }
    }
    if (!executed) return; // block sync will fetch it
    const cert = this.certify(round, digest, votes);
    if (!cert) return; // some seals were bad: wait for others
    await this.commitBlock(executed, cert);
  }

  /** Commits an executed block of this height with its (verified) certificate and starts the next height. */
  private async commitBlock(executed: ExecutedBlock, cert: CommitCertificate): Promise<void> {
    const { round, blockHash: digest } = cert;
    const signers = cert.signerIndices();
    this.committing = true;
    this.committingDigest = digest;
    try {
      await this.deps.chain.commit(executed, cert, { certificateVerified: true });
    } finally {
      this.committing = false;
      this.committingDigest = undefined;
    }
    const block = executed.block;
    this.deps.logger.info({ height: block.height, round, txs: block.transactions.length, signers: signers.length, hash: toHex(digest) }, 'committed block');
    this.deps.metrics?.committedBlock(block.height, round);
    this.deps.txs.update(block.transactions);
    this.deps.env.committed?.(block.withCertificate(cert), equalBytes(block.header.proposer, this.deps.key.address));
    await this.startHeight(false);
  }

  private async onRoundChange(env: Envelope, from: string): Promise<void> {
    const m = env.message.body;
    if (m.round === 0) return this.penalise(from, 'ROUND-CHANGE to round 0');
    if (m.prepared) {
      if (!env.block || !equalBytes(env.block.hash(), m.prepared.digest) || m.prepared.round >= m.round || !isPreparedCertificate(this.deps.chain.chainId, this.valset, this.height, m.prepared.round, m.prepared.digest, env.prepares)) {
        return this.penalise(from, 'ROUND-CHANGE with an invalid prepared certificate');
      }
    }
    let rcs = this.roundChanges.get(m.round);
    if (!rcs) this.roundChanges.set(m.round, (rcs = new Map()));
    const sender = hex(env.message.sender);
    if (rcs.has(sender)) return;
    rcs.set(sender, env);

    // Validators holding more than the faulty power (IBFT's f+1) are in later rounds: follow them to the lowest of those rounds.
    if (m.round > this.round) {
      const ahead = new Map<string, { round: number; sender: Uint8Array }>();
      for (const [r, byS] of this.roundChanges) {
        if (r <= this.round) continue;
        for (const [s, e] of byS) if (!ahead.has(s) || ahead.get(s)!.round > r) ahead.set(s, { round: r, sender: e.message.sender });
      }
      const senders = [...ahead.values()];
      if (this.valset.exceedsFaulty(senders.map((a) => a.sender))) await this.roundChangeTo(Math.min(...senders.map((a) => a.round)), `${ahead.size} validators are in later rounds`);
    }
    await this.maybeProposeAfterRoundChange(m.round);
  }

  // ---------------------------------------------------------------- signing

  /**
   * Signs, records durably, then sends. Never signs a second, different message for the same
   * (height, round, type): if the sign log has one, it is re-sent instead.
   */
  private async signAndSend(
    body: MessageBody,
    extra: { block?: Block; roundChanges?: SignedMessage[]; prepares?: SignedMessage[]; localOnly?: boolean },
  ): Promise<Envelope | undefined> {
    const { signLog, key, chain } = this.deps;
    // A node signs only for heights whose validator set holds it (the set changes by height: it
    // may not be a validator yet, or any more); it follows the chain meanwhile.
    if (!chain.validatorSet(body.height).has(key.address)) return undefined;
    // Safety first: a validator that cannot write its blocks signs nothing more (it could not keep what it votes for).
    if (chain.writeFailure) {
      this.deps.logger.warn({ height: body.height, round: body.round, type: body.type, failedHeight: chain.writeFailure.height }, 'not signing: a block could not be written to disk');
      return undefined;
    }
    // What this validator signed at this height: read from the sign log at start, kept since.
    const prior = body.height === this.height ? this.signed.get(`${body.round}/${body.type}`) : await signLog.get(body.height, body.round, body.type);
    if (prior) {
      const old = decodeEnvelope(prior);
      const same = body.type === MsgType.RoundChange || (old.message.body.digest && equalBytes(old.message.body.digest, body.digest!));
      if (!same) {
        this.deps.logger.warn({ height: body.height, round: body.round, type: body.type }, 'refusing to sign a message that conflicts with one signed before');
        return undefined;
      }
      this.broadcast(stripLocal(old));
      await this.onEnvelope(old, 'self');
      return old;
    }
    const message = SignedMessage.sign(chain.chainId, body, key.address, key.ed25519);
    const full: Envelope = { message, block: extra.block, roundChanges: extra.roundChanges ?? [], prepares: extra.prepares ?? [] };
    const encoded = encodeEnvelope(full);
    await signLog.record(body.height, body.round, body.type, encoded);
    if (body.height === this.height) this.signed.set(`${body.round}/${body.type}`, encoded);
    const sent = extra.localOnly ? stripLocal(full) : full;
    this.broadcast(sent, sent === full ? encoded : undefined);
    if (body.type !== MsgType.Proposal) await this.onEnvelope(sent, 'self');
    return full;
  }
}

/** A COMMIT is sent bare; its block and PREPAREs are kept only in the sign log. */
function stripLocal(e: Envelope): Envelope {
  return e.message.type === MsgType.Commit ? { message: e.message, roundChanges: [], prepares: [] } : e;
}
