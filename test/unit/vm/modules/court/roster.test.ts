import { expect } from 'chai';
import { formatAddress, moduleAddress } from '../../../../../chain/index.js';
import { StakingErrorCode as SE, type StakingKeeper } from '../../../../../vm/modules/staking/index.js';
import { getNonce, type ModuleFault } from '../../../../../vm/index.js';
import type { ProposalContent } from '../../../../../vm/modules/court/index.js';
import { accountKey, addressOf, transferTx, validatorKey } from '../../../fixtures.js';
import { GEN_UNIT, createArgs } from '../staking/harness.js';
import { GovChain } from './harness.js';

const NEW = validatorKey(4);
const OPERATOR = accountKey(5);

const admit = (o: { pop?: Uint8Array; operator?: Uint8Array; organisation?: string } = {}): Extract<ProposalContent, { kind: 'roster_add' }> => ({
  kind: 'roster_add',
  organisation: o.organisation ?? 'Acme Compute',
  operator: o.operator ?? addressOf(OPERATOR),
  publicKey: NEW.ed25519.publicKey,
  blsPublicKey: NEW.bls.publicKey,
  proofOfPossession: o.pop ?? NEW.bls.proofOfPossession(),
});

function pass(c: GovChain, id: number) {
  c.voteYes(id);
  return c.untilEnded(id);
}

const roster = (c: GovChain) => c.staking.query({ state: c.world, height: c.height }, 'roster', {}) as { permissioned: boolean; roster: { address: string; organisation: string; operator: string; registered: boolean }[] };
const status = (c: GovChain, v: Uint8Array) => (c.staking.query({ state: c.world, height: c.height }, 'validator', { address: v }) as { status: string }).status;

describe('vm/modules/court: the validator roster of a permissioned chain', () => {
  it('an open chain has no roster: a roster proposal is refused', () => {
    const c = new GovChain();
    expect(roster(c)).to.deep.equal({ permissioned: false, roster: [], next: null });
    const msg = c.govFails(accountKey(0), { method: 'propose', args: { title: 't', summary: '', content: admit(), emergency: false, deposit: 100n * GEN_UNIT } }, SE.NotPermissioned);
    expect(msg).to.match(/this chain is open/);
  });

  it('genesis validators are on the roster; an organisation off it cannot bond until a proposal admits it, then bonds and joins the set', () => {
    const c = new GovChain({}, { permissioned: true });
    expect(roster(c).roster.map((r) => r.organisation)).to.have.members(['genesis-0', 'genesis-1', 'genesis-2', 'genesis-3']);
    c.block([transferTx(accountKey(4), getNonce(c.world, addressOf(accountKey(4))), NEW.address, 'NEX', 10_000_000n)]);
    // Off the roster: create_validator is refused.
    expect(c.fails(OPERATOR, createArgs(NEW, 2n * GEN_UNIT), SE.NotOnRoster)).to.match(/not on its roster: a governance proposal \(gov propose roster-add\) must admit it first/);
    // A proposal whose proof of possession is another key's is refused when proposed.
    const bad = (content: ProposalContent, code: string) => c.govFails(accountKey(0), { method: 'propose', args: { title: 't', summary: '', content, emergency: false, deposit: 100n * GEN_UNIT } }, code);
    expect(bad(admit({ pop: validatorKey(5).bls.proofOfPossession() }), SE.BadPossession)).to.match(/proof of possession/);
    expect(bad(admit({ organisation: '' }), SE.InvalidRosterEntry)).to.match(/1 to 64 bytes of UTF-8/);
    expect(bad({ ...admit(), publicKey: validatorKey(1).ed25519.publicKey, blsPublicKey: validatorKey(1).bls.publicKey, proofOfPossession: validatorKey(1).bls.proofOfPossession() }, SE.AlreadyOnRoster)).to.match(/already on the roster/);
    expect(bad({ kind: 'roster_remove', address: NEW.address }, SE.NotOnRoster)).to.match(/is not on the roster/);

    const id = c.propose(admit());
    const p = pass(c, id);
    expect(p).to.include({ status: 'passed', reason: '' });
    expect(c.blockEvents.at(-1)!.filter((e) => e.type === 'roster_added').map((e) => Object.fromEntries(e.attributes))).to.deep.equal([{ validator: formatAddress(NEW.address), organisation: 'Acme Compute', operator: formatAddress(addressOf(OPERATOR)) }]);
    expect(roster(c).roster.find((r) => r.address === formatAddress(NEW.address))).to.deep.include({ organisation: 'Acme Compute', registered: false });

    // Only the operator the roster names may bond it.
    expect(c.fails(accountKey(1), createArgs(NEW, 2n * GEN_UNIT), SE.RosterMismatch)).to.match(/the roster names .* as the operator/);
    c.ok(OPERATOR, createArgs(NEW, 2n * GEN_UNIT));
    c.ok(NEW.ed25519, { method: 'ready', args: {} });
    c.blocks(4);
    expect(c.powerAt(c.height + 1, NEW.address) > 0n, 'in the set').to.equal(true);
    expect(status(c, NEW.address)).to.equal('active');
  });

  it('removing a validator from the roster takes it out of the set at once and unbonds its self-bond; it takes no more delegations', () => {
    const c = new GovChain({}, { permissioned: true });
    const gone = validatorKey(3).address;
    const organisationOf = (a: Uint8Array) => roster(c).roster.find((r) => r.address === formatAddress(a))!.organisation;
    const organisation = organisationOf(gone);
    expect(organisation).to.match(/^genesis-[0-3]$/);
    const bondedBefore = c.gen(moduleAddress('staking_unbonding'));
    const id = c.propose({ kind: 'roster_remove', address: gone });
    const p = pass(c, id);
    expect(p.status).to.equal('passed');
    const ended = c.blockEvents.at(-1)!;
    const removed = ended.filter((e) => e.type === 'roster_removed').map((e) => Object.fromEntries(e.attributes));
    expect(removed).to.deep.equal([{ validator: formatAddress(gone), organisation, selfBondUnbonded: String(GEN_UNIT) }]);
    // Staking's end-block runs before the court's: the next one hands consensus the removal (power 0 two heights on), whatever maxPowerChangePpm allows.
    c.block();
    const change = c.blockEvents.at(-1)!.find((e) => e.type === 'power_changed' && Object.fromEntries(e.attributes).validator === formatAddress(gone));
    expect(change && Object.fromEntries(change.attributes)).to.deep.include({ to: '0' });
    c.blocks(2);
    expect(c.powerAt(c.height + 1, gone)).to.equal(0n);
    expect(status(c, gone)).to.equal('removed');
    expect(c.gen(moduleAddress('staking_unbonding')) - bondedBefore).to.equal(GEN_UNIT);
    expect(c.fails(accountKey(1), { method: 'delegate', args: { validator: gone, amount: GEN_UNIT } }, SE.NotOnRoster)).to.match(/was removed from the roster/);
    c.checkGen();
  });

  it('an execution that throws something other than a coded error (a bug) fails the proposal with COURT_EXECUTION_FAULT, changes nothing, and is reported to the node with its error', () => {
    const faults: ModuleFault[] = [];
    const c = new GovChain({}, { permissioned: true, onFault: (f) => faults.push(f) });
    const id = c.propose(admit());
    // The test plays the bug: the keeper the court was handed throws a plain Error.
    const keeper = (c.modules.court as unknown as { deps: { staking: StakingKeeper } }).deps.staking;
    keeper.changeRoster = () => {
      throw new Error('boom');
    };
    const p = pass(c, id);
    expect(p).to.include({ status: 'failed', reason: 'COURT_EXECUTION_FAULT: the execution failed on a fault of the node' });
    expect(faults.map((f) => [f.module, f.where, (f.error as Error).message])).to.deep.equal([['court', `execution of proposal ${id}`, 'boom']]);
    expect(roster(c).roster.some((r) => r.address === formatAddress(NEW.address))).to.equal(false);
  });

  it('a passed admission that can no longer execute (its BLS key was taken meanwhile) fails with the reason and changes nothing', () => {
    const c = new GovChain({}, { permissioned: true });
    const first = c.propose(admit());
    const second = c.propose({ ...admit({ organisation: 'Twice' }) });
    c.voteYes(first, second);
    expect(c.untilEnded(first).status).to.equal('passed');
    const p = c.untilEnded(second);
    expect(p.status).to.equal('failed');
    expect(p.reason).to.match(/^STAKING_ALREADY_ON_ROSTER: /);
    expect(roster(c).roster.find((r) => r.address === formatAddress(NEW.address))).to.deep.include({ organisation: 'Acme Compute' });
  });
});
