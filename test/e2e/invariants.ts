/**
 * Whole-chain invariants, checked through a node's JSON-RPC alone: blocks link up and carry
 * certificates, every committed transaction has its receipt, and the state equals what the
 * blocks and receipts say it should be (replayed from genesis.json), supply is conserved, and
 * state proofs verify against block headers. Meant for a quiet node (no transactions arriving).
 */
import { expect } from 'chai';
import { asBigint, fromHex, parseAddress, rlpDecode, toHex, verifyVersionedStateProof, versionedProofFromJson } from '../../chain/index.js';
import type { GenesisDoc } from '../../genesis/index.js';
import { balanceKey } from '../../vm/modules/bank/keys.js';
import {
  ASSET_SYMBOLS,
  type AccountJson,
  type Asset,
  type AssetJson,
  type BlockJson,
  type HeadJson,
  type ProofJson,
  type ReceiptJson,
  type RpcClient,
  type TxJson,
} from './client.js';

export type Ledger = Map<string, Record<Asset, bigint>>;

const zero = (): Record<Asset, bigint> => ({ GEN: 0n, NEX: 0n, FLX: 0n, AUR: 0n });

/** Balances written by genesis.json's bank section. */
export function genesisLedger(genesis: GenesisDoc): Ledger {
  const bank = genesis.modules.bank as { balances: { address: string; amounts: Partial<Record<Asset, string>> }[] };
  const out: Ledger = new Map();
  for (const b of bank.balances) out.set(b.address, Object.fromEntries(ASSET_SYMBOLS.map((a) => [a, BigInt(b.amounts[a] ?? '0')])) as Record<Asset, bigint>);
  return out;
}

export function supplyOf(ledger: Ledger): Record<Asset, bigint> {
  const s = zero();
  for (const b of ledger.values()) for (const a of ASSET_SYMBOLS) s[a] += b[a];
  return s;
}

/** Blocks from..to (inclusive) with whole transactions; every one must exist. */
export async function fetchBlocks(rpc: RpcClient, from: number, to: number): Promise<BlockJson<TxJson>[]> {
  const calls = [];
  for (let h = from; h <= to; h++) calls.push({ method: 'chain_getBlockByHeight', params: [h, true] });
  const blocks = await rpc.batchResults<BlockJson<TxJson> | null>(calls, 200);
  blocks.forEach((b, i) => expect(b, `block ${from + i} (head ≥ ${to}) is not served`).to.not.equal(null));
  return blocks as BlockJson<TxJson>[];
}

/** The GEN staking mints at genesis for the genesis validators' self-bonds (0 without a staking section). */
export function genesisBond(genesis: GenesisDoc): bigint {
  const staking = genesis.modules.staking as { params?: Record<string, string | number> } | undefined;
  if (!staking) return 0n;
  const reduction = BigInt(staking.params?.powerReduction ?? 1_000_000);
  return genesis.validators.reduce((s, v) => s + BigInt(v.power) * reduction, 0n);
}

/**
 * Applies blocks 1..n to the genesis ledger: transfers on success, DockLock's burns (deploy and run
 * fees, from its events), and fees always. A fee goes
 * to the block's proposer on a chain without staking; with staking it goes to the fee collector
 * and on to module accounts (rewards held by staking, the treasury's tax), which the replay
 * counts as one pot (`fees`) instead of following.
 */
export function replay(genesis: GenesisDoc, blocks: readonly BlockJson<TxJson>[], receipts: ReadonlyMap<string, ReceiptJson>) {
  const staking = genesis.modules.staking !== undefined;
  let fees = 0n;
  let burned = 0n;
  const ledger = genesisLedger(genesis);
  const nonces = new Map<string, number>();
  const acct = (a: string) => {
    let b = ledger.get(a);
    if (!b) ledger.set(a, (b = zero()));
    return b;
  };
  let failed = 0;
  for (const block of blocks) {
    if (block.height === 0) continue;
    for (const tx of block.transactions) {
      const r = receipts.get(tx.hash)!;
      const expected = nonces.get(tx.from) ?? 0;
      expect(tx.nonce, `nonce of ${tx.hash} in block ${block.height}`).to.equal(expected);
      nonces.set(tx.from, expected + 1);
      const fee = BigInt(tx.fee);
      acct(tx.from).NEX -= fee;
      if (staking) fees += fee;
      else acct(block.proposer).NEX += fee;
      if (r.status !== 'success') {
        failed++;
        continue;
      }
      if (tx.kind.startsWith('docklock.')) {
        // A deploy or a run burns NEX from its sender (the `fee` of its docklock event).
        const b = r.events.filter((e) => e.module === 'docklock').reduce((s, e) => s + BigInt(e.attributes.fee ?? '0'), 0n);
        acct(tx.from).NEX -= b;
        burned += b;
        continue;
      }
      const { to, asset, amount } = tx.args as { to: string; asset: Asset; amount: string };
      acct(tx.from)[asset] -= BigInt(amount);
      acct(to)[asset] += BigInt(amount);
    }
  }
  for (const [a, b] of ledger) for (const s of ASSET_SYMBOLS) expect(b[s] >= 0n, `replayed ${s} balance of ${a} is negative`).to.equal(true);
  return { ledger, nonces, failed, fees, burned };
}

export interface ChainCheck {
  height: number;
  blocks: number;
  txs: number;
  failedTxs: number;
  head: HeadJson;
  /** Hashes of every committed transaction. */
  committed: Set<string>;
}

/**
 * Checks a quiet node end to end against its genesis. `extraAddresses` are accounts to include
 * in the state comparison besides genesis accounts, proposers and transfer recipients.
 */
export async function checkChainConsistency(rpc: RpcClient, genesis: GenesisDoc, extraAddresses: string[] = []): Promise<ChainCheck> {
  const head = await rpc.call<HeadJson>('chain_getHead');
  const blocks = await fetchBlocks(rpc, 0, head.height);

  const addresses = new Set([...genesisLedger(genesis).keys(), ...extraAddresses]);
  for (const b of blocks.slice(1)) {
    addresses.add(b.proposer);
    for (const t of b.transactions) if (t.args?.to) addresses.add(t.args.to);
  }
  const probe = [...genesisLedger(genesis).keys()][0]!;
  const presentKey = balanceKey(parseAddress(probe), 'NEX');
  const absentKey = balanceKey(new Uint8Array(20).fill(0xee), 'NEX');
  const moduleAccounts = (await rpc.call<{ address: string }[]>('module_query', ['bank', 'module_accounts'])).map((m) => m.address);
  for (const m of moduleAccounts) addresses.delete(m);
  const addrList = [...addresses, ...moduleAccounts];
  // The proofs and the supply; then every account read at the proofs' height (batchResults splits a long list into several
  // batches, between which a block may be committed).
  const [present, assets] = (await rpc.batchResults<unknown>([
    { method: 'state_getProof', params: [toHex(presentKey)] },
    { method: 'bank_getAssets' },
  ])) as [ProofJson, AssetJson[]];
  // The absence proof at the same height, named: a batch's calls may be answered at two heights
  // when a block is committed while it is served.
  const absent = await rpc.call<ProofJson>('state_getProof', [toHex(absentKey), present.height]);
  const accounts = await rpc.batchResults<AccountJson>(addrList.map((a) => ({ method: 'state_getAccount', params: [a, present.height] })));
  const userAccounts = accounts.slice(0, accounts.length - moduleAccounts.length);
  const moduleBalances = accounts.slice(accounts.length - moduleAccounts.length);
  const height = present.height;
  expect(absent.height, 'proofs in one batch are at one height').to.equal(height);
  for (const a of accounts) expect(a.height, `state_getAccount(${a.address}) height in the batch`).to.equal(height);
  expect(height).to.be.at.least(head.height);
  if (height > head.height) blocks.push(...(await fetchBlocks(rpc, head.height + 1, height)));

  // Blocks: served, linked, certified; the head is the block at its height.
  expect(blocks[head.height]!.hash, 'chain_getHead hash = block at that height').to.equal(head.hash);
  expect(blocks[head.height]!.stateRoot, 'chain_getHead stateRoot = header stateRoot').to.equal(head.stateRoot);
  expect(blocks[head.height]!.timestamp).to.equal(head.timestamp);
  const txs: TxJson[] = [];
  for (const b of blocks) {
    if (b.height === 0) continue;
    const parent = blocks[b.height - 1]!;
    expect(b.height).to.equal(parent.height + 1);
    expect(b.parentHash, `block ${b.height} parent`).to.equal(parent.hash);
    expect(b.timestamp, `block ${b.height} timestamp`).to.be.greaterThan(parent.timestamp);
    expect(b.certificate, `block ${b.height} certificate`).to.not.equal(null);
    expect(b.certificate!.height).to.equal(b.height);
    expect(b.certificate!.blockHash).to.equal(b.hash);
    expect(b.certificate!.signers, `block ${b.height} signers`).to.have.length.greaterThan(0);
    expect(b.transactionCount).to.equal(b.transactions.length);
    b.transactions.forEach((t, i) => {
      expect({ h: t.blockHeight, b: t.blockHash, i: t.index }, `location of ${t.hash}`).to.deep.equal({ h: b.height, b: b.hash, i });
      txs.push(t);
    });
  }

  // Every committed transaction: found by hash, with a receipt at the same place.
  const lookups = await rpc.batchResults<TxJson | ReceiptJson | null>(txs.flatMap((t) => [
    { method: 'chain_getTransaction', params: [t.hash] },
    { method: 'chain_getReceipt', params: [t.hash] },
  ]));
  const receipts = new Map<string, ReceiptJson>();
  txs.forEach((t, i) => {
    const byHash = lookups[2 * i] as TxJson | null;
    const r = lookups[2 * i + 1] as ReceiptJson | null;
    expect(byHash, `chain_getTransaction(${t.hash})`).to.deep.equal(t);
    expect(r, `receipt of committed tx ${t.hash} (block ${t.blockHeight})`).to.not.equal(null);
    expect({ h: r!.blockHeight, b: r!.blockHash, i: r!.index, tx: r!.txHash, fee: r!.fee }).to.deep.equal({ h: t.blockHeight, b: t.blockHash, i: t.index, tx: t.hash, fee: t.fee });
    if (r!.status === 'failed') expect(r!.errorCode, `failed receipt ${t.hash} has a code`).to.be.a('string').and.not.equal('');
    receipts.set(t.hash, r!);
  });

  // State = replay of the blocks; supply conserved.
  const { ledger, nonces, failed, fees, burned } = replay(genesis, blocks.slice(0, height + 1), receipts);
  userAccounts.forEach((acc, i) => {
    const addr = addrList[i]!;
    const want = ledger.get(addr) ?? zero();
    expect(acc.balances, `balances of ${addr} at ${height}`).to.deep.equal(Object.fromEntries(ASSET_SYMBOLS.map((a) => [a, want[a].toString()])));
    expect(acc.nonce, `nonce of ${addr}`).to.equal(nonces.get(addr) ?? 0);
  });
  // Module accounts: the fees the replay pooled (none without staking), and the genesis self-bonds in staking's.
  const held = (s: Asset) => moduleBalances.reduce((sum, acc) => sum + BigInt(acc.balances[s]), 0n);
  expect(held('NEX').toString(), 'NEX in module accounts = the fees paid (no rewards withdrawn here)').to.equal(fees.toString());
  expect(held('GEN').toString(), 'GEN in module accounts = the genesis self-bonds (nothing slashed here)').to.equal(genesisBond(genesis).toString());
  const genesisSupply = supplyOf(genesisLedger(genesis));
  genesisSupply.GEN += genesisBond(genesis);
  genesisSupply.NEX -= burned;
  for (const a of assets) {
    const sum = accounts.reduce((s, acc) => s + BigInt(acc.balances[a.symbol]), 0n);
    expect(sum.toString(), `sum of ${a.symbol} balances`).to.equal(a.supply);
    expect(a.supply, `${a.symbol} supply vs genesis`).to.equal(genesisSupply[a.symbol].toString());
  }

  // Proofs verify against the header at their height, fetched as a block.
  const header = blocks[height]!;
  const root = fromHex(header.stateRoot);
  expect(present.stateRoot).to.equal(header.stateRoot);
  expect(present.blockHash).to.equal(header.hash);
  expect(present.value, `balance key of ${probe} is present`).to.not.equal(null);
  expect(verifyVersionedStateProof(root, presentKey, fromHex(present.value!), versionedProofFromJson(present.proofFormat, present.proof)), 'inclusion proof verifies').to.equal(true);
  expect(asBigint(rlpDecode(fromHex(present.value!), 'balance'), 'balance').toString()).to.equal(ledger.get(probe)!.NEX.toString());
  expect(absent.value).to.equal(null);
  expect(verifyVersionedStateProof(root, absentKey, undefined, versionedProofFromJson(absent.proofFormat, absent.proof)), 'non-inclusion proof verifies').to.equal(true);

  return { height, blocks: blocks.length, txs: txs.length, failedTxs: failed, head, committed: new Set(receipts.keys()) };
}
