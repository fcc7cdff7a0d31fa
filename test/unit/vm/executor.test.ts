import { expect } from 'chai';
import { concatBytes, fromKey, moduleAddress, ReceiptStatus, toHex, toKey, utf8, type Transaction } from '../../../chain/index.js';
import {
  getNonce,
  HOOK_FAILED_EVENT,
  MODULE_FAULT_CODE,
  ModuleRegistry,
  StateMachine,
  TxError,
  UNKNOWN_KIND_CODE,
  VmError,
  VmErrorCode,
  WorldState,
  type ExecContext,
  type InvalidTxFault,
  type Module,
  type ModuleFault,
  type TxContext,
} from '../../../vm/index.js';
import { BankErrorCode, BankModule, FEE_ASSET, type BankKeeper } from '../../../vm/modules/bank/index.js';
import { balanceKeyOf } from '../../../vm/modules/bank/keys.js';
import { SparseMerkleTree } from '../../../vm/state/smt.js';
import {
  accountKey,
  addressOf,
  blockInfo,
  CHAIN_ID,
  expectThrowsCode,
  genesisVm,
  MIN_FEE,
  signedTx,
  StateMap,
  testGenesis,
  transferTx,
  validatorKey,
  withForeignSignature,
  ZERO_ADDRESS,
  type TestVm,
} from '../fixtures.js';

const alice = accountKey(0);
const bob = accountKey(1);
const poor = accountKey(2); // 1 500 NEX: one fee, not two
const broke = accountKey(3); // nothing at all
const [A, B, P, X] = [alice, bob, poor, broke].map(addressOf) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
const PROPOSER = validatorKey(0).address;

function vm(): TestVm {
  return genesisVm(testGenesis({ balances: [{ GEN: 10_000n, NEX: 100_000n }, { GEN: 10n, NEX: 5_000n }, { NEX: 1_500n }, {}] }));
}

/** Every way a transaction can make a block invalid, with the words the error must use. */
function invalidCases(): { name: string; tx: Transaction; message: RegExp; fault: InvalidTxFault }[] {
  return [
    { name: 'wrong chain id', tx: transferTx(alice, 0n, B, 'GEN', 1n, { chainId: 'other-chain' }), message: /is for chain "other-chain"/, fault: 'chain' },
    { name: 'bad signature', tx: withForeignSignature(transferTx(alice, 0n, B, 'GEN', 1n), bob), message: /invalid signature/, fault: 'signature' },
    { name: 'nonce too high', tx: transferTx(alice, 1n, B, 'GEN', 1n), message: /has nonce 1, account nonce is 0/, fault: 'nonce' },
    { name: 'fee below the minimum', tx: transferTx(alice, 0n, B, 'GEN', 1n, { fee: MIN_FEE - 1n }), message: /cannot pay its fee: fee 999 is below the minimum fee 1000/, fault: 'fee' },
    { name: 'fee larger than the NEX balance', tx: transferTx(poor, 0n, B, 'GEN', 1n, { fee: 1_501n }), message: /cannot pay its fee/, fault: 'fee' },
    { name: 'sender with no balance at all', tx: transferTx(broke, 0n, B, 'GEN', 1n), message: /cannot pay its fee/, fault: 'fee' },
  ];
}

const hashes = (txs: readonly Transaction[]): string[] => txs.map((t) => toHex(t.hash()));

describe('vm/executor', () => {
  describe('execute: transactions that make a block invalid', () => {
    for (const c of invalidCases()) {
      it(`throws VmError InvalidBlock for ${c.name}`, () => {
        const v = vm();
        const ok = transferTx(bob, 0n, A, 'GEN', 1n);
        const err = expectThrowsCode(() => v.sm.execute(v.world, blockInfo(7, PROPOSER), [ok, c.tx]), VmError, VmErrorCode.InvalidBlock);
        expect(err.message).to.match(c.message);
        expect(err.message).to.match(/^block 7: transaction 1 \(0x[0-9a-f]{64}\)/);
        expect(err.context).to.include({ height: 7, index: 1, fault: c.fault });
        expect(err.message).to.contain(String((err.context as { why: string }).why));
      });
    }

    it('a reused nonce is invalid, as is the second of two transactions that cannot both pay', () => {
      const v = vm();
      const r = v.sm.execute(v.world, blockInfo(1, PROPOSER), [transferTx(alice, 0n, B, 'GEN', 1n)]);
      v.world.apply(r.writes, r.tree, 1);
      const reused = transferTx(alice, 0n, B, 'GEN', 2n);
      expect(expectThrowsCode(() => v.sm.execute(v.world, blockInfo(2, PROPOSER), [reused]), VmError, VmErrorCode.InvalidBlock).message).to.match(/has nonce 0, account nonce is 1/);
      const twice = [transferTx(poor, 0n, B, 'GEN', 1n), transferTx(poor, 1n, B, 'GEN', 1n)];
      expectThrowsCode(() => v.sm.execute(v.world, blockInfo(2, PROPOSER), twice), VmError, VmErrorCode.InvalidBlock);
    });

    it('consecutive nonces of one sender in one block are fine', () => {
      const v = vm();
      const txs = [0n, 1n, 2n].map((n) => transferTx(alice, n, B, 'GEN', 10n));
      const r = v.sm.execute(v.world, blockInfo(1, PROPOSER), txs);
      expect(r.receipts.map((x) => x.ok)).to.deep.equal([true, true, true]);
      v.world.apply(r.writes, r.tree, 1);
      expect(getNonce(v.world, A)).to.equal(3n);
    });

    it('isVerified lets execution skip the signature check for transactions already verified', () => {
      const v = vm();
      const forged = withForeignSignature(transferTx(alice, 0n, B, 'GEN', 1n), bob);
      expectThrowsCode(() => v.sm.execute(v.world, blockInfo(1, PROPOSER), [forged], { isVerified: () => false }), VmError, VmErrorCode.InvalidBlock);
      const r = v.sm.execute(v.world, blockInfo(1, PROPOSER), [forged], { isVerified: (tx) => tx === forged });
      expect(r.receipts[0]!.ok).to.equal(true);
    });
  });

  describe('simulate: one transaction on the head state, nothing committed', () => {
    it('gives the receipt execute would give, and leaves the state as it was', () => {
      const v = vm();
      const tx = transferTx(alice, 0n, B, 'GEN', 25n);
      const root = toHex(v.world.root);
      const simulated = v.sm.simulate(v.world, blockInfo(1, PROPOSER), tx, { verifySignature: true });
      expect(toHex(v.world.root), 'nothing written').to.equal(root);
      expect(getNonce(v.world, A)).to.equal(0n);
      const executed = v.sm.execute(v.world, blockInfo(1, PROPOSER), [tx]).receipts[0]!;
      expect(toHex(simulated.serialize())).to.equal(toHex(executed.serialize()));
    });

    it('skips the signature check only when asked, accepts a nonce ahead, refuses one behind, and a failing transaction gets its failed receipt', () => {
      const v = vm();
      const forged = withForeignSignature(transferTx(alice, 0n, B, 'GEN', 1n), bob);
      const e = expectThrowsCode(() => v.sm.simulate(v.world, blockInfo(1, PROPOSER), forged, { verifySignature: true }), VmError, VmErrorCode.InvalidBlock);
      expect(e.context).to.include({ fault: 'signature' });
      expect(v.sm.simulate(v.world, blockInfo(1, PROPOSER), forged, { verifySignature: false }).ok).to.equal(true);
      expect(v.sm.simulate(v.world, blockInfo(1, PROPOSER), transferTx(alice, 4n, B, 'GEN', 1n), { verifySignature: true }).ok).to.equal(true);
      const r = v.sm.execute(v.world, blockInfo(1, PROPOSER), [transferTx(alice, 0n, B, 'GEN', 1n)]);
      v.world.apply(r.writes, r.tree, 1);
      const behind = expectThrowsCode(() => v.sm.simulate(v.world, blockInfo(2, PROPOSER), transferTx(alice, 0n, B, 'GEN', 1n), { verifySignature: true }), VmError, VmErrorCode.InvalidBlock);
      expect(behind.context).to.include({ fault: 'nonce' });
      const overdraft = v.sm.simulate(v.world, blockInfo(2, PROPOSER), transferTx(bob, 0n, A, 'GEN', 12n), { verifySignature: true }); // 10 + the 1 alice sent
      expect(overdraft.status).to.equal(ReceiptStatus.Failed);
      expect(overdraft.errorCode).to.equal(BankErrorCode.InsufficientFunds);
    });
  });

  describe('build', () => {
    it('leaves out every transaction a block may not contain, reports why, and keeps the rest', () => {
      const v = vm();
      const bad = invalidCases();
      // The bad ones are alice's, poor's and broke's; the good ones bob's (5 of his 10 GEN, then 11: an overdraft, then 5).
      const good = [transferTx(bob, 0n, A, 'GEN', 5n), transferTx(bob, 1n, A, 'GEN', 11n), transferTx(bob, 2n, A, 'GEN', 5n)];
      const candidates = [good[0]!, ...bad.slice(0, 3).map((c) => c.tx), good[1]!, ...bad.slice(3).map((c) => c.tx), good[2]!];
      const built = v.sm.build(v.world, blockInfo(1, PROPOSER), candidates);
      expect(hashes(built.included)).to.deep.equal(hashes(good));
      expect(hashes(built.excluded.map((e) => e.tx))).to.deep.equal(hashes(bad.map((c) => c.tx)));
      built.excluded.forEach((e, i) => {
        expect(e.reason).to.be.instanceOf(VmError);
        expect(e.reason.code).to.equal(VmErrorCode.InvalidBlock);
        expect(e.reason.message).to.match(bad[i]!.message);
      });
      // Receipts are for the included transactions only; bob's overdraft fails without being excluded.
      expect(built.receipts.map((r) => [r.status, r.errorCode])).to.deep.equal([
        [ReceiptStatus.Success, ''],
        [ReceiptStatus.Failed, BankErrorCode.InsufficientFunds],
        [ReceiptStatus.Success, ''],
      ]);
      // The proposal executes to exactly what build computed.
      const again = v.sm.execute(v.world, blockInfo(1, PROPOSER), built.included);
      expect(again.stateRoot).to.deep.equal(built.stateRoot);
      expect(again.receipts.map((r) => r.serialize())).to.deep.equal(built.receipts.map((r) => r.serialize()));
    });

    it('excluding a transaction does not shift the nonce of later ones', () => {
      const v = vm();
      const built = v.sm.build(v.world, blockInfo(1, PROPOSER), [transferTx(alice, 1n, B, 'GEN', 1n), transferTx(alice, 0n, B, 'GEN', 1n), transferTx(alice, 1n, B, 'GEN', 2n)]);
      expect(built.included.map((t) => t.nonce)).to.deep.equal([0n, 1n]);
      expect(built.excluded).to.have.length(1);
    });

    it('an empty candidate list builds the empty block: the state root is unchanged', () => {
      const v = vm();
      const built = v.sm.build(v.world, blockInfo(1, PROPOSER), []);
      expect(built.included).to.deep.equal([]);
      expect(built.writes.size).to.equal(0);
      expect(built.stateRoot).to.deep.equal(v.world.root);
    });
  });

  describe('failed transactions', () => {
    for (const kind of ['bank.mint', 'court.file']) {
      it(`an unknown kind (${kind}) is a failed receipt with the fee charged and the nonce used`, () => {
        const v = vm();
        const tx = signedTx(alice, { nonce: 0n, fee: 2_500n, kind, payload: utf8('whatever') });
        const r = v.sm.execute(v.world, blockInfo(1, PROPOSER), [tx]);
        const receipt = r.receipts[0]!;
        expect(receipt.status).to.equal(ReceiptStatus.Failed);
        expect(receipt.errorCode).to.equal(UNKNOWN_KIND_CODE);
        expect(receipt.errorMessage).to.contain(kind);
        expect(receipt.fee).to.equal(2_500n);
        v.world.apply(r.writes, r.tree, 1);
        expect(v.bank.balance(v.world, A, FEE_ASSET)).to.equal(100_000n - 2_500n);
        expect(v.bank.balance(v.world, PROPOSER, FEE_ASSET)).to.equal(2_500n);
        expect(getNonce(v.world, A)).to.equal(1n);
      });
    }

    it('a malformed payload fails the transaction, not the block', () => {
      const v = vm();
      const r = v.sm.execute(v.world, blockInfo(1, PROPOSER), [signedTx(alice, { nonce: 0n, payload: utf8('junk') })]);
      expect(r.receipts[0]!.errorCode).to.equal(BankErrorCode.InvalidPayload);
    });
  });

  describe('modules (with a fake module beside the bank)', () => {
    /** Writes `fake/<n>` then succeeds, throws a TxError, or crashes, as the method says. */
    class FakeModule implements Module {
      readonly name = 'fake';
      readonly methods = ['ok', 'fail', 'crash', 'steal', 'pay', 'list'];
      readonly hooks: string[] = [];
      /** Its bank keeper (an account of its own), handed over as the composition root would. */
      keeper?: BankKeeper;
      /** A height at which the end-block hook writes a bank key itself. */
      stealEndAt = -1;
      /** Heights at which a hook throws (a bug, or a TxError with a code) after writing and emitting. */
      crashBeginAt = -1;
      failEndAt = -1;
      decodePayload(_method: string, payload: Uint8Array): Uint8Array {
        return payload;
      }
      validateGenesis(): void {}
      initGenesis(ctx: ExecContext): void {
        ctx.state.set(utf8('fake/genesis'), utf8('1'));
      }
      beginBlock(ctx: ExecContext): void {
        this.hooks.push(`begin ${ctx.block.height}`);
        ctx.emit({ module: 'fake', type: 'begin', attributes: [] });
        if (ctx.block.height === this.crashBeginAt) {
          ctx.state.set(utf8('fake/begin-crash'), utf8('x'));
          throw new TypeError("Cannot read properties of undefined (reading 'x')");
        }
      }
      endBlock(ctx: ExecContext): void {
        this.hooks.push(`end ${ctx.block.height}`);
        ctx.state.set(utf8('fake/last'), utf8(String(ctx.block.height)));
        if (ctx.block.height === this.failEndAt) throw new TxError('FAKE_END_FAILED', 'asked to fail');
        if (ctx.block.height === this.stealEndAt) ctx.state.setRaw('bank/supply/NEX', new Uint8Array([1]));
      }
      deliverTx(ctx: TxContext, method: string, args: unknown): void {
        const payload = args as Uint8Array;
        this.hooks.push(`tx ${method}`);
        ctx.state.set(concatBytes(utf8('fake/'), payload), utf8(method));
        ctx.emit({ module: 'fake', type: method, attributes: [] });
        if (method === 'fail') throw new TxError('FAKE_FAILED', 'asked to fail');
        if (method === 'crash') throw new RangeError('a bug in the module');
        // Another module's key, written directly (not through its keeper): out of scope.
        if (method === 'steal') ctx.state.setRaw(balanceKeyOf(ctx.tx.fromKey, FEE_ASSET), new Uint8Array([0x83, 1, 0, 0]));
        // The same through the bank's keeper: allowed.
        if (method === 'pay') this.keeper!.transfer(ctx, ctx.sender, this.keeper!.account, FEE_ASSET, 5n);
        // Its own keys in order, the block's writes included.
        if (method === 'list') ctx.emit({ module: 'fake', type: 'keys', attributes: ctx.state.scan('fake/', { limit: 10 }).map(([k, v]) => [k, new TextDecoder().decode(v)]) });
      }
      query(): unknown {
        return undefined;
      }
    }

    function fakeVm(): { sm: StateMachine; world: WorldState; fake: FakeModule; bank: BankModule; faults: ModuleFault[] } {
      const bank = new BankModule();
      const fake = new FakeModule();
      fake.keeper = bank.keeper('fake');
      const faults: ModuleFault[] = [];
      const sm = new StateMachine({ chainId: CHAIN_ID }, { registry: new ModuleRegistry([bank, fake]), fees: bank, onFault: (f) => void faults.push(f) });
      const world = WorldState.fromEntries([], 0, SparseMerkleTree.empty());
      const doc = testGenesis({ balances: [{ NEX: 100_000n }] });
      const g = sm.genesis(world, { chainId: CHAIN_ID, height: 0, timestamp: 0, proposer: ZERO_ADDRESS }, doc.modules);
      world.apply(g.writes, g.tree, 0);
      return { sm, world, fake, bank, faults };
    }

    it('genesis runs every module; hooks run around the transactions in order', () => {
      const { sm, world, fake } = fakeVm();
      expect(world.get(utf8('fake/genesis'))).to.deep.equal(utf8('1'));
      const r = sm.execute(world, blockInfo(3, PROPOSER), [signedTx(alice, { nonce: 0n, kind: 'fake.ok', payload: utf8('a') })]);
      expect(fake.hooks).to.deep.equal(['begin 3', 'tx ok', 'end 3']);
      expect(r.blockEvents.map((e) => e.type)).to.deep.equal(['begin']);
      expect(r.writes.get(toKey(utf8('fake/last')))).to.deep.equal(utf8('3'));
    });

    it('a module success keeps its writes; a TxError or a crash reverts them and keeps the fee', () => {
      const { sm, world } = fakeVm();
      const txs = [
        signedTx(alice, { nonce: 0n, kind: 'fake.ok', payload: utf8('a') }),
        signedTx(alice, { nonce: 1n, kind: 'fake.fail', payload: utf8('b') }),
        signedTx(alice, { nonce: 2n, kind: 'fake.crash', payload: utf8('c') }),
      ];
      const r = sm.execute(world, blockInfo(1, PROPOSER), txs);
      expect(r.receipts.map((x) => [x.status, x.errorCode])).to.deep.equal([
        [ReceiptStatus.Success, ''],
        [ReceiptStatus.Failed, 'FAKE_FAILED'],
        [ReceiptStatus.Failed, MODULE_FAULT_CODE],
      ]);
      // A crash's words are the engine's, not consensus data: the receipt has fixed ones; the node's log gets the error.
      expect(r.receipts[2]!.errorMessage).to.equal("the fake module failed on this transaction (a fault of the module, reported in the node's log)");
      expect(r.receipts[1]!.errorMessage).to.equal('asked to fail');
      // Events of a failed transaction are dropped except the fee.
      expect(r.receipts.map((x) => x.events.map((e) => e.type))).to.deep.equal([['fee', 'ok'], ['fee'], ['fee']]);
      const map = new StateMap();
      map.apply(r.writes);
      expect(map.data.get('fake/a')).to.deep.equal(utf8('ok'));
      expect(map.data.has('fake/b')).to.equal(false);
      expect(map.data.has('fake/c')).to.equal(false);
      world.apply(r.writes, r.tree, 1);
      expect(getNonce(world, A)).to.equal(3n);
    });

    it("a module's reads and writes stay within its prefix: another module's key is a fault, its keeper is the way", () => {
      const { sm, world, faults, bank } = fakeVm();
      const txs = [signedTx(alice, { nonce: 0n, kind: 'fake.steal', payload: utf8('s') }), signedTx(alice, { nonce: 1n, kind: 'fake.pay', payload: utf8('p') })];
      const r = sm.execute(world, blockInfo(1, PROPOSER), txs);
      expect(r.receipts.map((x) => [x.status, x.errorCode])).to.deep.equal([
        [ReceiptStatus.Failed, MODULE_FAULT_CODE],
        [ReceiptStatus.Success, ''],
      ]);
      expect((faults[0]!.error as VmError).code).to.equal(VmErrorCode.OutOfScope);
      expect((faults[0]!.error as Error).message).to.match(/^module fake touched key "bank\/bal\/.*" outside its prefix "fake\/": another module's state is reached through its keeper$/);
      world.apply(r.writes, r.tree, 1);
      expect(bank.balance(world, moduleAddress('fake'), FEE_ASSET)).to.equal(5n);
    });

    it('an end-block hook that writes outside its prefix fails as a hook (vm/hook_failed), and the block goes on', () => {
      const { sm, world, fake } = fakeVm();
      fake.stealEndAt = 1;
      const r = sm.execute(world, blockInfo(1, PROPOSER), []);
      expect(r.blockEvents.slice(1)).to.deep.equal([{ module: 'vm', type: HOOK_FAILED_EVENT, attributes: [['module', 'fake'], ['hook', 'endBlock'], ['code', MODULE_FAULT_CODE]] }]);
      expect(r.writes.has('bank/supply/NEX')).to.equal(false);
      expect(r.writes.has(toKey(utf8('fake/last')))).to.equal(false);
    });

    it("a module scans its keys in order, the block's own writes over the committed ones", () => {
      const { sm, world } = fakeVm();
      const txs = [signedTx(alice, { nonce: 0n, kind: 'fake.ok', payload: utf8('b') }), signedTx(alice, { nonce: 1n, kind: 'fake.list', payload: utf8('a') })];
      const r = sm.execute(world, blockInfo(1, PROPOSER), txs);
      expect(r.receipts[1]!.events.find((e) => e.type === 'keys')!.attributes).to.deep.equal([
        ['fake/a', 'list'],
        ['fake/b', 'ok'],
        ['fake/genesis', '1'],
      ]);
    });

    it('a hook that throws has its writes and events reverted and a hook_failed block event instead; the block goes on', () => {
      const { sm, world, fake, faults } = fakeVm();
      fake.crashBeginAt = 2;
      fake.failEndAt = 2;
      const txs = [signedTx(alice, { nonce: 0n, kind: 'fake.ok', payload: utf8('a') })];
      for (const r of [sm.execute(world, blockInfo(2, PROPOSER), txs), sm.build(world, blockInfo(2, PROPOSER), txs)]) {
        expect(r.receipts.map((x) => x.status)).to.deep.equal([ReceiptStatus.Success]);
        expect(r.blockEvents).to.deep.equal([
          { module: 'vm', type: HOOK_FAILED_EVENT, attributes: [['module', 'fake'], ['hook', 'beginBlock'], ['code', MODULE_FAULT_CODE]] },
          { module: 'vm', type: HOOK_FAILED_EVENT, attributes: [['module', 'fake'], ['hook', 'endBlock'], ['code', 'FAKE_END_FAILED']] },
        ]);
        expect(r.writes.has(toKey(utf8('fake/begin-crash')))).to.equal(false);
        expect(r.writes.has(toKey(utf8('fake/last')))).to.equal(false); // the end-block hook's write went with it
        expect(r.writes.get(toKey(utf8('fake/a')))).to.deep.equal(utf8('ok')); // the transaction's stayed
      }
      expect(faults.map((f) => [f.module, f.where, f.height])).to.deep.equal([
        ['fake', 'beginBlock', 2],
        ['fake', 'endBlock', 2],
        ['fake', 'beginBlock', 2],
        ['fake', 'endBlock', 2],
      ]);
      expect((faults[0]!.error as Error).message).to.match(/Cannot read properties/);
      // The same block gives the same result every time (the fault's text is nowhere in it).
      const again = sm.execute(world, blockInfo(2, PROPOSER), txs);
      expect(again.stateRoot).to.deep.equal(sm.execute(world, blockInfo(2, PROPOSER), txs).stateRoot);
    });
  });

  it('the state root of a result is the root of its tree, and the base world is not mutated', () => {
    const v = vm();
    const rootBefore = v.world.root;
    const sizeBefore = v.world.size;
    const r = v.sm.execute(v.world, blockInfo(1, PROPOSER), [transferTx(alice, 0n, B, 'GEN', 1n)]);
    expect(r.stateRoot).to.deep.equal(r.tree.root);
    expect(r.stateRoot).to.not.deep.equal(rootBefore);
    expect(v.world.root).to.deep.equal(rootBefore);
    expect(v.world.size).to.equal(sizeBefore);
    expect(v.bank.balance(v.world, A, 'GEN')).to.equal(10_000n);
    // Applying the result gives a world whose rebuilt tree has the same root.
    v.world.apply(r.writes, r.tree, 1);
    const map = new StateMap();
    map.apply(v.genesis.writes);
    map.apply(r.writes);
    const rebuilt = WorldState.fromEntries([...map.data].map(([k, val]) => [fromKey(k), val] as const), 1, SparseMerkleTree.empty());
    expect(rebuilt.root).to.deep.equal(v.world.root);
  });

  it('prefetchKeys: each sender\'s nonce and fee balance, and what the bank says a transfer reads; a payload that does not decode adds only the first two', () => {
    const v = vm();
    const ok = transferTx(alice, 0n, B, 'GEN', 5n);
    const bad = signedTx(bob, { nonce: 0n, payload: utf8('not rlp') });
    const keys = v.sm.prefetchKeys([ok, bad]);
    const nonce = (a: Uint8Array): string => toKey(utf8('auth/nonce/')) + toKey(a);
    expect(keys).to.deep.equal([nonce(A), balanceKeyOf(toKey(A), FEE_ASSET), balanceKeyOf(toKey(A), 'GEN'), balanceKeyOf(toKey(B), 'GEN'), nonce(addressOf(bob)), balanceKeyOf(toKey(addressOf(bob)), FEE_ASSET)]);
    // The keys are ones that delivering the transfer reads from the block's base state.
    const read = new Set<string>();
    const base = {
      tree: v.world.tree,
      getRaw: (key: string) => {
        read.add(key);
        return v.world.getRaw(key);
      },
    };
    const result = v.sm.execute(base, blockInfo(1, PROPOSER), [ok]);
    expect(result.receipts[0]!.status).to.equal(ReceiptStatus.Success);
    for (const key of keys.slice(0, 4)) expect(read.has(key), `reads ${JSON.stringify(key)}`).to.equal(true);
  });

  it('a TxError (a failed transaction, an outcome) carries no stack trace; the limit is left as it was', () => {
    const limit = Error.stackTraceLimit;
    const e = new TxError('BANK_INSUFFICIENT_FUNDS', 'insufficient GEN');
    expect(e.stack).to.equal('TxError: insufficient GEN');
    expect([e.code, e.message, e instanceof Error]).to.deep.equal(['BANK_INSUFFICIENT_FUNDS', 'insufficient GEN', true]);
    expect(Error.stackTraceLimit).to.equal(limit);
  });

  it('feeBalance is the NEX balance', () => {
    const v = vm();
    expect(v.bank.feeBalance(v.world, toKey(X))).to.equal(0n);
    expect(v.bank.feeBalance(v.world, toKey(P))).to.equal(v.bank.balance(v.world, P, 'NEX'));
    expect(v.bank.feeBalance(v.world, toKey(P)) >= 1_500n).to.equal(true);
  });
});
