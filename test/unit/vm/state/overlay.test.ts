import { expect } from 'chai';
import fc from 'fast-check';
import { toKey, utf8 } from '../../../../chain/index.js';
import { Overlay, PrefixedStore, type StateReader } from '../../../../vm/state/overlay.js';

function base(entries: Record<string, string>): StateReader {
  const m = new Map(Object.entries(entries).map(([k, v]) => [toKey(utf8(k)), utf8(v)]));
  return { getRaw: (k) => m.get(k) };
}

describe('vm/state/overlay', () => {
  it('reads through to the parent until a key is written or deleted', () => {
    const o = new Overlay(base({ a: '1', b: '2' }));
    expect(o.get(utf8('a'))).to.deep.equal(utf8('1'));
    o.set(utf8('a'), utf8('9'));
    o.delete(utf8('b'));
    o.set(utf8('c'), utf8('3'));
    expect(o.get(utf8('a'))).to.deep.equal(utf8('9'));
    expect(o.get(utf8('b'))).to.equal(undefined);
    expect(o.get(utf8('c'))).to.deep.equal(utf8('3'));
    expect(o.writes.get(toKey(utf8('b')))).to.equal(null);
  });

  it('revertTo undoes the writes since a checkpoint; release keeps them', () => {
    const o = new Overlay(base({ a: '1' }));
    const dropped = o.checkpoint();
    o.set(utf8('a'), utf8('x'));
    o.delete(utf8('a'));
    o.set(utf8('e'), utf8('5'));
    o.revertTo(dropped);
    expect(o.get(utf8('a'))).to.deep.equal(utf8('1'));
    expect(o.get(utf8('e'))).to.equal(undefined);
    expect(o.writes.size).to.equal(0);

    const kept = o.checkpoint();
    o.delete(utf8('a'));
    o.set(utf8('d'), utf8('4'));
    o.release(kept);
    expect(o.get(utf8('a'))).to.equal(undefined);
    expect(o.get(utf8('d'))).to.deep.equal(utf8('4'));
  });

  it('checkpoints nest: an outer revert undoes what an inner one kept', () => {
    const o = new Overlay(base({ a: '1' }));
    o.set(utf8('b'), utf8('2'));
    const outer = o.checkpoint();
    o.set(utf8('a'), utf8('x'));
    const inner = o.checkpoint();
    o.set(utf8('b'), utf8('y'));
    o.set(utf8('c'), utf8('z'));
    o.release(inner);
    expect(o.get(utf8('b'))).to.deep.equal(utf8('y'));
    o.revertTo(outer);
    expect(o.get(utf8('a'))).to.deep.equal(utf8('1'));
    expect(o.get(utf8('b'))).to.deep.equal(utf8('2'));
    expect(o.get(utf8('c'))).to.equal(undefined);
    expect([...o.writes.keys()]).to.deep.equal([toKey(utf8('b'))]);
  });

  it('behaves like a map applied in order, with transactions kept or reverted (property)', () => {
    const op = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.option(fc.constantFrom('1', '2', '3'), { nil: undefined }), fc.constantFrom('none', 'keep', 'revert'));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const model = new Map<string, string>([['a', '0']]);
        const o = new Overlay(base({ a: '0' }));
        let mark = o.checkpoint();
        let pending = new Map(model);
        for (const [k, v, end] of ops) {
          if (v === undefined) {
            o.delete(utf8(k));
            pending.delete(k);
          } else {
            o.set(utf8(k), utf8(v));
            pending.set(k, v);
          }
          if (end === 'none') continue;
          if (end === 'keep') {
            o.release(mark);
            model.clear();
            for (const [pk, pv] of pending) model.set(pk, pv);
          } else o.revertTo(mark);
          mark = o.checkpoint();
          pending = new Map(model);
        }
        o.revertTo(mark);
        for (const key of ['a', 'b', 'c', 'd']) {
          const want = model.get(key);
          expect(o.get(utf8(key))).to.deep.equal(want === undefined ? undefined : utf8(want));
        }
      }),
    );
  });

  it('PrefixedStore keeps a module inside its prefix', () => {
    const o = new Overlay(base({}));
    const p = new PrefixedStore(o, utf8('bank/'));
    p.set(utf8('x'), utf8('1'));
    expect(o.get(utf8('bank/x'))).to.deep.equal(utf8('1'));
    expect(o.get(utf8('x'))).to.equal(undefined);
    expect(p.get(utf8('x'))).to.deep.equal(utf8('1'));
    p.delete(utf8('x'));
    expect(o.get(utf8('bank/x'))).to.equal(undefined);
  });
});
