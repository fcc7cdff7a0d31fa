import { expect } from 'chai';
import { ChainError, ProposerPriorities, ValidatorSet, addressFromPublicKey, incrementPriorities, prioritiesAt, proposerAt, type Validator } from '../../../chain/index.js';
import { blsKey, edKey, hex } from './fixtures.js';

function validator(i: number, power = 1n): Validator {
  const ed = edKey(i);
  return { address: addressFromPublicKey(ed.publicKey), publicKey: ed.publicKey, blsPublicKey: blsKey(i).publicKey, power };
}

const setOf = (powers: bigint[]): ValidatorSet => new ValidatorSet(powers.map((p, i) => validator(i, p)));
const names = (set: ValidatorSet, picks: Validator[]): number[] => picks.map((v) => set.indexOf(v.address));

describe('chain/proposer (CometBFT proposer priorities)', () => {
  it("gives CometBFT's sequence for foo 1000, bar 300, baz 330 (types/validator_set_test.go TestProposerSelection1)", () => {
    const ascii = (s: string) => new TextEncoder().encode(s);
    // Sorted by address as CometBFT's set is: bar < baz < foo.
    const vals = [
      { address: ascii('bar'), power: 300n },
      { address: ascii('baz'), power: 330n },
      { address: ascii('foo'), power: 1000n },
    ];
    const p = vals.map(() => 0n);
    const seq: string[] = [];
    for (let i = 0; i < 99; i++) seq.push(['bar', 'baz', 'foo'][incrementPriorities(vals, p, 1)[0]!]!);
    expect(seq.join(' ')).to.equal(
      'foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo',
    );
  });

  it('goes round the set in address order when every power is equal, by height and by round', () => {
    const set = setOf([1n, 1n, 1n, 1n]);
    const byHeight = Array.from({ length: 8 }, (_, i) => proposerAt(() => set, i + 1, 0));
    expect(names(set, byHeight)).to.deep.equal([0, 1, 2, 3, 0, 1, 2, 3]);
    const p5 = prioritiesAt(5, () => set);
    expect(names(set, [0, 1, 2, 3, 4].map((r) => p5.proposer(r)))).to.deep.equal([0, 1, 2, 3, 0]);
  });

  it('lets each validator propose in proportion to its power, and round r of h is the proposer of h + r while the set holds', () => {
    const set = setOf([5n, 3n, 1n, 1n]);
    const counts = [0, 0, 0, 0];
    let p = ProposerPriorities.initial(1, set);
    const seq: number[] = [];
    for (let h = 1; h <= 1000; h++) {
      seq.push(set.indexOf(p.proposer(0).address));
      counts[seq[seq.length - 1]!]!++;
      p = p.next(set);
    }
    expect(counts).to.deep.equal(set.validators.map((v) => Number(v.power) * 100));
    const p7 = prioritiesAt(7, () => set);
    for (let r = 0; r < 12; r++) expect(set.indexOf(p7.proposer(r).address), `round ${r}`).to.equal(seq[7 - 1 + r]);
  });

  it('a joining validator waits (it starts at −1.125 × the total); a leaving one is dropped; a power change keeps the priority', () => {
    const four = setOf([1n, 1n, 1n, 1n]);
    const five = new ValidatorSet([...four.validators, validator(9, 1n)]);
    const joiner = five.indexOf(validator(9).address);
    let p = prioritiesAt(3, () => four);
    p = p.next(five);
    const start = p.priorities[joiner]!;
    expect(start < 0n && p.priorities.every((x, i) => i === joiner || x > start)).to.equal(true);
    const seen = [];
    for (let h = 0; h < 10; h++, p = p.next(five)) seen.push(five.indexOf(p.proposer(0).address));
    // Each of the four proposes before the newcomer does, and then it takes its turns.
    expect(seen.indexOf(joiner)).to.be.at.least(4);
    expect(seen.filter((x) => x === joiner)).to.have.length.at.least(1);
    const three = new ValidatorSet(four.validators.slice(1));
    const q = p.next(three);
    expect(q.priorities).to.have.length(3);
    const heavier = new ValidatorSet(five.validators.map((v, i) => ({ ...v, power: i === 0 ? 10n : v.power })));
    const r = p.next(heavier);
    expect(r.set.totalPower).to.equal(14n);
    expect(r.height).to.equal(p.height + 1);
  });

  it('serializes (negative priorities too) and refuses priorities of another set', () => {
    const set = setOf([5n, 3n, 1n, 1n]);
    const p = prioritiesAt(6, () => set);
    expect(p.priorities.some((x) => x < 0n)).to.equal(true);
    const back = ProposerPriorities.decode(p.serialize(), set);
    expect(back.height).to.equal(6);
    expect(back.priorities).to.deep.equal(p.priorities);
    expect(hex(back.proposer(3).address)).to.equal(hex(p.proposer(3).address));
    expect(() => ProposerPriorities.decode(p.serialize(), setOf([1n, 1n]))).to.throw(ChainError, /another validator set/);
    expect(() => p.proposer(-1)).to.throw(ChainError, /round/);
  });

  it('keeps the priorities within the window of 2 × the total power after a large change', () => {
    const small = setOf([1n, 1n]);
    let p = prioritiesAt(10, () => small);
    const big = new ValidatorSet([...small.validators, validator(5, 1_000_000n)]);
    for (let h = 0; h < 50; h++) {
      p = p.next(big);
      const max = p.priorities.reduce((a, b) => (a > b ? a : b));
      const min = p.priorities.reduce((a, b) => (a < b ? a : b));
      expect(max - min <= 2n * big.totalPower + big.totalPower, `spread at step ${h}`).to.equal(true);
    }
  });
});
