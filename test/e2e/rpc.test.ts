import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import {
  EMPTY_MERKLE_ROOT,
  Ed25519Key,
  Transaction,
  fromHex,
  parseAddress,
  rlpEncode,
  ENTRY_PROOF_FORMAT,
  versionedProofFromJson,
  toHex,
  uintBytes,
  utf8,
  verifyVersionedStateProof,
} from '../../chain/index.js';
import { encodeTransfer } from '../../vm/modules/bank/index.js';
import { balanceKey } from '../../vm/modules/bank/keys.js';
import {
  MIN_FEE,
  TestNode,
  addressOf,
  devAddress,
  devKey,
  getAccount,
  rawHex,
  sendTransfer,
  signTransfer,
  sleep,
  waitForHeight,
  waitForReceipt,
  type AccountJson,
  type AssetJson,
  type BlockJson,
  type HeadJson,
  type JsonRpcResponse,
  type NodeStatusJson,
  type ProofJson,
  type ReceiptJson,
  type RpcClient,
  type TxJson,
  type ValidatorsJson,
} from './harness.js';

const BODY_CAP = 256 * 1024;
const HASH_RE = /^0x[0-9a-f]{64}$/;
const ADDRESS_RE = /^mn1[02-9ac-hj-np-z]+$/;
const UNKNOWN_HASH = '0x' + 'ab'.repeat(32);

/** Methods and their parameter names, read from the table in docs/json-rpc.md. */
function documentedMethods(): Map<string, string[]> {
  const text = readFileSync(new URL('../../../docs/json-rpc.md', import.meta.url), 'utf8');
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\| `([A-Za-z_.]+)` \| ([^|]*) \|/.exec(line);
    if (m) out.set(m[1]!, [...m[2]!.matchAll(/`([A-Za-z]+\??)`/g)].map((x) => x[1]!));
  }
  return out;
}

/** RLP list framing around already-encoded items (to build deliberately odd encodings). */
function rlpList(items: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(items);
  if (body.length < 56) return Buffer.concat([Buffer.of(0xc0 + body.length), body]);
  const len = Buffer.from(uintBytes(body.length));
  return Buffer.concat([Buffer.of(0xf7 + len.length), len, body]);
}

/** A transaction's items, each RLP-encoded, as decodeTransaction expects them. */
function encodedItems(tx: Transaction): Uint8Array[] {
  return [utf8(tx.chainId), uintBytes(tx.nonce), tx.sender, uintBytes(tx.fee), utf8(tx.kind), tx.payload, tx.signature].map((f) => rlpEncode(f));
}

describe('e2e: JSON-RPC over HTTP against a running node', function () {
  this.timeout(60_000);
  let node: TestNode;
  let rpc: RpcClient;
  let chainId: string;
  let validator: string;
  /** Where fees go under staking: shared among the signers at the next block. */
  let feeCollector: string;
  /** The transfer committed by the first transfer test, reused by later lookups. */
  let committed: { hash: string; raw: string; tx: Transaction; receipt: ReceiptJson };

  before(async () => {
    node = await TestNode.init({ emptyBlockIntervalMs: 200, config: { rpc: { maxBodyBytes: BODY_CAP } } });
    await node.start();
    rpc = node.rpc;
    chainId = node.chainId;
    validator = (await rpc.call<NodeStatusJson>('node_status')).validator!;
    feeCollector = (await rpc.call<{ module: string; address: string }[]>('module_query', ['bank', 'module_accounts'])).find((a) => a.module === 'fee_collector')!.address;
    await waitForHeight(rpc, 1);
  });

  /** NEX the validator (its own operator, as at genesis) may withdraw: its self-delegation's rewards and its commission. */
  async function withdrawable(): Promise<bigint> {
    const ds = await rpc.call<{ validator: string; rewards: string; commission?: string }[]>('module_query', ['staking', 'delegations', { address: validator }]);
    const own = ds.find((d) => d.validator === validator)!;
    return BigInt(own.rewards) + BigInt(own.commission ?? '0');
  }

  /**
   * The fee of the transaction committed at `height` reaches the validator at the next block,
   * less the community tax (2%): the staking `rewards` event of height + 1 says so, and what the
   * validator may withdraw grows by it (to within a base unit of rounding).
   */
  async function expectFeeRewarded(height: number, fee: bigint, before: bigint): Promise<void> {
    await waitForHeight(rpc, height + 1);
    const block = await rpc.call<BlockJson>('chain_getBlockByHeight', [height]);
    expect(block.transactionCount, `block ${height} holds only the test's transaction`).to.equal(1);
    const events = await rpc.call<{ events: { module: string; type: string; attributes: Record<string, string> }[] }>('chain_getBlockEvents', [height + 1]);
    const rewards = events.events.find((e) => e.module === 'staking' && e.type === 'rewards')!;
    const tax = (fee * 20_000n) / 1_000_000n;
    expect(rewards.attributes).to.include({ total: fee.toString(), communityTax: tax.toString() });
    const gained = (await withdrawable()) - before;
    expect(Number(fee - tax - gained), `withdrawable rewards grew by ${gained}, the fee less the tax is ${fee - tax}`).to.be.within(0, 1);
  }

  after(async () => {
    await node?.remove();
  });

  /** Accounts in one batch (one state). */
  async function accounts(addresses: string[]): Promise<AccountJson[]> {
    return rpc.batchResults<AccountJson>(addresses.map((a) => ({ method: 'state_getAccount', params: [a] })));
  }

  describe('transfers', () => {
    it('commits a NEX transfer: the sender pays exactly amount + fee, the recipient gets amount, the validator the fee (less the community tax) at the next block', async () => {
      const [from, to] = [devAddress(1), devAddress(2)];
      const amount = 123_456n;
      const fee = 1_500n;
      const [s0, r0, v0] = await accounts([from, to, validator]);
      const w0 = await withdrawable();
      const { tx, hash } = await sendTransfer(rpc, { chainId, from: 1, to: 2, asset: 'NEX', amount, fee });
      const receipt = await waitForReceipt(rpc, hash);
      expect(receipt).to.include({ txHash: hash, status: 'success', errorCode: null, errorMessage: null, fee: '1500', index: 0 });
      expect(receipt.events).to.deep.equal([
        { module: 'bank', type: 'fee', attributes: { payer: from, recipient: feeCollector, amount: '1500' } },
        { module: 'bank', type: 'transfer', attributes: { from, to, asset: 'NEX', amount: '123456' } },
      ]);
      const [s1, r1, v1] = await accounts([from, to, validator]);
      expect(BigInt(s0!.balances.NEX) - BigInt(s1!.balances.NEX)).to.equal(amount + fee);
      expect(BigInt(r1!.balances.NEX) - BigInt(r0!.balances.NEX)).to.equal(amount);
      expect(v1!.balances.NEX, 'rewards wait in staking until withdrawn').to.equal(v0!.balances.NEX);
      await expectFeeRewarded(receipt.blockHeight, fee, w0);
      for (const a of ['GEN', 'FLX', 'AUR'] as const) expect([s1!.balances[a], r1!.balances[a]]).to.deep.equal([s0!.balances[a], r0!.balances[a]]);
      expect([s1!.nonce, r1!.nonce]).to.deep.equal([s0!.nonce + 1, r0!.nonce]);
      committed = { hash, raw: rawHex(tx), tx, receipt };
    });

    it('charges the fee in NEX when another asset moves', async () => {
      const [from, to] = [devAddress(4), devAddress(2)];
      const [s0, r0] = await accounts([from, to]);
      const w0 = await withdrawable();
      const { hash } = await sendTransfer(rpc, { chainId, from: 4, to: 2, asset: 'GEN', amount: 7n, fee: MIN_FEE });
      const receipt = await waitForReceipt(rpc, hash);
      expect(receipt.status).to.equal('success');
      const [s1, r1] = await accounts([from, to]);
      expect(BigInt(s0!.balances.GEN) - BigInt(s1!.balances.GEN)).to.equal(7n);
      expect(BigInt(s0!.balances.NEX) - BigInt(s1!.balances.NEX)).to.equal(MIN_FEE);
      expect(BigInt(r1!.balances.GEN) - BigInt(r0!.balances.GEN)).to.equal(7n);
      expect(r1!.balances.NEX).to.equal(r0!.balances.NEX);
      await expectFeeRewarded(receipt.blockHeight, MIN_FEE, w0);
    });

    it('accepts an overdrawn transfer and commits it as a failed receipt that only charges the fee', async () => {
      const [from, to] = [devAddress(3), devAddress(2)];
      const [s0, r0] = await accounts([from, to]);
      const w0 = await withdrawable();
      const amount = BigInt(s0!.balances.AUR) + 1n;
      const { hash } = await sendTransfer(rpc, { chainId, from: 3, to: 2, asset: 'AUR', amount, fee: 1_234n });
      const r = await waitForReceipt(rpc, hash);
      expect(r).to.include({ status: 'failed', errorCode: 'BANK_INSUFFICIENT_FUNDS', fee: '1234' });
      expect(r.errorMessage).to.match(/insufficient AUR/);
      expect(r.events).to.deep.equal([{ module: 'bank', type: 'fee', attributes: { payer: from, recipient: feeCollector, amount: '1234' } }]);
      const [s1, r1] = await accounts([from, to]);
      expect(BigInt(s0!.balances.NEX) - BigInt(s1!.balances.NEX)).to.equal(1_234n);
      expect(s1!.balances.AUR).to.equal(s0!.balances.AUR);
      expect(s1!.nonce).to.equal(s0!.nonce + 1);
      expect(r1!.balances).to.deep.equal(r0!.balances);
      await expectFeeRewarded(r.blockHeight, 1_234n, w0);
    });
  });

  describe('methods in docs/json-rpc.md', () => {
    it('chain_getChainId', async () => {
      expect(await rpc.call('chain_getChainId')).to.equal(chainId);
    });

    it('chain_getHead matches the block at its height', async () => {
      const head = await rpc.call<HeadJson>('chain_getHead');
      expect(head).to.have.all.keys('height', 'hash', 'stateRoot', 'timestamp');
      expect(head.hash).to.match(HASH_RE);
      expect(head.stateRoot).to.match(HASH_RE);
      const block = await rpc.call<BlockJson>('chain_getBlockByHeight', [head.height]);
      expect({ height: block.height, hash: block.hash, stateRoot: block.stateRoot, timestamp: block.timestamp }).to.deep.equal(head);
    });

    it('chain_getBlockByHeight: genesis, "latest", full transactions, and null above the head', async () => {
      const genesis = await rpc.call<BlockJson>('chain_getBlockByHeight', [0]);
      expect(genesis).to.include({ height: 0, chainId, parentHash: '0x' + '00'.repeat(32), transactionCount: 0, certificate: null });
      const head = await rpc.call<HeadJson>('chain_getHead');
      const latest = await rpc.call<BlockJson>('chain_getBlockByHeight', ['latest']);
      expect(latest.height).to.be.at.least(head.height);
      expect(latest.certificate).to.include({ height: latest.height, blockHash: latest.hash });
      expect(latest.certificate!.round).to.be.a('number');
      expect(latest.certificate!.signers).to.deep.equal([0]);
      expect(latest.proposer).to.equal(validator);
      expect(await rpc.call('chain_getBlockByHeight', [latest.height + 1000])).to.equal(null);

      const h = committed.receipt.blockHeight;
      const byHashes = await rpc.call<BlockJson<string>>('chain_getBlockByHeight', [h]);
      expect(byHashes.hash).to.equal(committed.receipt.blockHash);
      expect(byHashes.transactions).to.include(committed.hash);
      expect(byHashes.transactionCount).to.equal(byHashes.transactions.length);
      const full = await rpc.call<BlockJson<TxJson>>('chain_getBlockByHeight', [h, true]);
      expect(full.transactions.map((t) => t.hash)).to.deep.equal(byHashes.transactions);
      expect(full.transactions[0]).to.deep.include({ hash: committed.hash, kind: 'bank.transfer', from: devAddress(1), blockHeight: h, blockHash: full.hash, index: 0 });
      expect(await rpc.call('chain_getBlockByHeight', [h, false])).to.deep.equal(byHashes);
    });

    it('chain_getBlockByHash: the same block as by height, null for an unknown hash', async () => {
      const { blockHeight, blockHash } = committed.receipt;
      expect(await rpc.call('chain_getBlockByHash', [blockHash])).to.deep.equal(await rpc.call('chain_getBlockByHeight', [blockHeight]));
      expect(await rpc.call('chain_getBlockByHash', [blockHash, true])).to.deep.equal(await rpc.call('chain_getBlockByHeight', [blockHeight, true]));
      expect(await rpc.call('chain_getBlockByHash', [UNKNOWN_HASH])).to.equal(null);
    });

    it('chain_getTransaction: the committed transaction with its place; null when unknown', async () => {
      const t = await rpc.call<TxJson>('chain_getTransaction', [committed.hash]);
      const { tx, receipt } = committed;
      expect(t).to.deep.equal({
        hash: committed.hash,
        chainId,
        nonce: Number(tx.nonce),
        from: devAddress(1),
        senderPublicKey: toHex(devKey(1).publicKey),
        fee: '1500',
        kind: 'bank.transfer',
        payload: toHex(tx.payload),
        args: { to: devAddress(2), asset: 'NEX', amount: '123456' },
        signature: toHex(tx.signature),
        size: tx.serialize().length,
        blockHeight: receipt.blockHeight,
        blockHash: receipt.blockHash,
        index: 0,
      });
      expect(await rpc.call('chain_getTransaction', [UNKNOWN_HASH])).to.equal(null);
    });

    it('chain_getReceipt: the receipt with its place; null when unknown', async () => {
      expect(await rpc.call('chain_getReceipt', [committed.hash])).to.deep.equal(committed.receipt);
      expect(committed.receipt.blockHash).to.match(HASH_RE);
      expect(await rpc.call('chain_getReceipt', [UNKNOWN_HASH])).to.equal(null);
    });

    it('chain_getValidators: this node, for the next block by default, at a height, null far ahead', async () => {
      const before = await rpc.call<HeadJson>('chain_getHead');
      const next = await rpc.call<ValidatorsJson>('chain_getValidators');
      const head = await rpc.call<HeadJson>('chain_getHead');
      expect(next.height).to.be.within(before.height + 1, head.height + 1);
      expect(next.quorum).to.equal('1');
      expect(next.totalPower).to.equal('1');
      expect(next.validators).to.have.length(1);
      const v = next.validators[0]!;
      expect(v.address).to.equal(validator);
      expect(v.publicKey).to.match(HASH_RE);
      expect(v.blsPublicKey).to.match(/^0x[0-9a-f]{96}$/);
      expect(v.power).to.equal('1');
      const genesisKey = (await node.readJson<{ validators: { address: string; publicKey: string; blsPublicKey: string }[] }>('genesis')).validators[0]!;
      expect(v).to.include({ address: genesisKey.address, publicKey: genesisKey.publicKey, blsPublicKey: genesisKey.blsPublicKey });
      // What staking holds for it: its own operator, bonded at genesis, signing every block.
      expect(v).to.deep.include({ status: 'active', operator: validator, tokens: '1000000', selfBond: '1000000', delegated: '0', missedBlocks: 0, slashes: [], ready: true });
      const atZero = await rpc.call<ValidatorsJson>('chain_getValidators', [0]);
      expect(atZero).to.deep.equal({ ...next, height: 0 });
      const genesisBlock = await rpc.call<BlockJson>('chain_getBlockByHeight', [0]);
      expect(atZero.hash).to.equal(genesisBlock.validatorsHash);
      expect(await rpc.call('chain_getValidators', [head.height + 1000])).to.equal(null);
    });

    it("chain_getBlockEvents: a block's hook events (none after an empty block), the hash its header's eventsRoot belongs to, null above the head", async () => {
      // Two blocks on, the head's parent holds no earlier test's fees (which staking would share at the head).
      await waitForHeight(rpc, (await rpc.call<HeadJson>('chain_getHead')).height + 2);
      const head = await rpc.call<HeadJson>('chain_getHead');
      const got = await rpc.call<{ height: number; hash: string; events: unknown[] }>('chain_getBlockEvents', [head.height]);
      expect(got).to.deep.equal({ height: head.height, hash: head.hash, events: [] });
      const block = await rpc.call<BlockJson>('chain_getBlockByHeight', [head.height]);
      expect(block.eventsRoot).to.equal(toHex(EMPTY_MERKLE_ROOT));
      expect(await rpc.call('chain_getBlockEvents', [head.height + 1000])).to.equal(null);
    });

    it('state_getAccount: nonce and every balance; zeros for an unknown account', async () => {
      const a = await rpc.call<AccountJson>('state_getAccount', [devAddress(0)]);
      expect(a).to.deep.include({ address: devAddress(0), nonce: 0, balances: { GEN: '1000000000000', NEX: '1000000000000', FLX: '1000000000000', AUR: '100000000' } });
      const stranger = addressOf(Ed25519Key.generate());
      expect(await rpc.call('state_getAccount', [stranger])).to.deep.include({ address: stranger, nonce: 0, balances: { GEN: '0', NEX: '0', FLX: '0', AUR: '0' } });
    });

    it('state_getProof: a present balance and an absent key verify against the header stateRoot', async () => {
      const presentKey = balanceKey(parseAddress(devAddress(0)), 'NEX');
      const absentKey = balanceKey(parseAddress(addressOf(Ed25519Key.generate())), 'NEX');
      const present = await rpc.call<ProofJson>('state_getProof', [toHex(presentKey)]);
      const absent = await rpc.call<ProofJson>('state_getProof', [toHex(absentKey)]);
      for (const p of [present, absent]) {
        const header = await rpc.call<BlockJson>('chain_getBlockByHeight', [p.height]);
        expect([p.blockHash, p.stateRoot]).to.deep.equal([header.hash, header.stateRoot]);
        const root = fromHex(header.stateRoot);
        const proof = versionedProofFromJson(p.proofFormat, p.proof);
        if (p === present) {
          expect(p).to.include({ key: toHex(presentKey), value: toHex(rlpEncode(uintBytes(1_000_000_000_000n))) });
          expect(verifyVersionedStateProof(root, presentKey, fromHex(p.value!), proof)).to.equal(true);
          // The proof is about this value and this key only.
          expect(verifyVersionedStateProof(root, presentKey, rlpEncode(uintBytes(1_000_000_000_001n)), proof)).to.equal(false);
          expect(verifyVersionedStateProof(root, presentKey, undefined, proof)).to.equal(false);
        } else {
          expect(p).to.include({ key: toHex(absentKey), value: null });
          expect(verifyVersionedStateProof(root, absentKey, undefined, proof)).to.equal(true);
          expect(verifyVersionedStateProof(root, absentKey, rlpEncode(uintBytes(1n)), proof)).to.equal(false);
        }
      }
    });

    it('state_getProof at a recent height: the value then, proven against that block\'s stateRoot; a height not kept is -32002', async () => {
      const key = balanceKey(parseAddress(devAddress(0)), 'NEX');
      const head = await rpc.call<ProofJson>('state_getProof', [toHex(key)]);
      expect(head.proofFormat, "a chain made by metanode init is on the entry log").to.equal(ENTRY_PROOF_FORMAT);
      const height = Math.max(0, head.height - 2);
      const p = await rpc.call<ProofJson>('state_getProof', [toHex(key), height]);
      const header = await rpc.call<BlockJson>('chain_getBlockByHeight', [height]);
      expect([p.height, p.blockHash, p.stateRoot]).to.deep.equal([height, header.hash, header.stateRoot]);
      expect(verifyVersionedStateProof(fromHex(header.stateRoot), key, p.value === null ? undefined : fromHex(p.value), versionedProofFromJson(p.proofFormat, p.proof))).to.equal(true);
      const e = await rpc.callError('state_getProof', [toHex(key), head.height + 1000]);
      expect(e.code).to.equal(-32002);
      expect(e.message).to.match(/is above the head/);
    });

    it('bank_getAssets: the four assets with genesis decimals and supply (GEN: and the genesis validator\'s self-bond, minted by staking)', async () => {
      const dev = 10n;
      const bond = 1n * 1_000_000n; // power 1 × powerReduction
      expect(await rpc.call<AssetJson[]>('bank_getAssets')).to.deep.equal([
        { symbol: 'GEN', decimals: 6, supply: (dev * 10n ** 12n + bond).toString() },
        { symbol: 'NEX', decimals: 6, supply: (dev * 10n ** 12n).toString() },
        { symbol: 'FLX', decimals: 6, supply: (dev * 10n ** 12n).toString() },
        { symbol: 'AUR', decimals: 2, supply: (dev * 10n ** 8n).toString() },
      ]);
    });

    it('bank_getParams', async () => {
      expect(await rpc.call('bank_getParams')).to.deep.equal({ minFee: MIN_FEE.toString(), feeAsset: 'NEX' });
    });

    it("module_query: a module's named query with checked parameters; unknown modules, queries and parameters are -32602 naming what exists", async () => {
      expect(await rpc.call('module_query', ['bank', 'params'])).to.deep.equal({ minFee: MIN_FEE.toString(), feeAsset: 'NEX' });
      const alice = devAddress(0);
      const viaQuery = await rpc.call<Record<string, string>>('module_query', ['bank', 'balances', { address: alice }]);
      expect(viaQuery).to.deep.equal((await getAccount(rpc, alice)).balances);
      expect((await rpc.call<{ module: string; permissions: string[] }[]>('module_query', ['bank', 'module_accounts'])).map((a) => `${a.module}:${a.permissions.join('+')}`)).to.deep.equal(['fee_collector:', 'staking:mint+burn', 'staking_unbonding:burn', 'treasury:', 'docklock:burn', 'enc:mint+burn', 'court:burn']);
      const refused = async (params: unknown[], message: RegExp) => {
        const e = await rpc.callError('module_query', params);
        expect(e.code, JSON.stringify(params)).to.equal(-32602);
        expect(e.message).to.match(message);
      };
      await refused(['nope', 'jobs'], /no module "nope" with queries; modules: bank, consensus, staking, court, docklock, enc/);
      await refused(['bank', 'nope'], /bank has no query "nope"; its queries: assets, params, balances, module_accounts/);
      await refused(['bank', 'balances', {}], /"params.address" is required by bank.balances/);
      await refused(['bank', 'balances', { address: 'mn1nope' }], /"params.address" is not a valid address/);
      await refused(['bank', 'assets', { colour: 'red' }], /"params.colour" is not a parameter of bank.assets \(it takes: none\)/);
      await refused(['bank', 'assets', [1]], /"params" must be an object/);
      const doc = await rpc.call<{ methods: { name: string; summary: string }[] }>('rpc.discover');
      expect(doc.methods.find((m) => m.name === 'module_query')!.summary).to.match(/bank: assets\(\) .*balances\(address: address\)/);
    });

    it('module_query and state_getAccount read a recent height; a height above the head or no longer kept is -32002 naming the heights kept', async () => {
      const from = devAddress(9);
      const to = devAddress(10);
      const { hash } = await sendTransfer(rpc, { chainId, from: 9, to: 10, amount: 777n });
      const receipt = await waitForReceipt(rpc, hash);
      const h = receipt.blockHeight;
      await waitForHeight(rpc, h + 1);
      const balances = (addr: string, height: number | 'latest') => rpc.call<Record<string, string>>('module_query', ['bank', 'balances', { address: addr }, height]);
      const before = await balances(to, h - 1);
      const after = await balances(to, h);
      expect(BigInt(after.NEX!) - BigInt(before.NEX!)).to.equal(777n);
      const senderBefore = await rpc.call<{ height: number; nonce: number; balances: Record<string, string> }>('state_getAccount', [from, h - 1]);
      const senderAfter = await rpc.call<{ height: number; nonce: number; balances: Record<string, string> }>('state_getAccount', [from, h]);
      expect(senderBefore.height).to.equal(h - 1);
      expect(senderAfter.nonce).to.equal(senderBefore.nonce + 1);
      expect(BigInt(senderBefore.balances.NEX!) - BigInt(senderAfter.balances.NEX!)).to.equal(777n + BigInt(receipt.fee));
      expect(await balances(to, 'latest')).to.deep.equal(await balances(to, (await rpc.call<HeadJson>('chain_getHead')).height));
      const above = await rpc.callError('module_query', ['bank', 'balances', { address: to }, h + 100_000]);
      expect(above.code).to.equal(-32002);
      expect(above.message).to.match(new RegExp(`the state at height ${h + 100_000} is above the head; this node can read heights \\d+ to \\d+`));
      const bad = await rpc.callError('state_getAccount', [from, -1]);
      expect(bad.code).to.equal(-32602);
    });

    it('tx_send returns the transaction hash', async () => {
      const tx = signTransfer({ chainId, from: 7, to: 8, amount: 1n, nonce: (await getAccount(rpc, devAddress(7))).nonce });
      expect(await rpc.call('tx_send', [rawHex(tx)])).to.deep.equal({ hash: toHex(tx.hash()) });
      await waitForReceipt(rpc, toHex(tx.hash()));
    });

    it('node_status', async () => {
      const s = await rpc.call<NodeStatusJson>('node_status');
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
      expect(s).to.deep.include({ version: pkg.version, chainId, syncing: false, validator, peers: 0 });
      expect(s.validator).to.match(ADDRESS_RE);
      expect(s.head.hash).to.match(HASH_RE);
      expect(s.mempool).to.have.all.keys('size', 'bytes');
    });

    it('node_health and GET /health', async () => {
      expect(await rpc.call('node_health')).to.deep.equal({ ok: true });
      const res = await fetch(`${node.url}/health`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.include({ ok: true });
    });

    it('rpc.discover: an OpenRPC document with every documented method, its params, result, errors and an example', async () => {
      const doc = await rpc.call<{ openrpc: string; info: { version: string }; methods: OpenRpcMethod[] }>('rpc.discover');
      expect(doc.openrpc).to.match(/^1\.\d+\.\d+$/);
      const documented = documentedMethods();
      expect(documented.size, 'methods found in docs/json-rpc.md').to.be.at.least(15);
      const listed = new Map(doc.methods.map((m) => [m.name, m]));
      // rpc.discover describes the others; it is not listed in its own document.
      expect([...listed.keys(), 'rpc.discover'].sort()).to.deep.equal([...documented.keys()].sort());
      for (const [name, params] of documented) {
        if (name === 'rpc.discover') continue;
        const m = listed.get(name)!;
        expect(m.summary, name).to.be.a('string').and.not.equal('');
        const names = m.params.map((p) => (p.required ? p.name : `${p.name}?`));
        expect(params.slice(0, names.length), `${name} params vs docs`).to.deep.equal(names);
        for (const p of m.params) expect(p.schema, `${name}.${p.name} schema`).to.be.an('object');
        expect(m.result, `${name} result`).to.include.keys('name', 'schema');
        expect(m.errors.length, `${name} errors`).to.be.greaterThan(0);
        for (const e of m.errors) expect(e.code).to.be.a('number');
        expect(m.examples.length, `${name} examples`).to.be.greaterThan(0);
        expect(m.examples[0]).to.include.keys('params', 'result');
      }
      expect(listed.get('tx_send')!.errors.map((e) => e.code)).to.include(-32001);
    });
  });

  describe('batches', () => {
    it('a batch of one is answered with an array of one', async () => {
      const a = await rpc.post([{ jsonrpc: '2.0', id: 7, method: 'chain_getChainId' }]);
      expect(a.status).to.equal(200);
      expect(a.json).to.deep.equal([{ jsonrpc: '2.0', id: 7, result: chainId }]);
    });

    it('mixed valid and invalid entries each get their own answer; notifications get none', async () => {
      const a = await rpc.post([
        { jsonrpc: '2.0', id: 'ok', method: 'chain_getChainId' },
        { jsonrpc: '2.0', id: 'unknown', method: 'no_such_method' },
        { jsonrpc: '2.0', id: 'params', method: 'chain_getBlockByHeight', params: ['tall'] },
        { jsonrpc: '2.0', method: 'node_health' },
        { jsonrpc: '2.0', method: 'no_such_method' },
        42,
        { jsonrpc: '2.0', id: 'nomethod' },
        { jsonrpc: '2.0', id: 'tx', method: 'tx_send', params: ['0xc0'] },
      ]);
      expect(a.status).to.equal(200);
      const answers = a.json as JsonRpcResponse[];
      expect(answers).to.have.length(6);
      const byId = new Map(answers.map((r) => [r.id, r]));
      expect(byId.get('ok')!.result).to.equal(chainId);
      expect(byId.get('unknown')!.error!.code).to.equal(-32601);
      expect(byId.get('params')!.error).to.deep.include({ code: -32602, data: { param: 'height' } });
      expect(byId.get(null)!.error!.code).to.equal(-32600);
      expect(byId.get('nomethod')!.error!.code).to.equal(-32600);
      expect(byId.get('tx')!.error).to.deep.include({ code: -32001, data: { reason: 'TX_MALFORMED' } });
    });

    it('a batch of notifications gets no body, yet each is carried out', async () => {
      const tx = signTransfer({ chainId, from: 6, to: 5, amount: 3n, nonce: (await getAccount(rpc, devAddress(6))).nonce });
      const a = await rpc.post([
        { jsonrpc: '2.0', method: 'tx_send', params: [rawHex(tx)] },
        { jsonrpc: '2.0', method: 'node_health' },
      ]);
      expect([a.status, a.text]).to.deep.equal([204, '']);
      expect((await waitForReceipt(rpc, toHex(tx.hash()))).status).to.equal('success');
      const single = await rpc.post({ jsonrpc: '2.0', method: 'chain_getHead' });
      expect([single.status, single.text]).to.deep.equal([204, '']);
    });

    it('the same transaction twice in one batch: the second is a duplicate; a cheaper same-nonce one is refused', async () => {
      const nonce = (await getAccount(rpc, devAddress(6))).nonce;
      const tx = signTransfer({ chainId, from: 6, to: 5, amount: 4n, nonce, fee: 2_000n });
      const cheaper = signTransfer({ chainId, from: 6, to: 5, amount: 5n, nonce, fee: 1_500n });
      const [first, again, under] = await rpc.batch([
        { method: 'tx_send', params: [rawHex(tx)] },
        { method: 'tx_send', params: [rawHex(tx)] },
        { method: 'tx_send', params: [rawHex(cheaper)] },
      ]);
      expect(first!.result).to.deep.equal({ hash: toHex(tx.hash()) });
      expect(again!.error).to.deep.include({ code: -32001, data: { reason: 'TX_DUPLICATE' } });
      expect(under!.error).to.deep.include({ code: -32001, data: { reason: 'TX_REPLACEMENT_UNDERPRICED' } });
      expect(under!.error!.message).to.match(/higher fee than 2000/);
      await waitForReceipt(rpc, toHex(tx.hash()));
    });

    it('a batch over the limit is refused as a whole', async () => {
      const a = await rpc.post(Array.from({ length: 1001 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'node_health' })));
      expect((a.json as JsonRpcResponse).error).to.deep.include({ code: -32600 });
      expect((a.json as JsonRpcResponse).error!.message).to.match(/1001 exceeds the limit of 1000/);
    });
  });

  describe('bad requests', () => {
    it('invalid JSON → -32700 with id null', async () => {
      for (const body of ['{bad', '{"jsonrpc":"2.0","id":1,', '', '[1,]']) {
        const a = await rpc.post(body);
        expect(a.status, body).to.equal(200);
        expect((a.json as JsonRpcResponse).id).to.equal(null);
        expect((a.json as JsonRpcResponse).error!.code, body).to.equal(-32700);
        expect((a.json as JsonRpcResponse).error!.message).to.match(/^parse error: /);
      }
    });

    it('a request that is not a JSON-RPC object, or an empty batch → -32600', async () => {
      for (const body of ['42', '"chain_getHead"', 'true', 'null', '{}']) {
        const r = (await rpc.post(body)).json as JsonRpcResponse;
        expect(r.error!.code, body).to.equal(-32600);
        expect(r.error!.message, body).to.match(/expected \{"jsonrpc":"2.0","method"/);
        expect(r.id).to.equal(null);
      }
      for (const req of [{ id: 5, method: 'chain_getHead' }, { jsonrpc: '1.0', id: 5, method: 'chain_getHead' }, { jsonrpc: '2.0', id: 5, method: 7 }]) {
        const r = (await rpc.post(req)).json as JsonRpcResponse;
        expect(r, JSON.stringify(req)).to.deep.include({ id: 5 });
        expect(r.error!.code).to.equal(-32600);
      }
      const empty = (await rpc.post('[]')).json as JsonRpcResponse;
      expect(empty.error).to.deep.equal({ code: -32600, message: 'invalid request: empty batch' });
    });

    it('an unknown method → -32601 naming it and pointing at rpc.discover', async () => {
      const e = await rpc.callError('chain_getHeadd');
      expect(e.code).to.equal(-32601);
      expect(e.message).to.contain('"chain_getHeadd"').and.contain('rpc.discover');
    });

    const invalid: [string, unknown, string, RegExp][] = [
      ['chain_getBlockByHeight', [], 'height', /is required/],
      ['chain_getBlockByHeight', [true], 'height', /non-negative integer or "latest"/],
      ['chain_getBlockByHeight', [-1], 'height', /non-negative integer/],
      ['chain_getBlockByHeight', [1.5], 'height', /non-negative integer/],
      ['chain_getBlockByHeight', ['newest'], 'height', /"latest"/],
      ['chain_getBlockByHeight', [1, 'yes'], 'fullTransactions', /true or false/],
      ['chain_getBlockByHeight', { hieght: 1 }, 'hieght', /not a parameter/],
      ['chain_getBlockByHash', [], 'hash', /is required/],
      ['chain_getBlockByHash', [12], 'hash', /32-byte hex/],
      ['chain_getBlockByHash', ['0x1234'], 'hash', /32 bytes, got 2/],
      ['chain_getTransaction', ['0x' + 'zz'.repeat(32)], 'hash', /hex/],
      ['chain_getTransaction', ['ab'.repeat(32)], 'hash', /0x-prefixed/],
      ['chain_getReceipt', [null], 'hash', /is required|hex/],
      ['chain_getValidators', ['soon'], 'height', /non-negative integer/],
      ['state_getAccount', [], 'address', /is required/],
      ['state_getAccount', [42], 'address', /address string/],
      ['state_getAccount', ['cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq'], 'address', /must start with "mn1"/],
      ['state_getAccount', [devAddress(0).slice(0, -1) + (devAddress(0).endsWith('q') ? 'p' : 'q')], 'address', /checksum.*typo/],
      ['state_getProof', [], 'key', /is required/],
      ['state_getProof', ['0xabc'], 'key', /even number of digits/],
      ['state_getProof', ['beef'], 'key', /0x-prefixed/],
      ['tx_send', [], 'raw', /is required/],
      ['tx_send', ['0xnothex'], 'raw', /hex/],
      ['tx_send', [{ raw: '0x00' }], 'raw', /0x-prefixed hex/],
      ['chain_getHead', [1], 'params', /at most 0/],
      ['chain_getChainId', 'x', 'params', /array or an object/],
    ];
    for (const [method, params, param, message] of invalid) {
      it(`${method}(${JSON.stringify(params)}) → -32602 naming "${param}"`, async () => {
        const e = await rpc.callError(method, params);
        expect(e.code).to.equal(-32602);
        expect(e.data).to.deep.equal({ param });
        expect(e.message).to.contain(`"${param}"`);
        expect(e.message).to.match(message);
      });
    }

    it('a body above the cap → HTTP 413 with -32600 naming the limit', async () => {
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tx_send', params: ['0x' + '00'.repeat(BODY_CAP)] });
      const a = await rpc.post(big);
      expect(a.status).to.equal(413);
      expect((a.json as JsonRpcResponse).error).to.deep.equal({
        code: -32600,
        message: `request body exceeds ${BODY_CAP} bytes (rpc.maxBodyBytes); split the batch`,
        data: { limit: 'rpc.maxBodyBytes', max: BODY_CAP },
      });
      // Without a Content-Length (chunked), the cap is enforced while reading.
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(node.url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        for (let i = 0; i < 5; i++) req.write(big.slice(i * 64 * 1024, (i + 1) * 64 * 1024));
        req.end(big.slice(5 * 64 * 1024));
      });
      expect(chunked.status).to.equal(413);
      expect((JSON.parse(chunked.body) as JsonRpcResponse).error!.code).to.equal(-32600);
    });

    it('other paths and HTTP methods are refused with a hint', async () => {
      // GET / is the block explorer (test/e2e/explorer.test.ts); other paths are not found.
      const get = await fetch(`${node.url}/nope`);
      expect(get.status).to.equal(404);
      expect(await get.text()).to.match(/POST \//);
      const put = await fetch(`${node.url}/`, { method: 'PUT', body: '{}' });
      expect(put.status).to.equal(405);
      await put.text();
    });
  });

  describe('tx_send rejections → -32001 with data.reason', () => {
    let nonce: number;
    beforeEach(async () => {
      nonce = (await getAccount(rpc, devAddress(5))).nonce;
    });

    async function rejected(raw: string | Transaction, reason: string, message?: RegExp) {
      const e = await rpc.callError('tx_send', [typeof raw === 'string' ? raw : rawHex(raw)]);
      expect(e.code, e.message).to.equal(-32001);
      expect(e.data?.reason, e.message).to.equal(reason);
      expect(e.message).to.match(/^transaction rejected: /);
      if (message) expect(e.message).to.match(message);
      return e;
    }
    const transfer = (o: { nonce?: number; fee?: bigint; chainId?: string; from?: number | Ed25519Key; amount?: bigint }) =>
      signTransfer({ chainId: o.chainId ?? chainId, from: o.from ?? 5, to: 9, amount: o.amount ?? 10n, nonce: o.nonce ?? nonce, fee: o.fee ?? MIN_FEE });

    it('malformed RLP → TX_MALFORMED', async () => {
      await rejected('0xc0', 'TX_MALFORMED', /expected 7 fields, got 0/);
      await rejected('0xdeadbeef', 'TX_MALFORMED', /malformed RLP|canonical/);
      await rejected('0x', 'TX_MALFORMED');
      await rejected(rawHex(transfer({})) + '00', 'TX_MALFORMED');
      await rejected(toHex(rlpEncode([utf8(chainId), uintBytes(0)])), 'TX_MALFORMED', /expected 7 fields, got 2/);
    });

    it('non-canonical RLP (a long-form short string, a padded integer) → TX_MALFORMED', async () => {
      const items = encodedItems(transfer({}));
      const kind = utf8('bank.transfer');
      const longKind = Uint8Array.from([0xb8, kind.length, ...kind]);
      await rejected(toHex(rlpList([...items.slice(0, 4), longKind, ...items.slice(5)])), 'TX_MALFORMED', /canonical/);
      const paddedFee = rlpEncode(Uint8Array.from([0x00, ...uintBytes(MIN_FEE)]));
      await rejected(toHex(rlpList([...items.slice(0, 3), paddedFee, ...items.slice(4)])), 'TX_MALFORMED', /leading zero/);
    });

    it('a bad signature → TX_BAD_SIGNATURE', async () => {
      const tx = transfer({});
      const sig = Uint8Array.from(tx.signature);
      sig[10]! ^= 0x01;
      await rejected(rawHex(new Transaction({ ...tx.unsigned(), signature: sig })), 'TX_BAD_SIGNATURE', /signature does not verify/);
      // Signed by another key than the sender's.
      const forged = Transaction.sign({ chainId, nonce: BigInt(nonce), sender: devKey(5).publicKey, fee: MIN_FEE, kind: 'bank.transfer', payload: tx.payload }, devKey(6));
      await rejected(forged, 'TX_BAD_SIGNATURE');
    });

    it('another chain id → TX_WRONG_CHAIN naming both chains', async () => {
      await rejected(transfer({ chainId: 'some-other-chain' }), 'TX_WRONG_CHAIN', new RegExp(`"some-other-chain".*"${chainId}"`));
    });

    it('a replayed or used nonce → TX_NONCE_TOO_LOW with the account nonce', async () => {
      const e = await rejected(committed.raw, 'TX_NONCE_TOO_LOW', /already used/);
      expect(e.data?.accountNonce).to.equal((await getAccount(rpc, devAddress(1))).nonce);
      const { hash } = await sendTransfer(rpc, { chainId, from: 5, to: 9, amount: 1n, nonce });
      await waitForReceipt(rpc, hash);
      await rejected(transfer({ nonce, amount: 2n }), 'TX_NONCE_TOO_LOW', new RegExp(`next nonce is ${nonce + 1}`));
    });

    it('a nonce too far ahead → TX_NONCE_TOO_HIGH', async () => {
      const e = await rejected(transfer({ nonce: nonce + 1025 }), 'TX_NONCE_TOO_HIGH', /too far ahead/);
      expect(e.data?.accountNonce).to.equal(nonce);
    });

    it('a fee below the minimum → TX_FEE_TOO_LOW', async () => {
      await rejected(transfer({ fee: MIN_FEE - 1n }), 'TX_FEE_TOO_LOW', /fee 999 is below the minimum 1000/);
      await rejected(transfer({ fee: 0n }), 'TX_FEE_TOO_LOW');
    });

    it('not enough NEX for the fee → TX_INSUFFICIENT_FEE_FUNDS (other assets do not count)', async () => {
      const stranger = Ed25519Key.generate();
      await rejected(transfer({ from: stranger, nonce: 0 }), 'TX_INSUFFICIENT_FEE_FUNDS', /NEX balance cannot pay/);
      const { hash } = await sendTransfer(rpc, { chainId, from: 4, to: addressOf(stranger), asset: 'GEN', amount: 10n ** 9n });
      await waitForReceipt(rpc, hash);
      expect((await getAccount(rpc, addressOf(stranger))).balances).to.deep.include({ GEN: '1000000000', NEX: '0' });
      await rejected(transfer({ from: stranger, nonce: 0 }), 'TX_INSUFFICIENT_FEE_FUNDS');
      const nex = BigInt((await getAccount(rpc, devAddress(5))).balances.NEX);
      await rejected(transfer({ fee: nex + 1n }), 'TX_INSUFFICIENT_FEE_FUNDS');
    });

    it('an unknown kind or a bad payload → TX_UNKNOWN_KIND / TX_INVALID_PAYLOAD', async () => {
      const sign = (kind: string, payload: Uint8Array) => Transaction.sign({ chainId, nonce: BigInt(nonce), sender: devKey(5).publicKey, fee: MIN_FEE, kind, payload }, devKey(5));
      await rejected(sign('court.sue', new Uint8Array(0)), 'TX_UNKNOWN_KIND', /"court.sue"/);
      await rejected(sign('bank.mint', new Uint8Array(0)), 'TX_UNKNOWN_KIND', /"bank.mint"/);
      await rejected(sign('bank.transfer', Uint8Array.of(0xc0)), 'TX_INVALID_PAYLOAD', /expected 3 fields/);
      const to = parseAddress(devAddress(9));
      await rejected(sign('bank.transfer', encodeTransfer({ to, asset: 'BTC', amount: 1n })), 'TX_INVALID_PAYLOAD', /unknown asset "BTC"/);
      await rejected(sign('bank.transfer', encodeTransfer({ to, asset: 'NEX', amount: 0n })), 'TX_INVALID_PAYLOAD', /positive/);
    });

    it('a transaction over the size limit → TX_TOO_LARGE', async () => {
      const tx = Transaction.sign({ chainId, nonce: BigInt(nonce), sender: devKey(5).publicKey, fee: MIN_FEE, kind: 'bank.transfer', payload: new Uint8Array(40_000) }, devKey(5));
      await rejected(tx, 'TX_TOO_LARGE', /limit is 32768/);
    });

    it('none of the rejected transactions was committed or used a nonce', async () => {
      await sleep(300);
      expect((await getAccount(rpc, devAddress(5))).nonce).to.equal(nonce);
      expect((await rpc.call<NodeStatusJson>('node_status')).mempool.size).to.equal(0);
    });
  });

  describe('afterwards', () => {
    it('the node still answers, its head keeps advancing, and it logged no errors', async () => {
      expect(node.running).to.equal(true);
      const h = (await rpc.call<HeadJson>('chain_getHead')).height;
      await waitForHeight(rpc, h + 2);
      expect(await rpc.call('node_health')).to.deep.equal({ ok: true });
      // Client mistakes are answered, not logged: no stack traces on stderr, no error-level log lines.
      expect(node.stderr).to.equal('');
      const errors = node.stdout.split('\n').filter((l) => /"level":(50|60)/.test(l));
      expect(errors).to.deep.equal([]);
    });
  });
});

interface OpenRpcMethod {
  name: string;
  summary: string;
  params: { name: string; required: boolean; schema: unknown }[];
  result: { name: string; schema: unknown };
  errors: { code: number; message: string }[];
  examples: { params: unknown; result: unknown }[];
}
