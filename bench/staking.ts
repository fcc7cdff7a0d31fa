/**
 * Staking benchmark: the block time of a chain with 100 validators and 10,000 delegators, against
 * the same chain without staking. In process (the state machine, the modules and the state tree;
 * no network): `node dist/bench/staking.js` after a build.
 *
 * Setup: 100 genesis validators, 10,000 funded accounts; with staking, each account delegates to a
 * validator (10,000 delegations). Then each measured block carries 2,000 fee-paying transfers and
 * every validator signs the previous block, so each block's begin-block shares the fees among 100
 * validators and records their liveness. Reported: the median time to execute a block and compute
 * its state root, with and without staking, and the difference per block.
 */
import { getNonce } from '../vm/index.js';
import { accountKey, addressOf, testGenesis, transferTx, validatorKey } from '../test/unit/fixtures.js';
import { GEN_UNIT, StakingChain, stakingGenesis } from '../test/unit/vm/modules/staking/harness.js';
import type { Transaction } from '../chain/index.js';

const VALIDATORS = 100;
const DELEGATORS = 10_000;
const TXS_PER_BLOCK = 2_000;
const BLOCKS = 15;

const validators = Array.from({ length: VALIDATORS }, (_, i) => validatorKey(i));
const keys = Array.from({ length: DELEGATORS }, (_, i) => accountKey(i));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(chain: StakingChain, txs: Transaction[]): number {
  const t0 = performance.now();
  chain.block(txs);
  return performance.now() - t0;
}

function run(staking: boolean): { setupMs: number; blockMs: number; delegations: number } {
  const doc = staking ? stakingGenesis({ validators, accounts: DELEGATORS }) : testGenesis({ validators, accounts: DELEGATORS });
  const chain = new StakingChain(doc);
  const t0 = performance.now();
  let delegations = 0;
  if (staking) {
    for (let from = 0; from < DELEGATORS; from += TXS_PER_BLOCK) {
      const txs = keys.slice(from, from + TXS_PER_BLOCK).map((k, j) => chain.tx(k, { method: 'delegate', args: { validator: validators[(from + j) % VALIDATORS]!.address, amount: GEN_UNIT } }));
      const r = chain.block(txs);
      delegations += r.receipts.filter((x) => x.status === 0).length;
    }
  }
  const setupMs = performance.now() - t0;
  const times: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const txs = Array.from({ length: TXS_PER_BLOCK }, (_, j) => {
      const k = keys[(b * TXS_PER_BLOCK + j) % DELEGATORS]!;
      return transferTx(k, getNonce(chain.world, addressOf(k)), addressOf(keys[(j + 1) % DELEGATORS]!), 'NEX', 1n, { fee: 1_000n });
    });
    times.push(timed(chain, txs));
  }
  if (staking) chain.checkGen();
  return { setupMs, blockMs: median(times), delegations };
}

const without = run(false);
const withStaking = run(true);
const row = (name: string, r: typeof without) => `${name.padEnd(34)} ${r.blockMs.toFixed(1).padStart(8)} ms/block  (${TXS_PER_BLOCK} transfers; setup ${(r.setupMs / 1000).toFixed(1)} s)`;
console.log(`\nStaking benchmark — ${VALIDATORS} validators, ${DELEGATORS.toLocaleString('en-US')} accounts, median of ${BLOCKS} blocks — Node ${process.version}`);
console.log(row('without staking', without));
console.log(row(`with staking (${withStaking.delegations.toLocaleString('en-US')} delegations)`, withStaking));
console.log(`staking adds ${(withStaking.blockMs - without.blockMs).toFixed(1)} ms per block (${(((withStaking.blockMs - without.blockMs) / without.blockMs) * 100).toFixed(1)}%)`);
