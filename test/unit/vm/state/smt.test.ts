import { expect } from 'chai';
import fc from 'fast-check';
import { HashTag, taggedHash, toHex, toKey, utf8, verifyStateProof } from '../../../../chain/index.js';
import { SparseMerkleTree } from '../../../../vm/state/smt.js';

type Entry = readonly [Uint8Array, Uint8Array | undefined];

const ZERO = new Uint8Array(32);
const leaf = (key: Uint8Array, value: Uint8Array): Uint8Array =>
  taggedHash(HashTag.StateLeaf, taggedHash(HashTag.StateKey, key), taggedHash(HashTag.StateValue, value));
const node = (l: Uint8Array, r: Uint8Array): Uint8Array => taggedHash(HashTag.StateNode, l, r);

/** The layout written out naively, straight from the tags: the model the tree must match. */
function referenceRoot(state: Map<string, [Uint8Array, Uint8Array]>): Uint8Array {
  const leaves = [...state.values()].map(([k, v]) => ({ path: taggedHash(HashTag.StateKey, k), hash: leaf(k, v) }));
  const bit = (p: Uint8Array, i: number): number => (p[i >> 3]! >> (7 - (i % 8))) & 1;
  const rec = (ls: typeof leaves, depth: number): Uint8Array => {
    if (ls.length === 0) return ZERO;
    if (ls.length === 1) return ls[0]!.hash;
    return node(rec(ls.filter((l) => bit(l.path, depth) === 0), depth + 1), rec(ls.filter((l) => bit(l.path, depth) === 1), depth + 1));
  };
  return rec(leaves, 0);
}

/** Applies entries to a plain Map in order: what the tree's content should be afterwards. */
function applyToModel(state: Map<string, [Uint8Array, Uint8Array]>, entries: Iterable<Entry>): void {
  for (const [k, v] of entries) {
    if (v === undefined) state.delete(toKey(k));
    else state.set(toKey(k), [k, v]);
  }
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

const keyArb = fc.uint8Array({ maxLength: 3 }); // a small key space, so keys repeat
const valueArb = fc.uint8Array({ maxLength: 6 });
const entryArb = fc.tuple(keyArb, fc.option(valueArb, { nil: undefined }));

const numKey = (i: number): Uint8Array => utf8(`key-${i}`);
const numValue = (i: number): Uint8Array => utf8(`value-${i}`);

describe('vm/state/smt', () => {
  const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(utf8) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const [v100, v250, v7, vEmpty] = [utf8('100'), utf8('250'), utf8('7'), new Uint8Array()];

  describe('golden vectors', () => {
    it('the empty tree has the all-zero root', () => {
      const t = SparseMerkleTree.empty();
      expect(toHex(t.root)).to.equal('0x' + '00'.repeat(32));
      expect(t.size).to.equal(0);
    });

    it('a one-key tree has that leaf as its root', () => {
      const t = SparseMerkleTree.empty().update([[alice, v100]]);
      expect(t.root).to.deep.equal(leaf(alice, v100));
      expect(toHex(t.root)).to.equal('0xe252afdff782212f5f629575f4e68f1d6c5c873dffc005961cdb944f110f05d3');
    });

    it('a four-key tree matches the hand-built shape and the frozen root', () => {
      // Paths (bits MSB-first): alice 0100 1…, bob 0100 0…, dave 0101…, carol 1…
      const t = SparseMerkleTree.empty().update([[alice, v100]]).update([[bob, v250], [carol, v7], [dave, vEmpty]]);
      const d4 = node(leaf(bob, v250), leaf(alice, v100));
      const d3 = node(d4, leaf(dave, vEmpty));
      const expected = node(node(ZERO, node(d3, ZERO)), leaf(carol, v7));
      expect(t.root).to.deep.equal(expected);
      expect(toHex(t.root)).to.equal('0xec9b67889780846dbb10df9cb98464a5882b9544a960ae65a63d3727feb5b8b7');
      expect(t.size).to.equal(4);
    });
  });

  describe('updates', () => {
    it('matches the reference model for any sequence of batches', () => {
      fc.assert(
        fc.property(fc.array(entryArb, { maxLength: 60 }), fc.integer({ min: 1, max: 20 }), (entries, batch) => {
          const model = new Map<string, [Uint8Array, Uint8Array]>();
          let t = SparseMerkleTree.empty();
          for (const b of chunks(entries, batch)) {
            t = t.update(b);
            applyToModel(model, b);
            expect(t.root).to.deep.equal(referenceRoot(model));
            expect(t.size).to.equal(model.size);
          }
          for (const [k, v] of model.values()) expect(t.get(k)).to.deep.equal(v);
        }),
      );
    });

    it('gives the same root for the same set, whatever the order and batching', () => {
      const arb = fc
        .uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([k]) => toHex(k), maxLength: 40 })
        .chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length }), fc.integer({ min: 1, max: 10 })));
      fc.assert(
        fc.property(arb, ([entries, shuffled, batch]) => {
          const once = SparseMerkleTree.empty().update(entries);
          const inPieces = chunks(shuffled, batch).reduce((t, b) => t.update(b), SparseMerkleTree.empty());
          expect(inPieces.root).to.deep.equal(once.root);
        }),
      );
    });

    it('returns to the exact previous root after inserting then deleting keys', () => {
      const arb = fc.uniqueArray(fc.tuple(keyArb, valueArb), { selector: ([k]) => toHex(k), maxLength: 40 });
      fc.assert(
        fc.property(arb, fc.nat(), (entries, cut) => {
          const split = entries.length === 0 ? 0 : cut % entries.length;
          const base = SparseMerkleTree.empty().update(entries.slice(0, split));
          const added = base.update(entries.slice(split));
          const removed = added.update(entries.slice(split).map(([k]) => [k, undefined] as const));
          expect(removed.root).to.deep.equal(base.root);
          expect(removed.size).to.equal(split);
          const cleared = removed.update(entries.slice(0, split).map(([k]) => [k, undefined] as const));
          expect(cleared.root).to.deep.equal(ZERO);
        }),
      );
    });

    it('leaves old versions untouched', () => {
      const v1 = SparseMerkleTree.empty().update([[alice, v100], [bob, v250]]);
      const root1 = v1.root;
      const proof1 = v1.prove(alice);
      const v2 = v1.update([[alice, v7], [carol, v7], [bob, undefined]]);
      expect(v2.root).to.not.deep.equal(root1);
      expect(v1.root).to.deep.equal(root1);
      expect(v1.size).to.equal(2);
      expect(v1.get(alice)).to.deep.equal(v100);
      expect(v1.get(bob)).to.deep.equal(v250);
      expect(v1.get(carol)).to.equal(undefined);
      expect(v1.prove(alice)).to.deep.equal(proof1);
      expect(v2.get(alice)).to.deep.equal(v7);
      expect(v2.get(bob)).to.equal(undefined);
    });

    it('lets the last duplicate of a key in a batch win', () => {
      const t = SparseMerkleTree.empty().update([[alice, v100], [bob, v250], [alice, undefined], [bob, v7], [bob, v100]]);
      expect(t.root).to.deep.equal(SparseMerkleTree.empty().update([[bob, v100]]).root);
      expect(t.get(alice)).to.equal(undefined);
    });

    it('does not rebuild anything for no-op changes', () => {
      const t = SparseMerkleTree.empty().update([[alice, v100], [bob, v250], [carol, v7]]);
      const same = t.update([[alice, v100], [dave, undefined]]);
      expect(same.root).to.deep.equal(t.root);
      // One value hashed (paths are cached, not counted); the old leaf is kept, so nothing is rebuilt.
      expect(same.updateStats).to.deep.equal({ changes: 2, hashes: 1 });
    });

    it('copies values, so mutating the caller’s bytes changes nothing', () => {
      const value = utf8('mutable');
      const t = SparseMerkleTree.empty().update([[alice, value]]);
      value[0] = 0;
      expect(t.get(alice)).to.deep.equal(utf8('mutable'));
      // A Buffer too (LevelDB's and the network's bytes), whose slice() is a view, not a copy.
      const buf = Buffer.from('mutable');
      const u = SparseMerkleTree.empty().update([[alice, buf]]);
      buf[0] = 0;
      expect(Buffer.from(u.get(alice)!).toString()).to.equal('mutable');
    });

    it('hashes less as one batch than as the same changes one at a time', () => {
      const base = SparseMerkleTree.empty().update(Array.from({ length: 2000 }, (_, i) => [numKey(i), numValue(i)] as const));
      const changes = Array.from({ length: 500 }, (_, i) => [numKey(i * 7), utf8(`new-${i}`)] as const);
      const batched = base.update(changes);
      let oneByOne = base;
      let hashes = 0;
      for (const c of changes) {
        oneByOne = oneByOne.update([c]);
        hashes += oneByOne.updateStats.hashes;
      }
      expect(batched.root).to.deep.equal(oneByOne.root);
      expect(batched.updateStats.changes).to.equal(500);
      expect(batched.updateStats.hashes).to.be.lessThan(hashes * 0.75);
    });
  });

  describe('a tree of 10,000 keys', () => {
    const n = 10_000;
    const tree = SparseMerkleTree.empty().update(Array.from({ length: n }, (_, i) => [numKey(i), numValue(i)] as const));

    it('holds every key and proves each of them', () => {
      expect(tree.size).to.equal(n);
      const root = tree.root;
      for (let i = 0; i < n; i++) {
        expect(tree.get(numKey(i))).to.deep.equal(numValue(i));
        expect(verifyStateProof(root, numKey(i), numValue(i), tree.prove(numKey(i)))).to.equal(true);
      }
    });

    it('proves absent keys absent', () => {
      const root = tree.root;
      let viaLeaf = 0;
      for (let i = n; i < n + 1000; i++) {
        const proof = tree.prove(numKey(i));
        if (proof.leafPath) viaLeaf++;
        expect(verifyStateProof(root, numKey(i), undefined, proof)).to.equal(true);
      }
      expect(viaLeaf).to.be.greaterThan(0).and.lessThan(1000);
    });

    it('empties back to the zero root', () => {
      const empty = tree.update(Array.from({ length: n }, (_, i) => [numKey(i), undefined] as const));
      expect(empty.root).to.deep.equal(ZERO);
      expect(empty.size).to.equal(0);
    });
  });
});
