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

  it('a dropped child leaves the parent untouched; a merged child moves its writes up', () => {
    const parent = new Overlay(base({ a: '1' }));
    const dropped = parent.child();
    dropped.set(utf8('a'), utf8('x'));
    dropped.delete(utf8('a'));
    expect(parent.get(utf8('a'))).to.deep.equal(utf8('1'));
    expect(parent.writes.size).to.equal(0);

    const kept = parent.child();
    kept.delete(utf8('a'));
    kept.set(utf8('d'), utf8('4'));
    expect(kept.get(utf8('a'))).to.equal(undefined);
    kept.mergeInto(parent);
    expect(kept.writes.size).to.equal(0);
    expect(parent.get(utf8('a'))).to.equal(undefined);
    expect(parent.get(utf8('d'))).to.deep.equal(utf8('4'));
  });

  it('behaves like a map applied in order (property)', () => {
    const op = fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.option(fc.constantFrom('1', '2', '3'), { nil: undefined }), fc.boolean());
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const model = new Map<string, string>([['a', '0']]);
        const parent = new Overlay(base({ a: '0' }));
        let child = parent.child();
        let pending = new Map(model);
        for (const [k, v, commit] of ops) {
          if (v === undefined) {
            child.delete(utf8(k));
            pending.delete(k);
          } else {
            child.set(utf8(k), utf8(v));
            pending.set(k, v);
          }
          if (commit) {
            child.mergeInto(parent);
            for (const key of ['a', 'b', 'c', 'd']) {
              if (pending.has(key)) model.set(key, pending.get(key)!);
              else model.delete(key);
            }
            child = parent.child();
            pending = new Map(model);
          }
        }
        for (const key of ['a', 'b', 'c', 'd']) {
          const want = model.get(key);
          expect(parent.get(utf8(key))).to.deep.equal(want === undefined ? undefined : utf8(want));
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
