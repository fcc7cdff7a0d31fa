import { expect } from 'chai';
import { toKey, utf8 } from '../../../../chain/index.js';
import { WorldState } from '../../../../vm/state/world.js';
import { SparseMerkleTree } from '../../../../vm/state/smt.js';
import { rng } from './disk.js';

describe('vm/state/world', () => {
  it('fromEntries builds the tree of its entries', () => {
    const entries = [[utf8('a'), utf8('1')], [utf8('b'), utf8('2')]] as const;
    const w = WorldState.fromEntries(entries, 5, SparseMerkleTree.empty());
    expect(w.height).to.equal(5);
    expect(w.size).to.equal(2);
    expect(w.root).to.deep.equal(SparseMerkleTree.empty().update(entries).root);
    expect(w.get(utf8('a'))).to.deep.equal(utf8('1'));
    expect(w.getRaw(toKey(utf8('b')))).to.deep.equal(utf8('2'));
  });

  it('apply writes and deletes keys and takes the new tree and height', () => {
    const w = WorldState.fromEntries([[utf8('a'), utf8('1')]], 0, SparseMerkleTree.empty());
    const writes = new Map<string, Uint8Array | null>([
      [toKey(utf8('a')), null],
      [toKey(utf8('c')), utf8('3')],
    ]);
    const tree = w.tree.update([[utf8('a'), undefined], [utf8('c'), utf8('3')]]);
    w.apply(writes, tree, 1);
    expect(w.get(utf8('a'))).to.equal(undefined);
    expect(w.get(utf8('c'))).to.deep.equal(utf8('3'));
    expect(w.size).to.equal(1);
    expect(w.height).to.equal(1);
    expect(w.root).to.deep.equal(WorldState.fromEntries([[utf8('c'), utf8('3')]], 1, SparseMerkleTree.empty()).root);
  });
});

describe('vm/state/world history', () => {

  it('at(h) reads every key as it was at each kept height, and nothing older', () => {
    const rand = rng(7);
    const keys = Array.from({ length: 12 }, (_, i) => toKey(utf8(`k${i}`)));
    const w = WorldState.fromEntries([[utf8('k0'), utf8('genesis')]], 0, SparseMerkleTree.empty());
    w.history = 5;
    const snapshots = new Map<number, Map<string, Uint8Array | undefined>>();
    const snap = () => new Map(keys.map((k) => [k, w.getRaw(k)] as const));
    snapshots.set(0, snap());
    for (let h = 1; h <= 30; h++) {
      const writes = new Map<string, Uint8Array | null>();
      for (const k of keys) {
        const r = rand();
        if (r < 0.3) writes.set(k, utf8(`${k}@${h}`));
        else if (r < 0.4) writes.set(k, null);
      }
      w.apply(writes, w.tree, h);
      snapshots.set(h, snap());
      expect(w.oldestReadable).to.equal(Math.max(0, h - 5));
      for (let at = 0; at <= h; at++) {
        const reader = w.at(at);
        if (at < h - 5) {
          expect(reader, `height ${at} at head ${h}`).to.equal(undefined);
          continue;
        }
        for (const k of keys) expect(reader!.getRaw(k), `${k} at ${at}, head ${h}`).to.deep.equal(snapshots.get(at)!.get(k));
      }
      expect(w.at(h + 1)).to.equal(undefined);
    }
  });

  it('keeps nothing with history 0, and a smaller history drops the oldest heights at once', () => {
    const w = WorldState.fromEntries([], 0, SparseMerkleTree.empty());
    w.apply(new Map([[toKey(utf8('a')), utf8('1')]]), w.tree, 1);
    expect(w.at(0)).to.equal(undefined);
    expect(w.at(1)).to.equal(w);
    w.history = 3;
    for (let h = 2; h <= 5; h++) w.apply(new Map([[toKey(utf8('a')), utf8(String(h))]]), w.tree, h);
    expect(w.at(2)!.getRaw(toKey(utf8('a')))).to.deep.equal(utf8('2'));
    w.history = 1;
    expect(w.at(2)).to.equal(undefined);
    expect(w.at(4)!.getRaw(toKey(utf8('a')))).to.deep.equal(utf8('4'));
    expect(() => (w.history = -1)).to.throw(RangeError);
  });
});
