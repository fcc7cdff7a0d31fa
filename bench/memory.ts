/**
 * What a node's largest populations cost in memory: the heap per key of the state tree, the heap
 * (and array-buffer bytes) per transaction waiting in the mempool, and the recent-height state
 * kept for queries (storage.stateHistory) per block of transfers, after full garbage
 * collections. Transactions are signed first, then admitted from 0x-hex the way JSON-RPC admits
 * them (fromHex, batches of 250), with their signatures checked.
 * Run after a build: `node dist/bench/memory.js [--keys N] [--txs N] [--accounts N] [--history N] [--block-txs N]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { Transaction, addressFromPublicKey, fromHex, toHex, u64be, utf8 } from '../chain/index.js';
import { Blockchain, Mempool, ValidatorKey } from '../consensus/index.js';
import { buildGenesis, devAccountKey } from '../genesis/index.js';
import { ChainStore, LevelKV } from '../storage/index.js';
import { StateMachine } from '../vm/index.js';
import { encodeTransfer } from '../vm/modules/bank/index.js';
import { createModules } from '../vm/modules/index.js';
import { SparseMerkleTree } from '../vm/state/smt.js';
import { getNonce } from '../vm/index.js';
import { accountKey, addressOf, transferTx, validatorKey } from '../test/unit/fixtures.js';
import { StakingChain, stakingGenesis } from '../test/unit/vm/modules/staking/harness.js';

const { values: a } = parseArgs({ options: { keys: { type: 'string', default: '100000' }, txs: { type: 'string', default: '12000' }, accounts: { type: 'string', default: '2000' }, history: { type: 'string', default: '16' }, 'block-txs': { type: 'string', default: '2000' } } });
const KEYS = Number(a.keys);
const TXS = Number(a.txs);
const ACCOUNTS = Number(a.accounts);
const CHAIN_ID = 'metanode-bench';
const HISTORY = Number(a.history);
const BLOCK_TXS = Number(a['block-txs']);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
};

// 1. The state tree: KEYS keys of 8-byte values, built in one batch.
const entries: [Uint8Array, Uint8Array][] = Array.from({ length: KEYS }, (_, i) => [utf8(`account/${i}`), u64be(i)]);
const t0 = heap();
const tree = SparseMerkleTree.empty().update(entries);
const t1 = heap();
console.log(`state tree: ${tree.size} keys, ${((t1.heap - t0.heap + t1.buffers - t0.buffers) / KEYS).toFixed(0)} bytes of heap and buffers per key (the values themselves included)`);

// 2. The mempool: TXS transfers from ACCOUNTS senders.
const validator = ValidatorKey.generate();
const genesis = buildGenesis({
  chainId: CHAIN_ID,
  validators: [{ publicKey: validator.ed25519.publicKey, blsPublicKey: validator.bls.publicKey, blsProofOfPossession: validator.bls.proofOfPossession() }],
  devAccounts: ACCOUNTS,
});
const dir = await mkdtemp(join(tmpdir(), 'metanode-memory-'));
const store = await ChainStore.open(await LevelKV.open(join(dir, 'data')));
const { registry, bank } = createModules();
const logger = pino({ level: 'silent' });
const chain = await Blockchain.open(genesis, { store, sm: new StateMachine({ chainId: CHAIN_ID }, { registry, fees: bank }), logger });
const mempool = new Mempool({ maxTxs: 1_000_000, maxBytes: 1 << 30 }, { chainId: CHAIN_ID, registry, fees: bank, state: () => chain.state, logger });
const keys = Array.from({ length: ACCOUNTS }, (_, i) => devAccountKey(i));
const addrs = keys.map((k) => addressFromPublicKey(k.publicKey));
const hex: (string | undefined)[] = [];
for (let n = 0; hex.length < TXS; n++) {
  for (let i = 0; i < ACCOUNTS && hex.length < TXS; i++) {
    const payload = encodeTransfer({ to: addrs[(i + 1) % ACCOUNTS]!, asset: 'NEX', amount: 1n });
    hex.push(toHex(Transaction.sign({ chainId: CHAIN_ID, nonce: BigInt(n), sender: keys[i]!.publicKey, fee: 1000n, kind: 'bank.transfer', payload }, keys[i]!).serialize()));
  }
}
const m0 = heap();
for (let i = 0; i < hex.length; i += 250) {
  const raws = hex.slice(i, i + 250).map((h) => fromHex(h!));
  hex.fill(undefined, i, i + 250); // the hex text goes, as a request's does
  const results = await mempool.addRawBatchAsync(raws);
  const refused = results.find((r) => !(r instanceof Transaction));
  if (refused) throw refused;
}
const m1 = heap();
console.log(`mempool: ${mempool.size} transactions, ${((m1.heap - m0.heap) / TXS).toFixed(0)} bytes of heap and ${((m1.buffers - m0.buffers) / TXS).toFixed(0)} of array buffers per transaction`);
await store.close();
await rm(dir, { recursive: true, force: true });

// 3. The state history: HISTORY blocks of BLOCK_TXS fee-paying transfers (staking on, as in a
// devnet), then what dropping their undo sets frees.
{
  const senders = Array.from({ length: BLOCK_TXS }, (_, i) => accountKey(i));
  const chain = new StakingChain(stakingGenesis({ validators: [validatorKey(0)], accounts: BLOCK_TXS }));
  chain.world.history = HISTORY;
  let written = 0;
  for (let b = 0; b < HISTORY; b++) {
    const txs = senders.map((k, j) => transferTx(k, getNonce(chain.world, addressOf(k)), addressOf(senders[(j + 1) % BLOCK_TXS]!), 'NEX', 1n, { fee: 1_000n }));
    written += chain.block(txs).writes.size;
  }
  const kept = heap();
  chain.world.history = 0;
  const dropped = heap();
  const perBlock = (kept.heap - dropped.heap + kept.buffers - dropped.buffers) / HISTORY;
  console.log(`state history: ${HISTORY} blocks of ${BLOCK_TXS} transfers (${(written / HISTORY).toFixed(0)} keys written per block) keep ${(perBlock / 1024 / 1024).toFixed(2)} MiB of heap and buffers per block, ${(perBlock / (written / HISTORY)).toFixed(0)} bytes per key written; ${((perBlock * HISTORY) / 1024 / 1024).toFixed(0)} MiB in all`);
}
