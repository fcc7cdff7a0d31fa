import { expect } from 'chai';
import { moduleAddress, type Event } from '../../../chain/index.js';
import { Overlay, ParamSpace, ParamsErrorCode, TxError, VmError, VmErrorCode, WorldState, type ExecContext } from '../../../vm/index.js';
import { SparseMerkleTree } from '../../../vm/state/smt.js';
import { blockInfo, expectThrowsCode, validatorKey } from '../fixtures.js';

/** A window and a threshold inside it: the relation a partial change could break. */
const space = () =>
  new ParamSpace({
    module: 'demo',
    fields: {
      window: { description: 'blocks in the window', min: 1n, max: 10_000n },
      minSigned: { description: 'blocks of the window that must be signed', min: 0n, max: 10_000n },
    },
    defaults: { window: 100n, minSigned: 50n },
    check: (p) => (p.minSigned > p.window ? `minSigned (${p.minSigned}) must not exceed window (${p.window})` : undefined),
  });

function ctx(): { ctx: ExecContext; events: Event[]; state: Overlay } {
  const state = new Overlay(WorldState.fromEntries([], 0, SparseMerkleTree.empty()));
  const events: Event[] = [];
  return { state, events, ctx: { block: blockInfo(1, validatorKey(0).address), state, emit: (e) => events.push(e) } };
}

describe('vm/params ParamSpace', () => {
  const court = moduleAddress('court');

  it('reads the defaults before genesis, the genesis values after, from the module\'s own key', () => {
    const p = space();
    const { ctx: c, state } = ctx();
    expect(p.get(state)).to.deep.equal({ window: 100n, minSigned: 50n });
    p.init(c, { window: 200n });
    expect(p.key).to.equal('demo/params');
    expect(state.getRaw('demo/params')).to.not.equal(undefined);
    expect(p.get(state)).to.deep.equal({ window: 200n, minSigned: 50n });
    expect(p.get(state)).to.equal(p.get(state)); // decoded once per stored value
    expect(p.toJson(p.get(state))).to.deep.equal({ minSigned: '50', window: '200' });
  });

  it('a genesis set that is invalid as a whole is VM_INVALID_GENESIS with the reason', () => {
    const { ctx: c } = ctx();
    const e = expectThrowsCode(() => space().init(c, { window: 10n }), VmError, VmErrorCode.InvalidGenesis);
    expect(e.message).to.equal('modules.demo: minSigned (50) must not exceed window (10)');
  });

  it('only the authority (the court module account) changes it; a change that leaves an invalid set changes nothing', () => {
    const p = space();
    const { ctx: c, state, events } = ctx();
    p.init(c, {});
    const stranger = validatorKey(1).address;
    expect(() => p.update(c, stranger, { window: 300n })).to.throw(TxError).with.property('code', ParamsErrorCode.Unauthorized);
    // A partial change that breaks the relation with a field it does not name: refused whole.
    const e = (() => {
      try {
        p.update(c, court, { window: 40n });
      } catch (x) {
        return x as TxError;
      }
    })()!;
    expect(e.code).to.equal(ParamsErrorCode.Invalid);
    expect(e.message).to.equal('the parameters of demo were not changed: minSigned (50) must not exceed window (40)');
    expect(() => p.update(c, court, { window: 0n })).to.throw(TxError, /window must be within 1…10000/);
    expect(() => p.update(c, court, { colour: 1n })).to.throw(TxError, /demo has no parameter "colour" \(it has minSigned, window\)/);
    expect(p.get(state)).to.deep.equal({ window: 100n, minSigned: 50n });
    expect(events).to.deep.equal([]);
    // Both at once is valid: applied, with an event naming each change.
    p.update(c, court, { window: 40n, minSigned: 20n });
    expect(p.get(state)).to.deep.equal({ window: 40n, minSigned: 20n });
    expect(events).to.deep.equal([{ module: 'demo', type: 'params_changed', attributes: [['minSigned', '50 -> 20'], ['window', '100 -> 40']] }]);
  });

  it('invalid defaults are refused when the space is made (a bug in the module)', () => {
    expect(() => new ParamSpace({ module: 'x', fields: { a: { description: 'a', min: 1n, max: 2n } }, defaults: { a: 3n } })).to.throw(/default parameters of x are invalid: a must be within 1…2/);
  });
});
