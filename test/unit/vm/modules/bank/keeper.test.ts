import { expect } from 'chai';
import fc from 'fast-check';
import { addressFromPublicKey, equalBytes, formatAddress, moduleAddress, type Event } from '../../../../../chain/index.js';
import { Overlay, TxError, type ExecContext } from '../../../../../vm/index.js';
import { ASSETS, BankErrorCode, BankModule, type Asset } from '../../../../../vm/modules/bank/index.js';
import { accountKey, addressOf, blockInfo, genesisVm, StateMap, testGenesis, validatorKey, type TestVm } from '../../../fixtures.js';

const KEYS = [accountKey(0), accountKey(1)];
const [A, B] = KEYS.map(addressOf) as [Uint8Array, Uint8Array];

function setup(): { v: TestVm; map: StateMap; ctx: ExecContext; events: Event[]; state: Overlay } {
  const v = genesisVm(testGenesis({ balances: [{ GEN: 1_000n, NEX: 10_000n }, { GEN: 5n, NEX: 2_000n }] }));
  const map = new StateMap();
  map.apply(v.genesis.writes);
  const state = new Overlay(v.world);
  const events: Event[] = [];
  return { v, map, state, events, ctx: { block: blockInfo(1, validatorKey(0).address), state, emit: (e) => events.push(e) } };
}

describe('vm/modules/bank keepers', () => {
  it('a module account is derived from the module name, under a tag no key derives', () => {
    const a = moduleAddress('staking');
    expect(a.length).to.equal(20);
    expect(equalBytes(a, moduleAddress('staking'))).to.equal(true);
    expect(equalBytes(a, moduleAddress('court'))).to.equal(false);
    // The same 32 bytes as a public key give another address: the tags differ.
    expect(equalBytes(moduleAddress('x'.repeat(32)), addressFromPublicKey(new TextEncoder().encode('x'.repeat(32))))).to.equal(false);
  });

  it('mints into and burns from the module account, moving the supply with it, each with an event', () => {
    const { v, ctx, events, state } = setup();
    const k = v.bank.keeper('minter', ['mint', 'burn']);
    const before = v.bank.supply(state, 'GEN');
    k.mint(ctx, 'GEN', 500n);
    expect(k.balance(state, k.account, 'GEN')).to.equal(500n);
    expect(k.supply(state, 'GEN')).to.equal(before + 500n);
    k.burn(ctx, 'GEN', 200n);
    expect(k.balance(state, k.account, 'GEN')).to.equal(300n);
    expect(k.supply(state, 'GEN')).to.equal(before + 300n);
    k.mint(ctx, 'GEN', 0n); // nothing, and no event
    expect(events.map((e) => [e.type, ...e.attributes.map(([, x]) => x)])).to.deep.equal([
      ['mint', 'minter', formatAddress(k.account), 'GEN', '500'],
      ['burn', 'minter', formatAddress(k.account), 'GEN', '200'],
    ]);
    const err = (() => {
      try {
        k.burn(ctx, 'GEN', 301n);
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(TxError);
    expect((err as TxError).code).to.equal(BankErrorCode.InsufficientFunds);
    expect(k.balance(state, k.account, 'GEN')).to.equal(300n);
  });

  it('escrow: funds move from an account into the module account and back', () => {
    const { v, ctx, state } = setup();
    const k = v.bank.keeper('escrow');
    k.transfer(ctx, A, k.account, 'NEX', 4_000n);
    expect(k.balance(state, A, 'NEX')).to.equal(6_000n);
    k.transfer(ctx, k.account, B, 'NEX', 1_500n);
    expect(k.balance(state, k.account, 'NEX')).to.equal(2_500n);
    expect(k.balance(state, B, 'NEX')).to.equal(3_500n);
    expect(() => k.transfer(ctx, k.account, B, 'NEX', 2_501n)).to.throw(TxError, /insufficient NEX/);
  });

  it('without the permission a keeper cannot mint or burn (a module bug, not a user error); one keeper per module', () => {
    const { v, ctx } = setup();
    const k = v.bank.keeper('plain');
    expect(() => k.mint(ctx, 'GEN', 1n)).to.throw(/no mint permission/);
    expect(() => k.burn(ctx, 'GEN', 1n)).to.throw(/no burn permission/);
    expect(() => v.bank.keeper('plain')).to.throw(/already has a keeper/);
    expect((v.bank.query({ state: v.world, height: 0 }, 'module_accounts', undefined) as unknown[]).at(-1)).to.deep.equal({ module: 'plain', address: formatAddress(moduleAddress('plain')), permissions: [] });
    // Those the composition made, each with what its module may do:
    expect((v.bank.query({ state: v.world, height: 0 }, 'module_accounts', undefined) as { module: string; permissions: string[] }[]).map((a) => [a.module, a.permissions.join('+')])).to.deep.equal([
      ['fee_collector', ''],
      ['staking', 'mint+burn'],
      ['staking_unbonding', 'burn'],
      ['treasury', ''],
      ['docklock', 'burn'],
      ['enc', 'mint+burn'],
      ['court', 'burn'],
      ['plain', ''],
    ]);
  });

  it('property: after any sequence of mints, burns and transfers, every asset\'s balances add up to its supply', () => {
    const holder = fc.constantFrom(0, 1, 2);
    const asset = fc.constantFrom(...ASSETS);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('mint' as const), asset, amount: fc.bigInt(0n, 10_000n) }),
      fc.record({ kind: fc.constant('burn' as const), asset, amount: fc.bigInt(0n, 10_000n) }),
      fc.record({ kind: fc.constant('transfer' as const), asset, amount: fc.bigInt(1n, 10_000n), from: holder, to: holder }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { v, map, ctx, state } = setup();
        const bank: BankModule = v.bank;
        const k = bank.keeper('pool', ['mint', 'burn']);
        const who = [A, B, k.account];
        for (const o of ops) {
          const mark = state.checkpoint();
          try {
            if (o.kind === 'mint') k.mint(ctx, o.asset, o.amount);
            else if (o.kind === 'burn') k.burn(ctx, o.asset, o.amount);
            else k.transfer(ctx, who[o.from]!, who[o.to]!, o.asset, o.amount);
            state.release(mark);
          } catch (e) {
            expect(e).to.be.instanceOf(TxError); // only a shortfall may refuse, and it changes nothing
            state.revertTo(mark);
          }
        }
        const after = map.clone();
        after.apply(state.writes);
        for (const a of ASSETS as readonly Asset[]) expect(after.total(a)).to.equal(bank.supply(state, a));
      }),
      { numRuns: 200 },
    );
  });
});
