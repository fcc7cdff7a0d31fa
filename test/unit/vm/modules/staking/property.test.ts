/**
 * Property test of the staking module: random sequences of create-validator, ready, delegate,
 * undelegate, redelegate, withdraw, fee traffic (rewards), downtime (absent signers) and
 * double-sign evidence, over many blocks. After every block: the GEN invariant holds (every GEN
 * is liquid, bonded, unbonding or burned), no share or token count is negative, the NEX the
 * staking account holds is exactly the rewards it received less what was withdrawn, and what
 * delegators and operators may still withdraw never exceeds it.
 */
import { expect } from 'chai';
import { ReceiptStatus, moduleAddress, toKey } from '../../../../../chain/index.js';
import { MsgType, SignedMessage, duplicateVoteEvidence } from '../../../../../consensus/ibft/messages.js';
import type { Transaction } from '../../../../../chain/index.js';
import { getNonce } from '../../../../../vm/index.js';
import { Prng } from '../../../consensus/sim/prng.js';
import { accountKey, addressOf, transferTx, validatorKey } from '../../../fixtures.js';
import { GEN_UNIT, StakingChain, createArgs, stakingGenesis } from './harness.js';

const PARAMS = { unbondingBlocks: 8, signedBlocksWindow: 10, minSignedPpm: 500_000, downtimeJailBlocks: 4, evidenceMaxAgeBlocks: 50 };
const ACCOUNTS = [0, 1, 2, 3, 4, 5].map((i) => accountKey(i));
const GENESIS_VALS = [0, 1, 2, 3].map((i) => validatorKey(i));
const NEW_VALS = [5, 6, 7].map((i) => validatorKey(i));
const SEEDS = [1, 2, 3, 4, 5, 6];
const BLOCKS = 60;

function run(seed: number): void {
  const rng = new Prng(seed);
  const chain = new StakingChain(stakingGenesis({ params: PARAMS }));
  const stakingAccount = moduleAddress('staking');
  const sum = (type: string, fields: string[]) => chain.events(type).reduce((s, e) => s + fields.reduce((t, f) => t + BigInt(e[f] ?? '0'), 0n), 0n);
  const validators = () => chain.staking.candidates(chain.world);
  // One transaction per sender and block (the `used` set below), so the state's nonce is the next one.
  const nonceOf = (key: (typeof ACCOUNTS)[number]) => getNonce(chain.world, addressOf(key));
  const stakingTx = (key: (typeof ACCOUNTS)[number], a: Parameters<StakingChain['tx']>[1]): Transaction => chain.tx(key, a);
  let evidenceSent = false;
  /** NEX paid out by withdraw transactions (their receipts' staking/rewards_withdrawn events). */
  let withdrawn = 0n;
  const succeeded = new Set<string>();
  for (let b = 0; b < BLOCKS; b++) {
    const txs: Transaction[] = [];
    const used = new Set<string>();
    const from = () => {
      for (let i = 0; i < 10; i++) {
        const k = rng.pick(ACCOUNTS);
        if (!used.has(toKey(addressOf(k)))) {
          used.add(toKey(addressOf(k)));
          return k;
        }
      }
      return undefined;
    };
    const vals = validators();
    for (let op = 0; op < 3; op++) {
      const who = from();
      if (!who) break;
      const r = rng.int(0, 9);
      const v = rng.pick(vals);
      const amount = BigInt(rng.int(1, 20)) * (GEN_UNIT / 10n);
      if (r === 0) {
        const nv = NEW_VALS.find((k) => !vals.some((a) => toKey(a) === toKey(k.address)));
        if (nv) txs.push(stakingTx(who, createArgs(nv, GEN_UNIT + amount)));
      } else if (r <= 2) txs.push(stakingTx(who, { method: 'delegate', args: { validator: v, amount } }));
      else if (r <= 4) txs.push(stakingTx(who, { method: 'undelegate', args: { validator: v, amount } }));
      else if (r === 5) txs.push(stakingTx(who, { method: 'redelegate', args: { src: v, dst: rng.pick(vals), amount } }));
      else if (r === 6) txs.push(stakingTx(who, { method: 'withdraw', args: { validator: v } }));
      else txs.push(transferTx(who, nonceOf(who), addressOf(rng.pick(ACCOUNTS)), 'NEX', 1n, { fee: BigInt(rng.int(1_000, 50_000)) }));
    }
    // New validators declare themselves ready (their keys are funded first).
    for (const nv of NEW_VALS) {
      const rec = chain.staking.validator(chain.world, nv.address);
      if (rec && !rec.ready && chain.nex(nv.address) >= 1000n) txs.push(chain.tx(nv.ed25519, { method: 'ready', args: {} }));
      else if (rec && !rec.ready && !used.has('fund' + toKey(nv.address))) {
        const who = from();
        if (who) {
          used.add('fund' + toKey(nv.address));
          txs.push(transferTx(who, nonceOf(who), nv.address, 'NEX', 100_000n, { fee: 1000n }));
        }
      }
    }
    if (!evidenceSent && b === 30) {
      const signer = GENESIS_VALS[1]!;
      const msg = (d: number) => SignedMessage.sign(chain.doc.chainId, { type: MsgType.Prepare, height: chain.height, round: 0, digest: new Uint8Array(32).fill(d) }, signer.address, signer.ed25519);
      const who = from();
      if (who) {
        txs.push(stakingTx(who, { method: 'evidence', args: duplicateVoteEvidence(msg(1), msg(2))! }));
        evidenceSent = true;
      }
    }
    // Downtime: a genesis validator stops signing for a stretch.
    if (b === 10) chain.absent.add(toKey(GENESIS_VALS[2]!.address));
    if (b === 25) chain.absent.delete(toKey(GENESIS_VALS[2]!.address));
    const result = chain.block(txs);
    result.receipts.forEach((r, i) => {
      if (r.status === ReceiptStatus.Success && txs[i]!.kind.startsWith('staking.')) succeeded.add(txs[i]!.kind);
    });
    for (const r of result.receipts) {
      for (const e of r.events) if (e.module === 'staking' && e.type === 'rewards_withdrawn') {
        const a = Object.fromEntries(e.attributes);
        withdrawn += BigInt(a.rewards ?? '0') + BigInt(a.commission ?? '0');
      }
    }

    chain.checkGen();
    const accrued = sum('reward', ['amount']);
    expect(withdrawn <= accrued, `seed ${seed} block ${b}: withdrawn ${withdrawn} ≤ accrued ${accrued}`).to.equal(true);
    expect(chain.nex(stakingAccount), `seed ${seed} block ${b}: staking NEX = rewards in − rewards out`).to.equal(accrued - withdrawn);
    let owed = 0n;
    for (const who of [...ACCOUNTS.map(addressOf), ...GENESIS_VALS.map((k) => k.address), ...NEW_VALS.map((k) => k.address)]) {
      for (const d of chain.query<{ shares: string; tokens: string; rewards: string; commission?: string }[]>('delegations', { address: who })) {
        expect(BigInt(d.shares) >= 0n && BigInt(d.tokens) >= 0n, 'no negative share').to.equal(true);
        owed += BigInt(d.rewards) + BigInt(d.commission ?? '0');
      }
    }
    expect(owed <= chain.nex(stakingAccount), `seed ${seed} block ${b}: owed ${owed} ≤ held ${chain.nex(stakingAccount)}`).to.equal(true);
  }
  // The run did what it is meant to cover.
  expect(chain.events('reward').length, 'rewards were paid').to.be.greaterThan(0);
  expect(chain.events('jailed').length, 'a validator was jailed').to.be.greaterThan(0);
  expect(withdrawn > 0n, 'rewards were withdrawn').to.equal(true);
  for (const k of ['create_validator', 'ready', 'delegate', 'undelegate', 'redelegate', 'withdraw', 'evidence']) expect([...succeeded], `seed ${seed}: a staking.${k} succeeded`).to.include(`staking.${k}`);
}

describe('vm/modules/staking (property)', () => {
  for (const seed of SEEDS) it(`seed ${seed}: ${BLOCKS} blocks of random operations keep the GEN and reward invariants`, () => run(seed));
});
