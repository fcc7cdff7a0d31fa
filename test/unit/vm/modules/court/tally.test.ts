import { expect } from 'chai';
import fc from 'fast-check';
import { judge, tallyVotes, type Tally, type TallyValidator, type VoteOptionName } from '../../../../../vm/modules/court/index.js';

const addr = (n: number) => new Uint8Array(20).fill(n);
const rules = { quorumPpm: 330_000n, thresholdPpm: 670_000n, vetoThresholdPpm: 334_000n };
const tally = (t: Partial<Tally>): Tally => ({ yes: 0n, abstain: 0n, no: 0n, veto: 0n, bonded: 1_000_000n, ...t });

describe('vm/modules/court tally', () => {
  it('edge cases of judge: exactly at quorum passes the quorum; veto exactly at its threshold does not veto; yes exactly at the threshold does not pass; all abstain is rejected', () => {
    expect(judge(tally({ yes: 330_000n }), rules)).to.deep.equal({ passed: true });
    expect(judge(tally({ yes: 329_999n }), rules)).to.deep.include({ passed: false, vetoed: false });
    // veto 334,000 of 1,000,000 voted: exactly 33.4%, not more: not vetoed (and yes 666,000 of 1,000,000 is below 67%).
    const atVeto = judge(tally({ yes: 666_000n, veto: 334_000n }), rules);
    expect(atVeto).to.deep.include({ passed: false, vetoed: false });
    expect(judge(tally({ yes: 665_999n, veto: 334_001n }), rules)).to.deep.include({ passed: false, vetoed: true });
    expect(judge(tally({ yes: 670_000n, no: 330_000n }), rules)).to.deep.include({ passed: false, vetoed: false });
    expect(judge(tally({ yes: 670_001n, no: 329_999n }), rules)).to.deep.equal({ passed: true });
    expect(judge(tally({ abstain: 1_000_000n }), rules)).to.deep.equal({ passed: false, vetoed: false, reason: 'every vote was abstain' });
    expect(judge(tally({ bonded: 0n }), rules)).to.deep.include({ passed: false });
  });

  it('a validator whose operator votes carries its delegators who did not; one who did counts for itself only', () => {
    const vals: TallyValidator[] = [
      { address: addr(1), operator: addr(11), tokens: 100n, shares: 100n },
      { address: addr(2), operator: addr(12), tokens: 50n, shares: 100n }, // slashed: a share is worth half a GEN
    ];
    const delegations = new Map<number, { validator: Uint8Array; shares: bigint }[]>([
      [11, [{ validator: addr(1), shares: 10n }]],
      [21, [{ validator: addr(1), shares: 30n }, { validator: addr(2), shares: 40n }]],
      [22, [{ validator: addr(2), shares: 60n }]],
      [23, [{ validator: addr(9), shares: 1000n }]], // not bonded: counts for nothing
    ]);
    const t = tallyVotes(vals, [{ voter: addr(11), option: 'yes' }, { voter: addr(21), option: 'no' }, { voter: addr(23), option: 'veto' }], (v) => delegations.get(v[0]!) ?? []);
    // yes: operator 11's own 10 + validator 1's 60 shares that did not vote; no: 21's 30 + 40 shares at 0.5; validator 2's operator did not vote: 22's 60 shares count for nothing.
    expect(t).to.deep.equal({ yes: 70n, abstain: 0n, no: 50n, veto: 0n, bonded: 150n });
  });

  it('property: the tally never counts more than is bonded, and when every operator votes one option with no delegator voting, that option holds all of it', () => {
    const options: VoteOptionName[] = ['yes', 'abstain', 'no', 'veto'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ tokens: fc.bigInt(0n, 10n ** 12n), extra: fc.bigInt(0n, 10n ** 12n) }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.record({ who: fc.nat(20), validator: fc.nat(9), shares: fc.bigInt(1n, 10n ** 12n) }), { maxLength: 40 }),
        fc.array(fc.record({ who: fc.nat(30), option: fc.constantFrom(...options) }), { maxLength: 30 }),
        (vs, ds, votes) => {
          // Validator i is operated by account 100 + i; delegations of accounts 0..20; shares of a validator ≥ the sum delegated to it.
          const delegations = new Map<number, Map<number, bigint>>();
          const delegated = new Map<number, bigint>();
          for (const d of ds) {
            if (d.validator >= vs.length) continue;
            const m = delegations.get(d.who) ?? new Map<number, bigint>();
            if (!m.has(d.validator) && m.size >= 32) continue;
            m.set(d.validator, (m.get(d.validator) ?? 0n) + d.shares);
            delegations.set(d.who, m);
            delegated.set(d.validator, (delegated.get(d.validator) ?? 0n) + d.shares);
          }
          const vals = vs.map((v, i) => ({ address: addr(i + 1), operator: addr(100 + i), tokens: v.tokens, shares: (delegated.get(i) ?? 0n) + v.extra + 1n }));
          const of = (voter: Uint8Array) => [...(delegations.get(voter[0]!) ?? new Map<number, bigint>())].map(([i, shares]) => ({ validator: addr(i + 1), shares }));
          const seen = new Set<number>();
          const unique = votes.filter((v) => !seen.has(v.who) && seen.add(v.who)).map((v) => ({ voter: addr(v.who), option: v.option }));
          const t = tallyVotes(vals, unique, of);
          const total = vals.reduce((s, v) => s + v.tokens, 0n);
          expect(t.bonded).to.equal(total);
          expect(t.yes + t.abstain + t.no + t.veto <= total).to.equal(true);
          for (const o of [t.yes, t.abstain, t.no, t.veto]) expect(o >= 0n).to.equal(true);
          // Every operator votes no, nobody else: "no" is exactly what the validators' shares are worth.
          const all = tallyVotes(vals, vals.map((v) => ({ voter: v.operator, option: 'no' as const })), () => []);
          expect(all.no).to.equal(total);
        },
      ),
      { seed: 17, numRuns: 300 },
    );
  });
});
