/**
 * What a node does for the chain by itself, with its validator key, so that no operator has to:
 *
 * - **Ready.** Once its key is a registered validator that has not yet declared itself ready
 *   (staking.ready) and the node has caught up with the chain, it sends `staking.ready` signed by
 *   that key: the validator joins the set only when its node is up (Besu halted when a validator
 *   was voted in before it was online).
 * - **Evidence.** Two conflicting messages its consensus engine saw from one validator (one
 *   height, round and type) become a `staking.evidence` transaction, once per offender and height,
 *   sent after the chain has passed that height (evidence for the current height is refused).
 *
 * The fees are paid from the validator key's own account (its address holds NEX for them; the
 * node logs a warning when it cannot pay). One duty transaction is in flight at a time, with the
 * key's next nonce; one that is not committed within RESEND_BLOCKS blocks is sent again.
 */
import type { Logger } from 'pino';
import { Transaction, formatAddress, toHex, toKey, voteTarget, type DuplicateVoteEvidence } from '../chain/index.js';
import type { Blockchain } from '../consensus/blockchain.js';
import type { ValidatorKey } from '../consensus/keys.js';
import { getNonce } from '../vm/accounts.js';
import type { FeeHandler } from '../vm/module.js';
import { encodeStaking, type StakingArgs, type StakingModule } from '../vm/modules/staking/index.js';

/** A duty transaction not committed within this many blocks is sent again (it may have been dropped). */
const RESEND_BLOCKS = 20;
/** The node has caught up when its head is no older than this (and block sync is idle). */
const CAUGHT_UP_MS = 30_000;
/** Evidence waiting to be sent, at most (the oldest is dropped past it: one offender cannot fill memory). */
const MAX_PENDING_EVIDENCE = 64;

interface InFlight {
  hash: Uint8Array;
  what: string;
  sentAt: number;
}

export class ValidatorDuties {
  private inFlight: InFlight | undefined;
  private readonly evidence = new Map<string, { height: number; e: DuplicateVoteEvidence }>();
  private readonly done = new Set<string>();
  private readonly onCommitted = () => void this.tick();
  private busy = false;

  constructor(
    private readonly deps: {
      chain: Blockchain;
      key: ValidatorKey;
      staking: StakingModule;
      fees: FeeHandler;
      submit: (raw: Uint8Array) => Promise<Transaction>;
      syncing: () => boolean;
      now: () => number;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.deps.chain.on('committed', this.onCommitted);
  }

  stop(): void {
    this.deps.chain.off('committed', this.onCommitted);
  }

  /** Equivocation the engine saw: kept until the chain has passed its height, then sent once. */
  reportEquivocation(e: DuplicateVoteEvidence): void {
    let height: number;
    try {
      height = voteTarget(e.a.body).height;
    } catch {
      return;
    }
    const id = `${formatAddress(e.sender)}@${height}`;
    if (this.done.has(id) || this.evidence.has(id)) return;
    if (this.evidence.size >= MAX_PENDING_EVIDENCE) this.evidence.delete(this.evidence.keys().next().value!);
    this.evidence.set(id, { height, e });
    this.deps.logger.warn({ validator: formatAddress(e.sender), height }, 'a validator signed two conflicting consensus messages: evidence will be sent to the chain');
  }

  /** On each committed block: the in-flight transaction's fate, then the next duty if there is one. */
  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.step();
    } catch (e) {
      this.deps.logger.warn({ err: (e as Error).message }, 'a validator duty failed; it is tried again at a later block');
    } finally {
      this.busy = false;
    }
  }

  private async step(): Promise<void> {
    const { chain, key, staking } = this.deps;
    const state = chain.state;
    if (this.inFlight) {
      const committed = await chain.blocks.txLocation(this.inFlight.hash);
      if (committed) {
        this.deps.logger.info({ duty: this.inFlight.what, height: committed.height }, 'validator duty committed');
        this.inFlight = undefined;
      } else if (chain.height - this.inFlight.sentAt < RESEND_BLOCKS) return;
      else {
        this.deps.logger.warn({ duty: this.inFlight.what }, `validator duty not committed within ${RESEND_BLOCKS} blocks: sending it again`);
        this.inFlight = undefined;
      }
    }
    if (!staking.enabled(state)) return;
    for (const [id, { height, e }] of this.evidence) {
      if (height >= chain.height + 1) continue; // its height is not committed yet
      this.evidence.delete(id);
      if (!staking.takesEvidence(state, e.sender, height)) {
        this.done.add(id);
        continue;
      }
      if (await this.send({ method: 'evidence', args: e }, `evidence against ${id}`)) this.done.add(id);
      return;
    }
    if (staking.awaitsReady(state, key.address) && this.caughtUp()) await this.send({ method: 'ready', args: {} }, 'ready');
  }

  private caughtUp(): boolean {
    return !this.deps.syncing() && this.deps.now() - this.deps.chain.head.timestamp <= CAUGHT_UP_MS;
  }

  /** Signs and submits a staking transaction from the validator key; false if the node's mempool refused it. */
  private async send(args: StakingArgs, what: string): Promise<boolean> {
    const { chain, key, fees } = this.deps;
    const state = chain.state;
    const fee = fees.minFee(state);
    if (fees.feeBalance(state, toKey(key.address)) < fee) {
      this.deps.logger.warn({ duty: what, address: formatAddress(key.address), fee: fee.toString() }, 'the validator key cannot pay the fee of its duty transaction: send it some NEX');
      return false;
    }
    const tx = Transaction.sign({ chainId: chain.chainId, nonce: getNonce(state, key.address), sender: key.ed25519.publicKey, fee, kind: `staking.${args.method}`, payload: encodeStaking(args) }, key.ed25519);
    try {
      await this.deps.submit(tx.serialize());
    } catch (e) {
      this.deps.logger.warn({ duty: what, err: (e as Error).message }, 'the node refused its own duty transaction');
      return false;
    }
    this.inFlight = { hash: tx.hash(), what, sentAt: chain.height };
    this.deps.logger.info({ duty: what, tx: toHex(tx.hash()) }, 'validator duty sent');
    return true;
  }
}
