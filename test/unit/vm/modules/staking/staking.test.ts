import { expect } from 'chai';
import { ReceiptStatus, equalBytes, moduleAddress, toKey } from '../../../../../chain/index.js';
import { MsgType, SignedMessage, duplicateVoteEvidence } from '../../../../../consensus/ibft/messages.js';
import { StakingErrorCode as E, type StakingArgs } from '../../../../../vm/modules/staking/index.js';
import { getNonce } from '../../../../../vm/index.js';
import { accountKey, addressOf, testGenesis, transferTx, validatorKey } from '../../../fixtures.js';
import { GEN_UNIT, StakingChain, createArgs, formatAddress, stakingGenesis } from './harness.js';

const PARAMS = { unbondingBlocks: 10, signedBlocksWindow: 10, minSignedPpm: 500_000, downtimeJailBlocks: 5, evidenceMaxAgeBlocks: 50 };
const V = [0, 1, 2, 3].map((i) => validatorKey(i));
const NEW = validatorKey(7);
const OP = accountKey(0);
const ALICE = accountKey(1);
const BOB = accountKey(2);

/** The evidence of `v` signing two PREPAREs for one height and round. */
function equivocation(chain: StakingChain, signer = V[1]!, height = chain.height, digests: [number, number] = [1, 2]) {
  const msg = (d: number) => SignedMessage.sign(chain.doc.chainId, { type: MsgType.Prepare, height, round: 0, digest: new Uint8Array(32).fill(d) }, signer.address, signer.ed25519);
  return duplicateVoteEvidence(msg(digests[0]), msg(digests[1]))!;
}

describe('vm/modules/staking', () => {
  it('a chain whose genesis has no staking section keeps its set: staking transactions fail with STAKING_DISABLED, fees go to the proposer', () => {
    const chain = new StakingChain(testGenesis({ validators: V, accounts: 3 }));
    chain.fails(OP, createArgs(NEW, GEN_UNIT), E.Disabled);
    const proposer = chain.set(2).validators[2 % 4]!.address;
    const before = chain.nex(proposer);
    const r = chain.block([chain.tx(OP, createArgs(NEW, GEN_UNIT))]);
    expect(r.validatorUpdates).to.deep.equal([]);
    expect(chain.nex(proposer) - before).to.equal(1000n);
    expect(chain.query<{ enabled: boolean }>('params').enabled).to.equal(false);
  });

  it('genesis bonds each genesis validator as its own operator: power × powerReduction GEN minted into the staking account', () => {
    const chain = new StakingChain();
    const vals = chain.query<{ address: string; operator: string; tokens: string; selfBond: string; power: string; status: string }[]>('validators');
    expect(vals.map((v) => [v.tokens, v.selfBond, v.power, v.status])).to.deep.equal(V.map(() => [GEN_UNIT.toString(), GEN_UNIT.toString(), '1', 'active']));
    for (const v of vals) expect(v.operator).to.equal(v.address);
    expect(chain.gen(moduleAddress('staking'))).to.equal(4n * GEN_UNIT);
    chain.checkGen();
  });

  it('create_validator then ready (signed by its consensus key): it joins the set two blocks later, its power growing by at most maxPowerChangePpm of the total per block', () => {
    const chain = new StakingChain(stakingGenesis({ params: PARAMS }));
    const r = chain.ok(OP, createArgs(NEW, 10n * GEN_UNIT, { moniker: 'seventh' }));
    expect(r.events.map((e) => e.type)).to.deep.equal(['fee', 'validator_created', 'transfer', 'delegated']);
    chain.blocks(3);
    expect(chain.powerAt(chain.height + 2, NEW.address), 'not before it is ready').to.equal(0n);
    expect(chain.query<{ status: string }>('validator', { address: NEW.address }).status).to.equal('pending');
    // Its consensus key needs a fee to say it is ready.
    chain.block([chain.tx(OP, { method: 'delegate', args: { validator: V[0]!.address, amount: 1n } })]);
    chain.block([transferNex(chain, OP, NEW.address, 10_000n)]);
    chain.fails(ALICE, { method: 'ready', args: {} }, E.NotConsensusKey);
    const ready = chain.ok(NEW.ed25519, { method: 'ready', args: {} });
    const h = chain.height;
    expect(ready.events.map((e) => e.type)).to.deep.equal(['fee', 'ready']);
    expect(chain.powerAt(h + 1, NEW.address)).to.equal(0n);
    expect(chain.powerAt(h + 2, NEW.address), 'the set of H+2: +1 of a total of 4 (a third, rounded down)').to.equal(1n);
    chain.blocks(12);
    // Each step moves at most a third of the total before it.
    for (let k = h + 3; k <= chain.height + 2; k++) {
      const before = chain.set(k - 1);
      const after = chain.set(k);
      const moved = after.totalPower - before.totalPower;
      expect(moved <= (before.totalPower * 333_333n) / 1_000_000n || moved <= 1n, `height ${k}`).to.equal(true);
    }
    expect(chain.powerAt(chain.height + 2, NEW.address), 'it reaches its full power').to.equal(10n);
    chain.fails(NEW.ed25519, { method: 'ready', args: {} }, E.AlreadyReady);
    chain.checkGen();
  });

  it('create_validator refuses, with a code each and nothing changed but the fee: a bad proof of possession, a BLS key in use, an existing validator, a self-bond under the minimum, more than the balance, commission over 100%', () => {
    const chain = new StakingChain(stakingGenesis({ params: PARAMS }));
    const bad = createArgs(NEW, GEN_UNIT) as StakingArgs & { method: 'create_validator' };
    chain.fails(OP, { method: 'create_validator', args: { ...bad.args, proofOfPossession: validatorKey(8).bls.proofOfPossession() } }, E.BadPossession);
    chain.fails(OP, { method: 'create_validator', args: { ...bad.args, blsPublicKey: V[0]!.bls.publicKey, proofOfPossession: V[0]!.bls.proofOfPossession() } }, E.BlsKeyInUse);
    chain.fails(OP, createArgs(V[1]!, GEN_UNIT), E.ValidatorExists);
    chain.fails(OP, createArgs(NEW, GEN_UNIT - 1n), E.SelfBondTooLow);
    chain.fails(OP, createArgs(NEW, 10n ** 20n), 'BANK_INSUFFICIENT_FUNDS');
    const tooHigh = chain.send(OP, { method: 'create_validator', args: { ...bad.args, commissionPpm: 1_000_001n } });
    expect(tooHigh.errorCode).to.equal(E.CommissionTooHigh);
    expect(chain.staking.validator(chain.world, NEW.address)).to.equal(undefined);
    expect(chain.staking.candidates(chain.world)).to.have.length(4);
    chain.checkGen();
  });

  it('fees of a block are shared at the next among the validators that signed it, by power, after the community tax; the operator keeps its commission; delegators withdraw their part', () => {
    const chain = new StakingChain(stakingGenesis({ params: PARAMS }));
    const val = V[1]!.address;
    // Alice delegates 3 GEN to V1 (1 GEN self-bond): she holds 3/4 of its shares.
    chain.ok(ALICE, { method: 'delegate', args: { validator: val, amount: 3n * GEN_UNIT } });
    chain.blocks(2);
    chain.absent.add(toKey(V[3]!.address));
    const treasuryBefore = chain.nex(moduleAddress('treasury'));
    const owedBefore = BigInt(chain.query<{ rewards: string }[]>('delegations', { address: addressOf(ALICE) })[0]!.rewards);
    const r = chain.block([transferNex(chain, BOB, addressOf(BOB), 1n, 1_000_000n)]);
    expect(r.receipts[0]!.status).to.equal(ReceiptStatus.Success);
    expect(chain.nex(moduleAddress('fee_collector'))).to.equal(1_000_000n);
    chain.block();
    const rewards = chain.events('rewards').at(-1)!;
    // 2% tax = 20,000; 980,000 by power among the signers of the fee's block: V0, V1 (power 4, the set changed), V2; V3 was absent.
    expect(rewards).to.deep.include({ total: '1000000', communityTax: '20000', signers: '3' });
    const p1 = chain.powerAt(chain.height - 1, val);
    expect(p1).to.equal(chain.set(chain.height - 1).validators.find((v) => equalBytes(v.address, val))!.power);
    const signedPower = chain.set(chain.height - 1).totalPower - chain.powerAt(chain.height - 1, V[3]!.address);
    const portion = (980_000n * p1) / signedPower;
    const last = chain.blockEvents.at(-1)!.filter((e) => e.type === 'reward').map((e) => Object.fromEntries(e.attributes));
    const reward = last.find((e) => e.validator === formatAddress(val))!;
    expect(reward.amount).to.equal(portion.toString());
    expect(reward.commission).to.equal('0', 'genesis validators take no commission');
    expect(last.map((e) => e.validator)).not.to.include(formatAddress(V[3]!.address));
    // The treasury: the tax, and what rounding down left over (nothing of the absent validator's part stays in the collector).
    expect(chain.nex(moduleAddress('treasury')) - treasuryBefore).to.equal(1_000_000n - last.reduce((s, e) => s + BigInt(e.amount!), 0n));
    expect(chain.nex(moduleAddress('fee_collector'))).to.equal(0n);
    // Alice withdraws 3/4 of V1's portion (rounded down).
    const aliceBefore = chain.nex(addressOf(ALICE));
    const d = chain.query<{ rewards: string; tokens: string }[]>('delegations', { address: addressOf(ALICE) });
    expect(d).to.have.length(1);
    const owed = BigInt(d[0]!.rewards) - owedBefore;
    expect(owed <= (portion * 3n) / 4n && owed >= (portion * 3n) / 4n - 1n, `${owed} ≈ 3/4 of ${portion}`).to.equal(true);
    chain.ok(ALICE, { method: 'withdraw', args: { validator: val } });
    expect(chain.nex(addressOf(ALICE)) - aliceBefore + 1000n).to.equal(BigInt(d[0]!.rewards));
    chain.fails(BOB, { method: 'withdraw', args: { validator: val } }, E.NothingToWithdraw);
    chain.checkGen();
  });

  it('undelegate: the GEN waits unbondingBlocks in the unbonding account, then returns; an operator unbonding below minSelfBond takes its validator out of the set', () => {
    const chain = new StakingChain(stakingGenesis({ params: PARAMS }));
    chain.ok(OP, createArgs(NEW, 2n * GEN_UNIT));
    chain.block([transferNex(chain, OP, NEW.address, 10_000n)]);
    chain.ok(NEW.ed25519, { method: 'ready', args: {} });
    chain.blocks(6);
    expect(chain.powerAt(chain.height, NEW.address)).to.equal(2n);
    chain.fails(OP, { method: 'undelegate', args: { validator: NEW.address, amount: 3n * GEN_UNIT } }, E.InsufficientBond);
    chain.fails(ALICE, { method: 'undelegate', args: { validator: NEW.address, amount: 1n } }, E.NoDelegation);
    const before = chain.gen(addressOf(OP));
    const r = chain.ok(OP, { method: 'undelegate', args: { validator: NEW.address, amount: 2n * GEN_UNIT } });
    const completion = Number(r.events.find((e) => e.type === 'undelegated')!.attributes.find(([k]) => k === 'completion')![1]);
    expect(completion).to.equal(chain.height + 10);
    expect(chain.query<{ status: string }>('validator', { address: NEW.address }).status).to.equal('active');
    // It steps down within the budget of one block (a third of the total, 6): 2 → 1 → out.
    chain.block();
    expect([chain.powerAt(chain.height + 1, NEW.address), chain.powerAt(chain.height + 2, NEW.address)]).to.deep.equal([1n, 0n]);
    expect(chain.query<{ amount: string; completionHeight: number }[]>('unbondings', { address: addressOf(OP) })).to.deep.equal([{ validator: formatAddress(NEW.address), amount: (2n * GEN_UNIT).toString(), creationHeight: completion - 10, completionHeight: completion }]);
    chain.checkGen();
    while (chain.height < completion - 1) chain.block();
    expect(chain.gen(addressOf(OP))).to.equal(before - 0n);
    chain.block();
    expect(chain.gen(addressOf(OP)) - before).to.equal(2n * GEN_UNIT);
    expect(chain.events('unbonding_completed')).to.have.length(1);
    expect(chain.query<{ status: string }>('validator', { address: NEW.address }).status).to.equal('unbonding');
    chain.checkGen();
  });

  it('downtime: a validator that misses more than half of the window is slashed 1% and jailed; unjail before the jail time fails, after it brings it back', () => {
    const chain = new StakingChain(stakingGenesis({ params: PARAMS }));
    const val = V[2]!.address;
    chain.blocks(3);
    chain.absent.add(toKey(val));
    for (let i = 0; i < 12 && chain.events('jailed').length === 0; i++) chain.block();
    const jailed = chain.events('jailed');
    expect(jailed).to.have.length(1);
    expect(jailed[0]).to.deep.include({ validator: formatAddress(val), reason: 'downtime', burned: (GEN_UNIT / 100n).toString() });
    const at = chain.height;
    expect(chain.powerAt(at + 2, val), 'out of the set of H+2').to.equal(0n);
    const info = chain.query<{ status: string; tokens: string; slashes: { kind: string }[] }>('validator', { address: val });
    expect(info.status).to.equal('jailed');
    expect(info.tokens).to.equal(((GEN_UNIT * 99n) / 100n).toString());
    expect(info.slashes.map((s) => s.kind)).to.deep.equal(['downtime']);
    chain.absent.delete(toKey(val));
    // The operator of a genesis validator is the validator's own account.
    chain.block([transferNex(chain, OP, val, 10_000n), transferTx(OP, getNonce(chain.world, addressOf(OP)) + 1n, val, 'GEN', GEN_UNIT)]);
    chain.block([transferNex(chain, OP, V[1]!.address, 10_000n)]);
    chain.fails(V[2]!.ed25519, { method: 'unjail', args: { validator: val } }, E.JailNotOver);
    chain.fails(ALICE, { method: 'unjail', args: { validator: val } }, E.NotOperator);
    chain.fails(V[1]!.ed25519, { method: 'unjail', args: { validator: V[1]!.address } }, E.NotJailed);
    while (chain.height < at + 5) chain.block();
    // The slash left its self-bond under minSelfBond: it must bond more first.
    chain.fails(V[2]!.ed25519, { method: 'unjail', args: { validator: val } }, E.SelfBondTooLow);
    chain.ok(V[2]!.ed25519, { method: 'delegate', args: { validator: val, amount: GEN_UNIT / 100n } });
    chain.ok(V[2]!.ed25519, { method: 'unjail', args: { validator: val } });
    chain.blocks(2);
    expect(chain.powerAt(chain.height + 1, val) > 0n).to.equal(true);
    chain.checkGen();
  });

  it('liveness: a block that every validator signed writes nothing (the state root stays); misses are counted over a window that spans chunks, and a miss ages out', () => {
    const window = 300; // two chunks of 256 slots
    const chain = new StakingChain(stakingGenesis({ params: { ...PARAMS, signedBlocksWindow: window, minSignedPpm: 10_000 } }));
    chain.blocks(3);
    const root = chain.world.root;
    const r = chain.block();
    expect(r.writes.size, 'an empty block that all signed writes no key').to.equal(0);
    expect(chain.world.root).to.deep.equal(root);
    const val = V[3]!.address;
    const missed = () => chain.query<{ missedBlocks: number }>('validator', { address: val }).missedBlocks;
    chain.absent.add(toKey(val));
    chain.blocks(3);
    chain.absent.delete(toKey(val));
    chain.blocks(1);
    expect(missed()).to.equal(3);
    // Past slot 256 the second chunk takes the misses; a full window later the first ones age out.
    while (chain.height < 262) chain.block();
    chain.absent.add(toKey(val));
    chain.blocks(2);
    chain.absent.delete(toKey(val));
    chain.blocks(1);
    expect(missed()).to.equal(5);
    while (chain.height < 4 + window + 4) chain.block();
    expect(missed(), 'the first three misses left the window').to.equal(2);
    expect(chain.events('jailed')).to.deep.equal([]);
    chain.checkGen();
  });

  it('double-sign evidence, from anyone: the validator is slashed 5%, jailed and tombstoned at once; the same evidence again, forged, future or too old evidence are refused', () => {
    const chain = new StakingChain(stakingGenesis({ params: PARAMS }));
    chain.blocks(3);
    const val = V[1]!.address;
    const ev = equivocation(chain);
    const forged = { ...ev, b: { ...ev.b, signature: ev.a.signature } };
    chain.fails(ALICE, { method: 'evidence', args: forged }, E.InvalidEvidence);
    chain.fails(ALICE, { method: 'evidence', args: equivocation(chain, V[1], chain.height + 5) }, E.EvidenceFromFuture);
    chain.fails(ALICE, { method: 'evidence', args: { ...ev, sender: V[2]!.address } }, E.InvalidEvidence);
    const r = chain.ok(ALICE, { method: 'evidence', args: ev });
    const h = chain.height;
    expect(r.events.filter((e) => e.module === 'staking').map((e) => e.type)).to.deep.equal(['slashed', 'jailed']);
    const info = chain.query<{ status: string; tokens: string }>('validator', { address: val });
    expect(info).to.deep.include({ status: 'tombstoned', tokens: ((GEN_UNIT * 95n) / 100n).toString() });
    expect(chain.powerAt(h + 2, val)).to.equal(0n);
    chain.fails(BOB, { method: 'evidence', args: ev }, E.EvidenceDone);
    chain.block([transferNex(chain, OP, val, 10_000n)]);
    chain.fails(V[1]!.ed25519, { method: 'unjail', args: { validator: val } }, E.Tombstoned);
    chain.fails(ALICE, { method: 'delegate', args: { validator: val, amount: GEN_UNIT } }, E.Tombstoned);
    // Too old: past evidenceMaxAgeBlocks.
    const old = equivocation(chain, V[2], 2);
    while (chain.height < 2 + 50) chain.block();
    chain.fails(ALICE, { method: 'evidence', args: old }, E.EvidenceTooOld);
    chain.checkGen();
  });

  it('a slash reaches unbondings and redelegations that began at or after the infraction, not those from before', () => {
    const chain = new StakingChain(stakingGenesis({ params: { ...PARAMS, unbondingBlocks: 100, evidenceMaxAgeBlocks: 100 } }));
    const val = V[1]!.address;
    chain.ok(ALICE, { method: 'delegate', args: { validator: val, amount: 10n * GEN_UNIT } });
    chain.ok(BOB, { method: 'delegate', args: { validator: val, amount: 10n * GEN_UNIT } });
    chain.ok(ALICE, { method: 'undelegate', args: { validator: val, amount: 2n * GEN_UNIT } }); // before the infraction
    chain.block();
    const infraction = chain.height;
    const ev = equivocation(chain, V[1], infraction);
    chain.block();
    chain.ok(ALICE, { method: 'undelegate', args: { validator: val, amount: 2n * GEN_UNIT } }); // after
    chain.ok(BOB, { method: 'redelegate', args: { src: val, dst: V[0]!.address, amount: 4n * GEN_UNIT } }); // after
    const bobAtV0 = chain.query<{ validator: string; tokens: string }[]>('delegations', { address: addressOf(BOB) }).find((d) => d.validator === formatAddress(V[0]!.address))!;
    expect(bobAtV0.tokens).to.equal((4n * GEN_UNIT).toString());
    chain.ok(ALICE, { method: 'evidence', args: ev });
    const ub = chain.query<{ amount: string; creationHeight: number }[]>('unbondings', { address: addressOf(ALICE) });
    expect(ub.map((u) => u.amount)).to.deep.equal([(2n * GEN_UNIT).toString(), ((2n * GEN_UNIT * 95n) / 100n).toString()]);
    const bobAfter = chain.query<{ validator: string; tokens: string }[]>('delegations', { address: addressOf(BOB) }).find((d) => d.validator === formatAddress(V[0]!.address))!;
    expect(BigInt(bobAfter.tokens)).to.equal((4n * GEN_UNIT * 95n) / 100n);
    const slashed = chain.events('slashed');
    expect(slashed).to.have.length(0, 'evidence is a transaction: its events are in its receipt');
    chain.checkGen();
  });

  it('a chain of one validator still grows: a change of at least one power is allowed per block', () => {
    const chain = new StakingChain(stakingGenesis({ validators: [V[0]!], params: PARAMS }));
    chain.ok(OP, createArgs(NEW, 3n * GEN_UNIT));
    chain.block([transferNex(chain, OP, NEW.address, 10_000n)]);
    chain.ok(NEW.ed25519, { method: 'ready', args: {} });
    chain.blocks(5);
    expect(chain.powerAt(chain.height + 2, NEW.address)).to.equal(3n);
    expect(chain.set(chain.height + 2).size).to.equal(2);
  });
});

/** A NEX transfer (the bank's), for funding a consensus key's fees. */
function transferNex(chain: StakingChain, from: ReturnType<typeof accountKey>, to: Uint8Array, amount: bigint, fee = 1000n) {
  return transferTx(from, getNonce(chain.world, addressOf(from)), to, 'NEX', amount, { fee });
}
