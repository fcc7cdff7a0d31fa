import { expect } from 'chai';
import fc from 'fast-check';
import { ReceiptStatus, rlpEncode, toHex, toKey, utf8, type Transaction } from '../../../../../chain/index.js';
import { getNonce, nonceKey, VmErrorCode, type WorldState } from '../../../../../vm/index.js';
import { ASSETS, BankErrorCode, decodeTransfer, encodeTransfer, FEE_ASSET, TRANSFER_KIND, type Asset } from '../../../../../vm/modules/bank/index.js';
import { balanceKey, supplyKey } from '../../../../../vm/modules/bank/keys.js';
import {
  accountKey,
  addressOf,
  blockInfo,
  CHAIN_ID,
  genesisVm,
  MIN_FEE,
  signedTx,
  StateMap,
  testGenesis,
  transferTx,
  validatorKey,
  withForeignSignature,
  type Balances,
  type TestVm,
} from '../../../fixtures.js';

// Four accounts from rich to empty, so that random transfers overdraw, drain and fail to pay fees.
const GENESIS_BALANCES: Balances[] = [
  { GEN: 1_000_000n, NEX: 1_000_000n, FLX: 50_000n, AUR: 100n },
  { GEN: 5_000n, NEX: 20_000n, AUR: 1n },
  { GEN: 100n, NEX: 2_500n, FLX: 10n },
  {},
];
const KEYS = GENESIS_BALANCES.map((_, i) => accountKey(i));
const VALIDATOR = validatorKey(0);
/** Accounts, then the validator (a fee recipient with no genesis balance). */
const ADDRESSES = [...KEYS.map(addressOf), VALIDATOR.address];
const OTHER_SIGNER = accountKey(99);

function freshVm(): TestVm {
  return genesisVm(testGenesis({ balances: GENESIS_BALANCES, validators: [VALIDATOR] }));
}

function genesisSupply(asset: string): bigint {
  return GENESIS_BALANCES.reduce((s, b) => s + (b[asset as Asset] ?? 0n), 0n);
}

// ---- A reference model of the bank and the executor's admission rules ----

type Outcome = { excluded: true } | { excluded: false; status: ReceiptStatus; errorCode: string };

class Model {
  readonly balances = new Map<string, bigint>();
  readonly nonces = new Map<string, bigint>();

  static genesis(): Model {
    const m = new Model();
    GENESIS_BALANCES.forEach((b, i) => {
      for (const a of ASSETS) if (b[a]) m.balances.set(m.k(ADDRESSES[i]!, a), b[a]!);
    });
    return m;
  }

  private k(addr: Uint8Array, asset: string): string {
    return toKey(addr) + '/' + asset;
  }

  balance(addr: Uint8Array, asset: string): bigint {
    return this.balances.get(this.k(addr, asset)) ?? 0n;
  }

  nonce(addr: Uint8Array): bigint {
    return this.nonces.get(toKey(addr)) ?? 0n;
  }

  private add(addr: Uint8Array, asset: string, delta: bigint): void {
    const v = this.balance(addr, asset) + delta;
    if (v < 0n) throw new Error('model bug: negative balance');
    if (v === 0n) this.balances.delete(this.k(addr, asset));
    else this.balances.set(this.k(addr, asset), v);
  }

  /** What the executor must do with `tx` in a block proposed by `proposer`; updates the model. */
  deliver(tx: Transaction, proposer: Uint8Array, validSignature: boolean): Outcome {
    const from = tx.from();
    if (tx.chainId !== CHAIN_ID || !validSignature || tx.nonce !== this.nonce(from)) return { excluded: true };
    if (tx.fee < MIN_FEE || this.balance(from, FEE_ASSET) < tx.fee) return { excluded: true };
    this.add(from, FEE_ASSET, -tx.fee);
    this.add(proposer, FEE_ASSET, tx.fee);
    this.nonces.set(toKey(from), tx.nonce + 1n);
    if (tx.kind !== TRANSFER_KIND) return { excluded: false, status: ReceiptStatus.Failed, errorCode: VmErrorCode.UnknownTxKind };
    let args;
    try {
      args = decodeTransfer(tx.payload);
    } catch {
      return { excluded: false, status: ReceiptStatus.Failed, errorCode: BankErrorCode.InvalidPayload };
    }
    if (!(ASSETS as readonly string[]).includes(args.asset)) return { excluded: false, status: ReceiptStatus.Failed, errorCode: BankErrorCode.UnknownAsset };
    if (args.amount === 0n) return { excluded: false, status: ReceiptStatus.Failed, errorCode: BankErrorCode.ZeroAmount };
    if (this.balance(from, args.asset) < args.amount) return { excluded: false, status: ReceiptStatus.Failed, errorCode: BankErrorCode.InsufficientFunds };
    this.add(from, args.asset, -args.amount);
    this.add(args.to, args.asset, args.amount);
    return { excluded: false, status: ReceiptStatus.Success, errorCode: '' };
  }
}

// ---- Random transactions ----

type AmountSpec = { kind: 'zero' } | { kind: 'all' } | { kind: 'over' } | { kind: 'abs'; value: bigint };
type Fault = 'none' | 'wrongChain' | 'badSignature' | 'nonceLow' | 'nonceHigh';
type Shape = 'transfer' | 'badPayload' | 'unknownKind';

interface Intent {
  sender: number;
  recipient: number;
  asset: string;
  amount: AmountSpec;
  fee: bigint;
  fault: Fault;
  shape: Shape;
}

const amountArb: fc.Arbitrary<AmountSpec> = fc.oneof(
  { arbitrary: fc.constant<AmountSpec>({ kind: 'zero' }), weight: 1 },
  { arbitrary: fc.constant<AmountSpec>({ kind: 'all' }), weight: 2 },
  { arbitrary: fc.constant<AmountSpec>({ kind: 'over' }), weight: 2 },
  { arbitrary: fc.bigInt({ min: 1n, max: 30_000n }).map((value): AmountSpec => ({ kind: 'abs', value })), weight: 6 },
);

const intentArb: fc.Arbitrary<Intent> = fc.record({
  sender: fc.nat({ max: KEYS.length - 1 }),
  recipient: fc.nat({ max: ADDRESSES.length - 1 }),
  asset: fc.oneof({ arbitrary: fc.constantFrom(...ASSETS), weight: 10 }, { arbitrary: fc.constantFrom('XYZ', 'nex', ''), weight: 1 }),
  amount: amountArb,
  fee: fc.oneof(
    { arbitrary: fc.constant(MIN_FEE), weight: 6 },
    { arbitrary: fc.bigInt({ min: MIN_FEE, max: 5_000n }), weight: 3 },
    { arbitrary: fc.constantFrom(0n, MIN_FEE - 1n), weight: 1 },
  ),
  fault: fc.oneof(
    { arbitrary: fc.constant<Fault>('none'), weight: 16 },
    { arbitrary: fc.constantFrom<Fault>('wrongChain', 'badSignature', 'nonceLow', 'nonceHigh'), weight: 1 },
  ),
  shape: fc.oneof({ arbitrary: fc.constant<Shape>('transfer'), weight: 20 }, { arbitrary: fc.constantFrom<Shape>('badPayload', 'unknownKind'), weight: 1 }),
});

const blockArb = fc.record({ proposer: fc.nat({ max: ADDRESSES.length - 1 }), intents: fc.array(intentArb, { maxLength: 8 }) });

/** Turns an intent into a signed transaction against the model's current balances and nonces. */
function makeTx(model: Model, it: Intent): { tx: Transaction; validSignature: boolean } {
  const key = KEYS[it.sender]!;
  const from = ADDRESSES[it.sender]!;
  const bal = model.balance(from, it.asset);
  const amount = it.amount.kind === 'zero' ? 0n : it.amount.kind === 'all' ? bal : it.amount.kind === 'over' ? bal + 1n : it.amount.value;
  let nonce = model.nonce(from);
  if (it.fault === 'nonceHigh' || (it.fault === 'nonceLow' && nonce === 0n)) nonce += 1n;
  else if (it.fault === 'nonceLow') nonce -= 1n;
  const payload =
    it.shape === 'badPayload' ? rlpEncode([ADDRESSES[it.recipient]!, utf8(it.asset)]) : encodeTransfer({ to: ADDRESSES[it.recipient]!, asset: it.asset, amount });
  const kind = it.shape === 'unknownKind' ? 'bank.mint' : TRANSFER_KIND;
  const chainId = it.fault === 'wrongChain' ? 'another-chain' : CHAIN_ID;
  const tx = signedTx(key, { nonce, fee: it.fee, kind, payload, chainId });
  if (it.fault === 'badSignature') return { tx: withForeignSignature(tx, OTHER_SIGNER), validSignature: false };
  return { tx, validSignature: true };
}

/** The transactions of a random block that a block may contain, in order (the model follows them). */
function validTxs(model: Model, b: { proposer: number; intents: Intent[] }): Transaction[] {
  const out: Transaction[] = [];
  for (const it of b.intents) {
    const { tx, validSignature } = makeTx(model, it);
    if (!model.deliver(tx, ADDRESSES[b.proposer]!, validSignature).excluded) out.push(tx);
  }
  return out;
}

const hashes = (txs: readonly Transaction[]): string[] => txs.map((t) => toHex(t.hash()));

// ---- Checks on the whole state ----

/** The StateMap and the WorldState hold the same entries (so the map is a faithful view). */
function expectSameState(world: WorldState, map: StateMap): void {
  expect(world.size).to.equal(map.data.size);
  for (const [k, v] of map.data) expect(world.getRaw(k), `key ${JSON.stringify(k)}`).to.deep.equal(v);
}

function expectInvariants(vm: TestVm, map: StateMap, model: Model): void {
  expectSameState(vm.world, map);
  for (const a of ASSETS) {
    // Conservation, with balances summed straight from the stored keys.
    expect(map.total(a), `total ${a}`).to.equal(genesisSupply(a));
    expect(vm.bank.supply(vm.world, a), `supply record ${a}`).to.equal(genesisSupply(a));
  }
  const stored = map.balances();
  for (const b of stored) {
    expect(ASSETS as readonly string[], 'balance of an unknown asset').to.include(b.asset);
    // Zero is stored as absence: every stored balance is strictly positive.
    expect(b.amount > 0n, `stored balance ${b.amount}`).to.equal(true);
  }
  // Every balance, and nothing else, is where the model says.
  expect(stored.length).to.equal(model.balances.size);
  for (const addr of ADDRESSES) {
    for (const a of ASSETS) expect(vm.bank.balance(vm.world, addr, a), `balance ${a}`).to.equal(model.balance(addr, a));
    expect(getNonce(vm.world, addr)).to.equal(model.nonce(addr));
  }
}

function expectSameResult(a: { stateRoot: Uint8Array; receipts: { serialize(): Uint8Array }[]; writes: Map<string, Uint8Array | null> }, b: typeof a): void {
  expect(a.stateRoot).to.deep.equal(b.stateRoot);
  expect(a.receipts.map((r) => r.serialize())).to.deep.equal(b.receipts.map((r) => r.serialize()));
  expect([...a.writes].sort(([x], [y]) => (x < y ? -1 : 1))).to.deep.equal([...b.writes].sort(([x], [y]) => (x < y ? -1 : 1)));
}

describe('vm/modules/bank', () => {
  describe('genesis', () => {
    it('writes balances, supplies, decimals and the minimum fee', () => {
      const vm = freshVm();
      const map = new StateMap();
      map.apply(vm.genesis.writes);
      for (const a of ASSETS) {
        expect(vm.bank.supply(vm.world, a)).to.equal(genesisSupply(a));
        expect(map.total(a)).to.equal(genesisSupply(a));
      }
      expect(vm.bank.balance(vm.world, ADDRESSES[0]!, 'GEN')).to.equal(1_000_000n);
      expect(vm.bank.balance(vm.world, ADDRESSES[1]!, 'FLX')).to.equal(0n);
      expect(vm.world.get(balanceKey(ADDRESSES[1]!, 'FLX')), 'a zero balance is not stored').to.equal(undefined);
      expect(vm.bank.decimals(vm.world, 'AUR')).to.equal(2);
      expect(vm.bank.decimals(vm.world, 'NEX')).to.equal(6);
      expect(vm.bank.minFee(vm.world)).to.equal(MIN_FEE);
      expect(vm.bank.query({ state: vm.world, height: 0 }, 'params', {})).to.deep.equal({ minFee: '1000', feeAsset: 'NEX' });
      expect(vm.bank.query({ state: vm.world, height: 0 }, 'balances', { address: ADDRESSES[2] })).to.deep.equal({ GEN: '100', NEX: '2500', FLX: '10', AUR: '0' });
    });

    it('the genesis state root depends only on the genesis document', () => {
      expect(freshVm().world.root).to.deep.equal(freshVm().world.root);
      const other = genesisVm(testGenesis({ balances: [{ GEN: 1n }], validators: [VALIDATOR] }));
      expect(other.world.root).to.not.deep.equal(freshVm().world.root);
    });
  });

  describe('transfer payload', () => {
    it('round-trips and is described for people', () => {
      const args = { to: ADDRESSES[1]!, asset: 'FLX', amount: 123_456_789n };
      expect(decodeTransfer(encodeTransfer(args))).to.deep.equal(args);
      expect(freshVm().bank.describePayload('transfer', encodeTransfer(args))).to.deep.include({ asset: 'FLX', amount: '123456789' });
      expect(freshVm().bank.describePayload('transfer', utf8('junk'))).to.equal(undefined);
    });

    it('decodePayload refuses malformed payloads, unknown assets and zero amounts', () => {
      const bank = freshVm().bank;
      const cases: [Uint8Array, string][] = [
        [utf8('junk'), BankErrorCode.InvalidPayload],
        [rlpEncode([ADDRESSES[1]!, utf8('GEN')]), BankErrorCode.InvalidPayload],
        [rlpEncode([ADDRESSES[1]!.subarray(1), utf8('GEN'), Uint8Array.of(1)]), BankErrorCode.InvalidPayload],
        [rlpEncode([ADDRESSES[1]!, utf8('GEN'), Uint8Array.of(0, 1)]), BankErrorCode.InvalidPayload],
        [encodeTransfer({ to: ADDRESSES[1]!, asset: 'DOGE', amount: 1n }), BankErrorCode.UnknownAsset],
        [encodeTransfer({ to: ADDRESSES[1]!, asset: 'gen', amount: 1n }), BankErrorCode.UnknownAsset],
        [encodeTransfer({ to: ADDRESSES[1]!, asset: 'GEN', amount: 0n }), BankErrorCode.ZeroAmount],
      ];
      for (const [payload, code] of cases) {
        expect(() => bank.decodePayload('transfer', payload), code).to.throw().with.property('code', code);
      }
      expect(() => bank.decodePayload('mint', encodeTransfer({ to: ADDRESSES[1]!, asset: 'GEN', amount: 1n }))).to.throw().with.property('code', BankErrorCode.InvalidPayload);
      expect(() => bank.decodePayload('transfer', encodeTransfer({ to: ADDRESSES[1]!, asset: 'GEN', amount: 1n }))).to.not.throw();
    });

    it('decodePayload shares one array per recipient, not a view of each payload', () => {
      const bank = freshVm().bank;
      const first = encodeTransfer({ to: ADDRESSES[2]!, asset: 'NEX', amount: 5n });
      const a = bank.decodePayload('transfer', first);
      const b = bank.decodePayload('transfer', encodeTransfer({ to: ADDRESSES[2]!, asset: 'NEX', amount: 6n }));
      expect(b.to).to.equal(a.to);
      expect(a.to.buffer).to.not.equal(first.buffer);
      expect(toHex(a.to)).to.equal(toHex(ADDRESSES[2]!));
      expect(a.toKey).to.equal(toKey(ADDRESSES[2]!));
      expect([a.asset, b.amount]).to.deep.equal(['NEX', 6n]);
      first.fill(0); // the payload's bytes may be reused; the decoded recipient stays
      expect(toHex(a.to)).to.equal(toHex(ADDRESSES[2]!));
    });
  });

  describe('fees and transfers (examples)', () => {
    it('a transfer moves the amount and the fee goes to the proposer', () => {
      const vm = freshVm();
      const tx = transferTx(KEYS[0]!, 0n, ADDRESSES[1]!, 'GEN', 700n, { fee: 1_500n });
      const r = vm.sm.execute(vm.world, blockInfo(1, VALIDATOR.address), [tx]);
      vm.world.apply(r.writes, r.tree, 1);
      expect(r.receipts[0]!.ok).to.equal(true);
      expect(r.receipts[0]!.fee).to.equal(1_500n);
      expect(r.receipts[0]!.events.map((e) => e.type)).to.deep.equal(['fee', 'transfer']);
      expect(vm.bank.balance(vm.world, ADDRESSES[0]!, 'GEN')).to.equal(1_000_000n - 700n);
      expect(vm.bank.balance(vm.world, ADDRESSES[1]!, 'GEN')).to.equal(5_700n);
      expect(vm.bank.balance(vm.world, ADDRESSES[0]!, 'NEX')).to.equal(1_000_000n - 1_500n);
      expect(vm.bank.balance(vm.world, VALIDATOR.address, 'NEX')).to.equal(1_500n);
      expect(getNonce(vm.world, ADDRESSES[0]!)).to.equal(1n);
    });

    it('draining an account deletes its balance record; sending to oneself or paying oneself changes nothing', () => {
      const vm = freshVm();
      const txs = [
        transferTx(KEYS[2]!, 0n, ADDRESSES[0]!, 'GEN', 100n),
        transferTx(KEYS[0]!, 0n, ADDRESSES[0]!, 'FLX', 50_000n),
      ];
      const r = vm.sm.execute(vm.world, blockInfo(1, ADDRESSES[0]!), txs);
      vm.world.apply(r.writes, r.tree, 1);
      expect(r.receipts.map((x) => x.ok)).to.deep.equal([true, true]);
      expect(r.writes.get(toKey(balanceKey(ADDRESSES[2]!, 'GEN')))).to.equal(null);
      expect(vm.bank.balance(vm.world, ADDRESSES[0]!, 'FLX')).to.equal(50_000n);
      // Account 0 proposed: it received account 2's fee and paid its own fee to itself.
      expect(vm.bank.balance(vm.world, ADDRESSES[0]!, 'NEX')).to.equal(1_000_000n + MIN_FEE);
    });

    it('the supply record is not touched by transfers', () => {
      const vm = freshVm();
      const r = vm.sm.execute(vm.world, blockInfo(1, VALIDATOR.address), [transferTx(KEYS[0]!, 0n, ADDRESSES[3]!, 'NEX', 5n)]);
      for (const a of ASSETS) expect(r.writes.has(toKey(supplyKey(a)))).to.equal(false);
    });
  });

  describe('properties', () => {
    it('random blocks of transfers conserve every supply, never go negative, and match the reference model', () => {
      fc.assert(
        fc.property(fc.array(blockArb, { minLength: 1, maxLength: 5 }), (blocks) => {
          const vm = freshVm();
          const map = new StateMap();
          map.apply(vm.genesis.writes);
          const model = Model.genesis();
          expectInvariants(vm, map, model);
          blocks.forEach((b, bi) => {
            const height = bi + 1;
            const proposer = ADDRESSES[b.proposer]!;
            const candidates: Transaction[] = [];
            const outcomes: Outcome[] = [];
            for (const it of b.intents) {
              const { tx, validSignature } = makeTx(model, it);
              candidates.push(tx);
              outcomes.push(model.deliver(tx, proposer, validSignature));
            }
            const info = blockInfo(height, proposer);
            const built = vm.sm.build(vm.world, info, candidates);

            const wantIncluded = candidates.filter((_, i) => !outcomes[i]!.excluded);
            expect(hashes(built.included)).to.deep.equal(hashes(wantIncluded));
            expect(hashes(built.excluded.map((e) => e.tx))).to.deep.equal(hashes(candidates.filter((_, i) => outcomes[i]!.excluded)));
            for (const e of built.excluded) expect(e.reason.code).to.equal(VmErrorCode.InvalidBlock);
            const wantReceipts = outcomes.filter((o): o is Exclude<Outcome, { excluded: true }> => !o.excluded);
            expect(built.receipts.map((r) => [r.status, r.errorCode])).to.deep.equal(wantReceipts.map((o) => [o.status, o.errorCode]));
            built.receipts.forEach((r, i) => {
              expect(r.txHash).to.deep.equal(wantIncluded[i]!.hash());
              expect(r.fee).to.equal(wantIncluded[i]!.fee);
            });

            // Determinism: executing the included transactions, twice, gives what build gave.
            const again = vm.sm.execute(vm.world, info, built.included);
            const third = vm.sm.execute(vm.world, info, built.included);
            expectSameResult(again, built);
            expectSameResult(third, again);

            vm.world.apply(built.writes, built.tree, height);
            map.apply(built.writes);
            expectInvariants(vm, map, model);
          });
        }),
        { numRuns: 60 },
      );
    });

    const failingArb = fc.record({
      history: fc.array(blockArb, { maxLength: 3 }),
      sender: fc.nat({ max: 2 }), // accounts that can pay a fee
      proposer: fc.nat({ max: ADDRESSES.length - 1 }),
      recipient: fc.nat({ max: ADDRESSES.length - 1 }),
      asset: fc.constantFrom(...ASSETS),
      fee: fc.bigInt({ min: MIN_FEE, max: 2_000n }),
      failure: fc.constantFrom('overdraft', 'zeroAmount', 'unknownAsset', 'badPayload', 'unknownKind'),
    });

    it('a failed transaction changes nothing but the fee and the nonce', () => {
      fc.assert(
        fc.property(failingArb, (c) => {
          const vm = freshVm();
          const map = new StateMap();
          map.apply(vm.genesis.writes);
          const model = Model.genesis();
          c.history.forEach((b, bi) => {
            const txs = validTxs(model, b);
            const r = vm.sm.execute(vm.world, blockInfo(bi + 1, ADDRESSES[b.proposer]!), txs);
            vm.world.apply(r.writes, r.tree, bi + 1);
            map.apply(r.writes);
          });
          const height = c.history.length + 1;
          const key = KEYS[c.sender]!;
          const from = ADDRESSES[c.sender]!;
          const proposer = ADDRESSES[c.proposer]!;
          const nexBefore = vm.bank.balance(vm.world, from, FEE_ASSET);
          fc.pre(nexBefore >= c.fee);
          const to = ADDRESSES[c.recipient]!;
          const nonce = getNonce(vm.world, from);
          // The fee is charged first; a proposer paying its own fee keeps it.
          const feeLeaves = c.asset === FEE_ASSET && toKey(from) !== toKey(proposer);
          const spendable = vm.bank.balance(vm.world, from, c.asset) - (feeLeaves ? c.fee : 0n);
          const [tx, code] = {
            overdraft: () => [transferTx(key, nonce, to, c.asset, spendable + 1n, { fee: c.fee }), BankErrorCode.InsufficientFunds] as const,
            zeroAmount: () => [transferTx(key, nonce, to, c.asset, 0n, { fee: c.fee }), BankErrorCode.ZeroAmount] as const,
            unknownAsset: () => [transferTx(key, nonce, to, 'ZZZ', 1n, { fee: c.fee }), BankErrorCode.UnknownAsset] as const,
            badPayload: () => [signedTx(key, { nonce, fee: c.fee, payload: utf8('not rlp') }), BankErrorCode.InvalidPayload] as const,
            unknownKind: () => [signedTx(key, { nonce, fee: c.fee, kind: 'court.file', payload: encodeTransfer({ to, asset: 'GEN', amount: 1n }) }), VmErrorCode.UnknownTxKind] as const,
          }[c.failure]();

          const before = map.clone();
          const proposerNexBefore = vm.bank.balance(vm.world, proposer, FEE_ASSET);
          const r = vm.sm.execute(vm.world, blockInfo(height, proposer), [tx]);
          const receipt = r.receipts[0]!;
          expect(receipt.status).to.equal(ReceiptStatus.Failed);
          expect(receipt.errorCode).to.equal(code);
          expect(receipt.errorMessage).to.not.equal('');
          expect(receipt.fee).to.equal(c.fee);
          expect(receipt.events.map((e) => `${e.module}/${e.type}`)).to.deep.equal(['bank/fee']);

          vm.world.apply(r.writes, r.tree, height);
          map.apply(r.writes);
          const allowed = new Set([toKey(nonceKey(from)), toKey(balanceKey(from, FEE_ASSET)), toKey(balanceKey(proposer, FEE_ASSET))]);
          const keys = new Set([...before.data.keys(), ...map.data.keys()]);
          for (const k of keys) {
            if (allowed.has(k)) continue;
            expect(map.data.get(k), `key ${JSON.stringify(k)} changed`).to.deep.equal(before.data.get(k));
          }
          expect([...r.writes.keys()].every((k) => allowed.has(k)), 'writes outside fee and nonce').to.equal(true);
          expect(getNonce(vm.world, from)).to.equal(nonce + 1n);
          if (toKey(from) === toKey(proposer)) {
            expect(vm.bank.balance(vm.world, from, FEE_ASSET)).to.equal(nexBefore);
          } else {
            expect(vm.bank.balance(vm.world, from, FEE_ASSET)).to.equal(nexBefore - c.fee);
            expect(vm.bank.balance(vm.world, proposer, FEE_ASSET)).to.equal(proposerNexBefore + c.fee);
          }
          for (const a of ASSETS) expect(map.total(a)).to.equal(genesisSupply(a));
        }),
        { numRuns: 60 },
      );
    });

    it('executing the same block twice from the same base gives the same root, receipts and writes', () => {
      fc.assert(
        fc.property(blockArb, (b) => {
          const vm = freshVm();
          const model = Model.genesis();
          const txs = validTxs(model, b);
          const info = blockInfo(1, ADDRESSES[b.proposer]!);
          const one = vm.sm.execute(vm.world, info, txs);
          const two = vm.sm.execute(vm.world, info, txs);
          expect(one.receipts).to.have.length(txs.length);
          expectSameResult(one, two);
          expect(one.tree.root).to.deep.equal(one.stateRoot);
          // The base was not mutated by executing on it.
          expect(vm.world.root).to.deep.equal(freshVm().world.root);
        }),
        { numRuns: 40 },
      );
    });
  });

});
