import { expect } from 'chai';
import { toKey, utf8 } from '../../../../chain/index.js';
import { WorldState } from '../../../../vm/state/world.js';
import { SparseMerkleTree } from '../../../../vm/state/smt.js';

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
