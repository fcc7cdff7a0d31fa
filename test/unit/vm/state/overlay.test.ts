import { expect } from 'chai';
import fc from 'fast-check';
import { fromKey, toKey, utf8 } from '../../../../chain/index.js';
import { VmError, VmErrorCode } from '../../../../vm/errors.js';
import { Overlay, PrefixedStore, type StateReader } from '../../../../vm/state/overlay.js';
import { SparseMerkleTree } from '../../../../vm/state/smt.js';
import { WorldState } from '../../../../vm/state/world.js';
import { rng } from './disk.js';

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

describe('vm/state scans by prefix', () => {
  const naive = (m: Map<string, Uint8Array>, prefix: string, after: string | undefined, limit: number) =>
    [...m.entries()].filter(([k]) => k.startsWith(prefix) && (after === undefined || k > after)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit);

  it('WorldState, an Overlay over it (with checkpoints and reverts) and a recent height each scan as a sorted map would', () => {
    const rand = rng(11);
    const names = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 'p/' : i % 3 === 1 ? 'q/' : 'p/x') + String.fromCharCode(0x20 + Math.floor(rand() * 200)) + i);
    const world = WorldState.fromEntries(names.slice(0, 10).map((k) => [fromKey(k), utf8(k)] as const), 0, SparseMerkleTree.empty());
    world.history = 4;
    const truth = new Map<string, Uint8Array>(names.slice(0, 10).map((k) => [k, utf8(k)] as const));
    const past = new Map<number, Map<string, Uint8Array>>([[0, new Map(truth)]]);
    for (let h = 1; h <= 12; h++) {
      const o = new Overlay(world);
      const expected = new Map(truth);
      for (let step = 0; step < 30; step++) {
        const k = names[Math.floor(rand() * names.length)]!;
        const r = rand();
        if (r < 0.15) {
          // A checkpoint whose writes are reverted: the scan must not see them afterwards.
          const mark = o.checkpoint();
          o.setRaw(k, utf8('reverted'));
          o.setRaw(names[(step * 7) % names.length]!, null);
          o.revertTo(mark);
        } else if (r < 0.45) {
          o.setRaw(k, null);
          expected.delete(k);
        } else {
          o.setRaw(k, utf8(`${k}@${h}.${step}`));
          expected.set(k, utf8(`${k}@${h}.${step}`));
        }
        for (const prefix of ['p/', 'q/', 'p/x', '']) {
          const after = rand() < 0.5 ? undefined : names[Math.floor(rand() * names.length)];
          const limit = 1 + Math.floor(rand() * 12);
          expect(o.scan(prefix, { limit, ...(after !== undefined ? { after } : {}) }), `overlay ${prefix} after ${after} limit ${limit}`).to.deep.equal(naive(expected, prefix, after, limit));
        }
      }
      world.apply(o.writes, world.tree, h);
      truth.clear();
      for (const [k, v] of expected) truth.set(k, v);
      past.set(h, new Map(truth));
      for (const prefix of ['p/', 'q/']) expect(world.scan(prefix, { limit: 100 })).to.deep.equal(naive(truth, prefix, undefined, 100));
      for (let at = Math.max(0, h - 4); at <= h; at++) {
        for (const prefix of ['p/', 'q/', 'p/x']) {
          const after = rand() < 0.5 ? undefined : names[Math.floor(rand() * names.length)];
          const limit = 1 + Math.floor(rand() * 15);
          expect(world.at(at)!.scan(prefix, { limit, ...(after !== undefined ? { after } : {}) }), `height ${at} of ${h}, ${prefix}`).to.deep.equal(naive(past.get(at)!, prefix, after, limit));
        }
      }
    }
  });

  it('a scan needs a limit, and an Overlay over a reader without key order cannot scan', () => {
    const world = WorldState.fromEntries([], 0, SparseMerkleTree.empty());
    expect(() => world.scan('a', { limit: -1 })).to.throw(RangeError);
    expect(() => new Overlay(base({})).scan('a', { limit: 1 })).to.throw(/cannot be scanned/);
  });

  it('within a module, reads, writes and scans outside its prefix throw VM_OUT_OF_SCOPE; nesting restores the outer scope', () => {
    const o = new Overlay(WorldState.fromEntries([], 0, SparseMerkleTree.empty()));
    o.within('m', () => {
      o.setRaw('m/a', utf8('1'));
      expect(() => o.getRaw('n/a')).to.throw(VmError).with.property('code', VmErrorCode.OutOfScope);
      expect(() => o.setRaw('n/a', utf8('1'))).to.throw(/module m touched key "n\/a" outside its prefix "m\/"/);
      expect(() => o.scan('', { limit: 1 })).to.throw(VmError);
      o.within('n', () => o.setRaw('n/a', utf8('2')));
      expect(() => o.getRaw('n/a')).to.throw(VmError);
    });
    expect(o.getRaw('n/a')).to.deep.equal(utf8('2'));
  });
});
