import { expect } from 'chai';
import { refuseEarlyUpgrade, upgradeGate } from '../../../../../node/upgrade.js';
import { CourtErrorCode as E, type ProposalContent } from '../../../../../vm/modules/court/index.js';
import type { UpgradeHandler } from '../../../../../vm/upgrades/index.js';
import { accountKey } from '../../../fixtures.js';
import { GEN_UNIT } from '../staking/harness.js';
import { GovChain } from './harness.js';

const plan = (c: GovChain) => c.modules.court.query({ state: c.world, height: c.height }, 'plan', {}) as { plan: { name: string; height: number; info: string } | null; done: { name: string; height: number }[] };
const bad = (c: GovChain, content: ProposalContent, code: string) => c.govFails(accountKey(0), { method: 'propose', args: { title: 't', summary: '', content, emergency: false, deposit: 100n * GEN_UNIT } }, code);

describe('vm/modules/court: software upgrade plans', () => {
  it('bad plans are refused when proposed: a malformed name, a height not ahead, a cancel with no plan', () => {
    const c = new GovChain();
    expect(bad(c, { kind: 'upgrade', name: '-v2', height: 100, info: '' }, E.InvalidUpgrade)).to.match(/a letter or digit/);
    expect(bad(c, { kind: 'upgrade', name: 'v2', height: c.height + 1, info: '' }, E.UpgradeHeightPassed)).to.match(/is not after the current height/);
    expect(bad(c, { kind: 'cancel_upgrade' }, E.NoUpgradePlan)).to.match(/no upgrade plan to cancel/);
    expect(plan(c)).to.deep.equal({ plan: null, done: [] });
  });

  it('a passed plan is stored; at its height the handler this binary knows runs before the transactions, once, and the plan is cleared', () => {
    const ran: number[] = [];
    const upgrades = new Map<string, UpgradeHandler>([['v2', (ctx) => void ran.push(ctx.block.height)]]);
    const c = new GovChain({}, { upgrades });
    const id = c.propose({ kind: 'upgrade', name: 'v2', height: 40, info: 'metanode 2.0.0' });
    c.voteYes(id);
    expect(c.untilEnded(id).status).to.equal('passed');
    expect(plan(c).plan).to.deep.equal({ name: 'v2', height: 40, info: 'metanode 2.0.0' });
    // The node's gate: a binary that knows v2 runs on; one that does not halts before height 40.
    expect(upgradeGate(c.modules.court)(c.world, 40)).to.equal(undefined);
    const unknowing = new GovChain();
    expect(upgradeGate(unknowing.modules.court)(c.world, 40)).to.match(/^UPGRADE "v2" NEEDED at height 40: /);
    expect(upgradeGate(unknowing.modules.court)(c.world, 39)).to.equal(undefined);
    // A binary that knows v2 refuses to start before the chain is at height 39 (its next block is 40).
    expect(() => refuseEarlyUpgrade(c.modules.court, { state: c.world, height: c.height })).to.throw(/carries the upgrade "v2", planned at height 40, and the chain is at height \d+: it must not run before that height/);
    expect(() => refuseEarlyUpgrade(c.modules.court, { state: c.world, height: 39 })).to.not.throw();
    expect(() => refuseEarlyUpgrade(unknowing.modules.court, { state: c.world, height: c.height })).to.not.throw();
    while (c.height < 40) c.block();
    expect(ran).to.deep.equal([40]);
    expect(c.blockEvents.at(-1)!.filter((e) => e.module === 'court').map((e) => [e.type, Object.fromEntries(e.attributes)])).to.deep.include(['upgrade_applied', { name: 'v2', height: '40' }]);
    expect(plan(c)).to.deep.equal({ plan: null, done: [{ name: 'v2', height: 40 }] });
    c.blocks(2);
    expect(ran).to.deep.equal([40]);
    // A done upgrade's name cannot be planned again.
    expect(bad(c, { kind: 'upgrade', name: 'v2', height: c.height + 50, info: '' }, E.InvalidUpgrade)).to.match(/already ran/);
  });

  it('a plan replaces the one before; cancel removes it; a plan whose height has passed by the end of voting fails', () => {
    const c = new GovChain();
    const first = c.propose({ kind: 'upgrade', name: 'v2', height: 100, info: '' });
    const second = c.propose({ kind: 'upgrade', name: 'v3', height: 200, info: '' });
    const late = c.propose({ kind: 'upgrade', name: 'v4', height: c.height + 3, info: '' });
    c.voteYes(first, second, late);
    expect(c.untilEnded(first).status).to.equal('passed');
    expect(c.untilEnded(second).status).to.equal('passed');
    const l = c.untilEnded(late);
    expect(l.status).to.equal('failed');
    expect(l.reason).to.match(/^COURT_UPGRADE_HEIGHT_PASSED: the upgrade height \d+ is not after the current height \d+$/);
    expect(plan(c).plan).to.deep.include({ name: 'v3', height: 200 });
    const cancel = c.propose({ kind: 'cancel_upgrade' });
    c.voteYes(cancel);
    expect(c.untilEnded(cancel).status).to.equal('passed');
    expect(plan(c).plan).to.equal(null);
    expect(c.courtEvents('upgrade_cancelled')).to.deep.equal([{ name: 'v3', height: '200' }]);
  });
});
