import { expect } from 'chai';
import { moduleAddress } from '../../../../../chain/index.js';
import { CourtErrorCode as E, type ProposalContent } from '../../../../../vm/modules/court/index.js';
import { getNonce } from '../../../../../vm/index.js';
import { accountKey, addressOf, MIN_FEE, signedTx, transferTx, validatorKey } from '../../../fixtures.js';
import { GEN_UNIT } from '../staking/harness.js';
import { GovChain } from './harness.js';

const minFee = (c: GovChain) => c.modules.bank.minFee(c.world);

describe('vm/modules/court: governance', () => {
  it('a parameter change that passes is executed in the end-block of its voting period, and deposits return', () => {
    const c = new GovChain();
    const before = c.gen(addressOf(accountKey(0)));
    const id = c.propose({ kind: 'params', changes: [{ module: 'bank', values: [['minFee', 2000n]] }] });
    expect(c.proposal(id)).to.include({ status: 'voting', totalDeposit: String(100n * GEN_UNIT) });
    expect(c.gen(addressOf(accountKey(0)))).to.equal(before - 100n * GEN_UNIT);
    c.govOk(accountKey(0), { method: 'vote', args: { id, option: 'yes' } });
    c.govOk(validatorKey(1).ed25519, { method: 'vote', args: { id, option: 'yes' } });
    const live = c.proposal(id);
    expect(live.wouldPass).to.equal(true);
    // account 0's 10 GEN (of validator 0's 16) and validator 1's 1: 11 of the 19 bonded.
    expect(live.tally).to.deep.include({ yes: String(11n * GEN_UNIT), bonded: String(19n * GEN_UNIT) });
    const votingEnd = live.votingEnd as number;
    while (c.height < votingEnd - 1) c.block();
    expect(minFee(c)).to.equal(MIN_FEE);
    c.block(); // the block at votingEnd: tallied and executed
    expect(c.height).to.equal(votingEnd);
    expect(minFee(c)).to.equal(2000n);
    const done = c.proposal(id);
    expect(done).to.include({ status: 'passed', reason: '', endHeight: votingEnd });
    expect(c.gen(addressOf(accountKey(0)))).to.equal(before);
    const ended = c.blockEvents.at(-1)!;
    expect(ended.map((e) => `${e.module}/${e.type}`)).to.include.members(['bank/params_changed', 'court/deposits_refunded', 'court/proposal_ended']);
    // From the next block on, a block with a transaction paying the old minimum is invalid.
    const cheap = transferTx(accountKey(2), getNonce(c.world, addressOf(accountKey(2))), addressOf(accountKey(3)), 'NEX', 1n);
    expect(() => c.block([cheap])).to.throw(/cannot pay its fee: fee 1000 is below the minimum fee 2000 NEX/);
  });

  it('a delegator who does not vote follows its validator; one who votes counts for itself', () => {
    const c = new GovChain();
    const id = c.propose({ kind: 'text' });
    c.govOk(validatorKey(0).ed25519, { method: 'vote', args: { id, option: 'no' } });
    c.govOk(accountKey(1), { method: 'vote', args: { id, option: 'yes' } });
    // Validator 0 holds 16 GEN: 5 of them account 1's (yes), the other 11 follow its operator (no).
    expect(c.proposal(id).tally).to.deep.include({ yes: String(5n * GEN_UNIT), no: String(11n * GEN_UNIT), abstain: '0', veto: '0' });
    const done = c.untilEnded(id);
    expect(done.status).to.equal('rejected');
    expect(done.reason).to.match(/^threshold not reached: yes was 31.25% of yes, no and veto; more than 67.00% needed$/);
  });

  it('below quorum is rejected with its deposits refunded; a veto burns them', () => {
    const c = new GovChain();
    const a = addressOf(accountKey(1));
    const quiet = c.propose({ kind: 'text' }, { key: accountKey(1) });
    c.govOk(validatorKey(2).ed25519, { method: 'vote', args: { id: quiet, option: 'yes' } });
    const q = c.untilEnded(quiet);
    expect(q.status).to.equal('rejected');
    expect(q.reason).to.match(/^quorum not reached: 5.26% of the bonded GEN voted, 33.00% needed$/);
    const afterRefund = c.gen(a);
    const supply = c.modules.bank.supply(c.world, 'GEN');
    const vetoed = c.propose({ kind: 'text' }, { key: accountKey(1) });
    c.govOk(accountKey(0), { method: 'vote', args: { id: vetoed, option: 'veto' } });
    const v = c.untilEnded(vetoed);
    expect(v.status).to.equal('vetoed');
    expect(c.gen(a)).to.equal(afterRefund - 100n * GEN_UNIT);
    expect(c.modules.bank.supply(c.world, 'GEN')).to.equal(supply - 100n * GEN_UNIT);
    expect(c.gen(moduleAddress('court'))).to.equal(0n);
  });

  it('a proposal that never reaches its deposit expires at the end of the deposit period and its deposits burn', () => {
    const c = new GovChain();
    const id = c.propose({ kind: 'text' }, { deposit: 10n * GEN_UNIT });
    expect(c.proposal(id).status).to.equal('deposit');
    c.govFails(accountKey(0), { method: 'vote', args: { id, option: 'yes' } }, E.NotVoting);
    c.govOk(accountKey(1), { method: 'deposit', args: { id, amount: 20n * GEN_UNIT } });
    const p = c.untilEnded(id);
    expect(p).to.include({ status: 'expired', totalDeposit: String(30n * GEN_UNIT) });
    expect(c.courtEvents('deposits_burned')).to.deep.equal([{ id: String(id), amount: String(30n * GEN_UNIT), depositors: '2' }]);
    c.govFails(accountKey(1), { method: 'deposit', args: { id, amount: 1n } }, E.ProposalClosed);
  });

  it('a deposit that reaches the minimum starts the voting period at once', () => {
    const c = new GovChain();
    const id = c.propose({ kind: 'text' }, { deposit: 10n * GEN_UNIT });
    c.govOk(accountKey(1), { method: 'deposit', args: { id, amount: 90n * GEN_UNIT } });
    expect(c.proposal(id)).to.include({ status: 'voting', votingStart: c.height, votingEnd: c.height + 6 });
  });

  it('a treasury spend pays out; a spend the treasury can no longer pay fails at execution and changes nothing', () => {
    const c = new GovChain();
    const treasury = moduleAddress('treasury');
    c.block([transferTx(accountKey(5), 0n, treasury, 'NEX', 1_000n)]);
    const held = c.nex(treasury);
    const to = addressOf(accountKey(3));
    const first = c.propose({ kind: 'spend', payments: [{ to, asset: 'NEX', amount: held }] });
    const second = c.propose({ kind: 'spend', payments: [{ to, asset: 'NEX', amount: held }] }, { key: accountKey(1) });
    for (const id of [first, second]) {
      c.govOk(accountKey(0), { method: 'vote', args: { id, option: 'yes' } });
      c.govOk(accountKey(1), { method: 'vote', args: { id, option: 'yes' } });
    }
    const before = c.nex(to);
    expect(c.untilEnded(first).status).to.equal('passed');
    expect(c.nex(to)).to.equal(before + held);
    const s = c.untilEnded(second);
    expect(s.status).to.equal('failed');
    expect(s.reason).to.match(/^COURT_TREASURY_TOO_LOW: the treasury holds \d+ NEX \(base units\), the spend pays \d+$/);
    expect(c.nex(to)).to.equal(before + held);
    // Its deposits were refunded all the same.
    expect(c.gen(moduleAddress('court'))).to.equal(0n);
  });

  it('an emergency proposal needs 80% and votes for a shorter period', () => {
    const c = new GovChain();
    const id = c.propose({ kind: 'params', changes: [{ module: 'court', values: [['maxVoters', 500n]] }] }, { emergency: true });
    expect((c.proposal(id).votingEnd as number) - c.height).to.equal(2);
    c.govOk(accountKey(0), { method: 'vote', args: { id, option: 'yes' } }); // 10 of validator 0's 16
    c.govOk(validatorKey(0).ed25519, { method: 'vote', args: { id, option: 'no' } }); // its other 6
    const p = c.untilEnded(id);
    expect(p.status).to.equal('rejected');
    expect(p.reason).to.match(/more than 80.00% needed$/);
    expect(c.modules.court.params.get(c.world).maxVoters).to.equal(10_000n);
  });

  it('bad input: each a clear error in the receipt, nothing changed but the fee', () => {
    const c = new GovChain();
    const a0 = accountKey(0);
    const bad = (content: ProposalContent, code: string, deposit = 100n * GEN_UNIT) => c.govFails(a0, { method: 'propose', args: { title: 't', summary: '', content, emergency: false, deposit } }, code);
    expect(bad({ kind: 'params', changes: [{ module: 'nope', values: [['x', 1n]] }] }, E.InvalidParams)).to.match(/no module "nope" has parameters \(modules with parameters: bank, consensus, staking, docklock, enc, court\)/);
    expect(bad({ kind: 'params', changes: [{ module: 'bank', values: [['maxFee', 1n]] }] }, E.InvalidParams)).to.match(/bank has no parameter "maxFee"/);
    // A change that would leave the set invalid as a whole (minValidators above maxValidators).
    expect(bad({ kind: 'params', changes: [{ module: 'staking', values: [['minValidators', 200n]] }] }, E.InvalidParams)).to.match(/minValidators must not exceed maxValidators/);
    expect(bad({ kind: 'spend', payments: [{ to: addressOf(a0), asset: 'NEX', amount: 10n ** 20n }] }, E.TreasuryTooLow)).to.match(/the treasury holds/);
    expect(bad({ kind: 'spend', payments: [{ to: addressOf(a0), asset: 'XYZ', amount: 1n }] }, E.InvalidPayload)).to.match(/unknown asset "XYZ"/);
    expect(bad({ kind: 'text' }, E.InitialDepositTooLow, 1n)).to.match(/at least 10000000 \(10.00% of minDeposit 100000000\)/);
    // No stake: account 5 has bonded nothing.
    expect(c.govFails(accountKey(5), { method: 'propose', args: { title: 't', summary: '', content: { kind: 'text' }, emergency: false, deposit: 100n * GEN_UNIT } }, E.ProposerStakeTooLow)).to.match(/has 0 GEN/);
    const id = c.propose({ kind: 'text' });
    c.govFails(accountKey(5), { method: 'vote', args: { id, option: 'yes' } }, E.NoStake);
    c.govFails(a0, { method: 'vote', args: { id: 99, option: 'yes' } }, E.UnknownProposal);
    c.govFails(a0, { method: 'deposit', args: { id, amount: 0n } }, E.ZeroAmount);
    const bytes = signedTx(a0, { nonce: getNonce(c.world, addressOf(a0)), kind: 'court.vote', payload: new Uint8Array([0xc2, 0x01, 0x09]), fee: MIN_FEE });
    const r = c.block([bytes]).receipts[0]!;
    expect([r.errorCode, r.errorMessage]).to.deep.equal([E.InvalidPayload, 'bad court.vote payload: option must be 1 (yes), 2 (abstain), 3 (no) or 4 (veto), not 9']);
    // Nothing was written by the failures: one proposal, no deposits but its own.
    expect(c.modules.court.query({ state: c.world, height: c.height }, 'proposals', {})).to.deep.include({ next: null });
    expect((c.proposal(id).deposits as unknown[]).length).to.equal(1);
  });

  it('votes can be changed until the end; the tally uses the stake bonded at the end of voting', () => {
    const c = new GovChain();
    const id = c.propose({ kind: 'text' });
    c.govOk(accountKey(0), { method: 'vote', args: { id, option: 'no' } });
    c.govOk(accountKey(0), { method: 'vote', args: { id, option: 'yes' } });
    expect(c.proposal(id)).to.include({ voters: 1 });
    // Account 0 bonds 20 more GEN during the period: its yes weighs 30 GEN at the end.
    c.ok(accountKey(0), { method: 'delegate', args: { validator: validatorKey(0).address, amount: 20n * GEN_UNIT } });
    const p = c.untilEnded(id);
    expect(p.tally).to.deep.include({ yes: String(30n * GEN_UNIT), no: '0' });
    expect(p.status).to.equal('passed');
    // Votes are removed once tallied.
    expect(c.modules.court.query({ state: c.world, height: c.height }, 'votes', { id })).to.deep.equal({ id, votes: [], next: null });
  });
});
