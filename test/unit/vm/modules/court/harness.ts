import { expect } from 'chai';
import type { UpgradeHandler } from '../../../../../vm/upgrades/index.js';
import type { ModuleFault } from '../../../../../vm/index.js';
import { ReceiptStatus, type Ed25519Key, type Transaction } from '../../../../../chain/index.js';
import { encodeCourt, type CourtArgs, type ProposalContent } from '../../../../../vm/modules/court/index.js';
import { getNonce } from '../../../../../vm/index.js';
import { accountKey, MIN_FEE, signedTx, transferTx, validatorKey } from '../../../fixtures.js';
import { GEN_UNIT, StakingChain, addressFromKey, stakingGenesis } from '../staking/harness.js';

export const GOV = {
  minDeposit: String(100n * GEN_UNIT),
  minInitialDepositPpm: '100000',
  depositPeriodBlocks: '5',
  votingPeriodBlocks: '6',
  emergencyVotingBlocks: '2',
  minProposerStake: String(GEN_UNIT),
};

/** The staking test chain with governance on short periods, four validators funded with NEX for their fees, and two delegators. */
export class GovChain extends StakingChain {
  constructor(params: Record<string, string> = {}, o: { permissioned?: boolean; upgrades?: ReadonlyMap<string, UpgradeHandler>; onFault?: (f: ModuleFault) => void } = {}) {
    const doc = stakingGenesis({ accounts: 6 });
    if (o.permissioned) doc.modules.staking = { ...(doc.modules.staking as object), permissioned: true };
    doc.modules.court = { params: { ...GOV, ...params } };
    super(doc, { ...(o.upgrades ? { upgrades: o.upgrades } : {}), ...(o.onFault ? { onFault: o.onFault } : {}) });
    // Validators (their own operators at genesis) get NEX for fees; accounts 0 and 1 delegate 10 and 5 GEN to validator 0.
    this.block([0, 1, 2, 3].map((i) => transferTx(accountKey(4), BigInt(i), validatorKey(i).address, 'NEX', 10_000_000n)));
    this.ok(accountKey(0), { method: 'delegate', args: { validator: validatorKey(0).address, amount: 10n * GEN_UNIT } });
    this.ok(accountKey(1), { method: 'delegate', args: { validator: validatorKey(0).address, amount: 5n * GEN_UNIT } });
  }

  /** A signed court transaction of `key`; `ahead`: the how-manyth of its transactions in the coming block. */
  govTx(key: Ed25519Key, a: CourtArgs, ahead = 0): Transaction {
    return signedTx(key, { nonce: getNonce(this.world, addressFromKey(key)) + BigInt(ahead), kind: `court.${a.method}`, payload: encodeCourt(a), fee: MIN_FEE });
  }

  gov(key: Ed25519Key, a: CourtArgs) {
    return this.block([this.govTx(key, a)]).receipts[0]!;
  }

  /** Account 0 (10 of 19 bonded GEN) and validators 1–3 vote yes on each proposal, in one block. */
  voteYes(...ids: number[]): void {
    const voters = [accountKey(0), ...[1, 2, 3].map((i) => validatorKey(i).ed25519)];
    const r = this.block(voters.flatMap((k) => ids.map((id, n) => this.govTx(k, { method: 'vote', args: { id, option: 'yes' } }, n))));
    expect(r.receipts.every((x) => x.status === ReceiptStatus.Success)).to.equal(true);
  }

  govOk(key: Ed25519Key, a: CourtArgs) {
    const r = this.gov(key, a);
    expect(r.status, `${a.method}: ${r.errorCode} ${r.errorMessage}`).to.equal(ReceiptStatus.Success);
    return r;
  }

  govFails(key: Ed25519Key, a: CourtArgs, code: string): string {
    const r = this.gov(key, a);
    expect(r.status, `${a.method} should fail with ${code}`).to.equal(ReceiptStatus.Failed);
    expect(r.errorCode, r.errorMessage).to.equal(code);
    return r.errorMessage;
  }

  propose(content: ProposalContent, o: { deposit?: bigint; emergency?: boolean; key?: Ed25519Key } = {}): number {
    const r = this.govOk(o.key ?? accountKey(0), { method: 'propose', args: { title: `a ${content.kind} proposal`, summary: 'why', content, emergency: o.emergency ?? false, deposit: o.deposit ?? 100n * GEN_UNIT } });
    return Number(Object.fromEntries(r.events.find((e) => e.type === 'proposal_submitted')!.attributes).id);
  }

  proposal(id: number): Record<string, unknown> {
    return this.modules.court.query({ state: this.world, height: this.height }, 'proposal', { id }) as Record<string, unknown>;
  }

  /** Runs blocks until proposal `id` has ended. */
  untilEnded(id: number): Record<string, unknown> {
    for (let i = 0; i < 20 && ['deposit', 'voting'].includes(this.proposal(id).status as string); i++) this.block();
    return this.proposal(id);
  }

  courtEvents(type: string): Record<string, string>[] {
    return this.blockEvents.flat().filter((e) => e.module === 'court' && e.type === type).map((e) => Object.fromEntries(e.attributes));
  }
}

