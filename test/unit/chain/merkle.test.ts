import { expect } from 'chai';
import { EMPTY_MERKLE_ROOT, HashTag, merkleLeaf, merkleProof, merkleRoot, taggedHash, utf8, verifyMerkleProof, type MerkleProof } from '../../../chain/index.js';
import { flipBit, hex } from './fixtures.js';

function items(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => utf8(`item-${i}`));
}

const node = (l: Uint8Array, r: Uint8Array): Uint8Array => taggedHash(HashTag.MerkleNode, l, r);

/** Left/right turns from the root down to leaf `index` of an RFC 6962-shaped tree of `total` leaves. */
function path(index: number, total: number): string {
  let out = '';
  let lo = 0;
  let hi = total;
  while (hi - lo > 1) {
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    if (index < lo + k) {
      out += 'L';
      hi = lo + k;
    } else {
      out += 'R';
      lo += k;
    }
  }
  return out;
}

describe('chain/merkle', () => {
  describe('golden roots', () => {
    const frozen: Record<number, string> = {
      0: '66fe99629b9688c2cc062b7b3dbd987ff13bde20adeb0d19f5ce9bd7b2b60396',
      1: 'fa7197386c44097cb141cfab7997e29a6b7376f91132f40ac07cf8f7cce495aa',
      2: 'fda9ee77cfa2eb04cff47615e72ef1ba700a07a410cd091862a438b589791266',
      3: '2ce1c66d5a7298d1c72964499de4fa583cb37868be9740f6ed59490d6739e8c2',
      5: '6fc3c13f648f50044ebfb7406d5fc12ad092417f1fba4b1c9626689b4d5da18d',
      8: '0306ac1605670a23b3e55dc94816492dad808e126532edb1d8037bd4a94146b7',
    };
    for (const [n, root] of Object.entries(frozen)) {
      it(`${n} items`, () => {
        expect(hex(merkleRoot(items(Number(n))))).to.equal(root);
      });
    }

    it('has the RFC 6962 shape, with leaves and nodes under separate tags', () => {
      const l = items(5).map(merkleLeaf);
      expect(hex(EMPTY_MERKLE_ROOT)).to.equal(hex(taggedHash(HashTag.MerkleEmpty)));
      expect(hex(merkleRoot([]))).to.equal(hex(EMPTY_MERKLE_ROOT));
      expect(hex(l[0]!)).to.equal(hex(taggedHash(HashTag.MerkleLeaf, utf8('item-0'))));
      expect(hex(merkleRoot(items(1)))).to.equal(hex(l[0]!));
      expect(hex(merkleRoot(items(2)))).to.equal(hex(node(l[0]!, l[1]!)));
      expect(hex(merkleRoot(items(3)))).to.equal(hex(node(node(l[0]!, l[1]!), l[2]!)));
      expect(hex(merkleRoot(items(5)))).to.equal(hex(node(node(node(l[0]!, l[1]!), node(l[2]!, l[3]!)), l[4]!)));
    });

    it('a one-item list is not the same tree as its leaf hash taken as an item', () => {
      const [a] = items(1);
      expect(hex(merkleRoot([merkleLeaf(a!)]))).to.not.equal(hex(merkleRoot([a!])));
    });

    it('an inner node cannot pass as a two-item list of its children', () => {
      const l = items(2).map(merkleLeaf);
      expect(hex(merkleRoot(l))).to.not.equal(hex(node(l[0]!, l[1]!)));
    });
  });

  describe('proofs, for every index of lists of 1..17 items', () => {
    for (let n = 1; n <= 17; n++) {
      it(`n = ${n}`, () => {
        const list = items(n);
        const root = merkleRoot(list);
        for (let i = 0; i < n; i++) {
          const proof = merkleProof(list, i);
          const at = `index ${i} of ${n}`;
          expect(proof.total).to.equal(n);
          expect(proof.siblings).to.have.length(path(i, n).length);
          expect(verifyMerkleProof(root, list[i]!, proof), at).to.equal(true);

          // Tampered item.
          expect(verifyMerkleProof(root, flipBit(list[i]!, 0), proof), `${at}: item`).to.equal(false);
          if (n > 1) expect(verifyMerkleProof(root, list[(i + 1) % n]!, proof), `${at}: other item`).to.equal(false);
          // Tampered sibling, any bit of any sibling's first byte and last byte.
          proof.siblings.forEach((s, j) => {
            for (const bit of [0, 7, 255]) {
              const siblings = proof.siblings.map((x, k) => (k === j ? flipBit(s, bit) : x));
              expect(verifyMerkleProof(root, list[i]!, { ...proof, siblings }), `${at}: sibling ${j} bit ${bit}`).to.equal(false);
            }
          });
          // A sibling dropped, added or reordered.
          if (proof.siblings.length > 0) expect(verifyMerkleProof(root, list[i]!, { ...proof, siblings: proof.siblings.slice(1) }), `${at}: dropped`).to.equal(false);
          expect(verifyMerkleProof(root, list[i]!, { ...proof, siblings: [...proof.siblings, root] }), `${at}: extra`).to.equal(false);
          if (proof.siblings.length > 1) {
            expect(verifyMerkleProof(root, list[i]!, { ...proof, siblings: [...proof.siblings].reverse() }), `${at}: reversed`).to.equal(false);
          }
          // Tampered index: every other index of the same list.
          for (let j = 0; j < n; j++) {
            if (j !== i) expect(verifyMerkleProof(root, list[i]!, { ...proof, index: j }), `${at}: as index ${j}`).to.equal(false);
          }
          // Tampered total: fails unless the leaf's path in a tree of that size is the same turn for turn.
          for (let t = 1; t <= 40; t++) {
            if (t === n) continue;
            const expected = i < t && path(i, t) === path(i, n);
            expect(verifyMerkleProof(root, list[i]!, { ...proof, total: t }), `${at}: as total ${t}`).to.equal(expected);
          }
          // Another root.
          expect(verifyMerkleProof(merkleRoot(items(n + 1)), list[i]!, proof), `${at}: root`).to.equal(false);
        }
      });
    }

    it('a tampered total that changes the path fails, e.g. index 0 of 5 as total 9 or 4', () => {
      const list = items(5);
      const root = merkleRoot(list);
      const proof = merkleProof(list, 0);
      expect(verifyMerkleProof(root, list[0]!, proof)).to.equal(true);
      expect(verifyMerkleProof(root, list[0]!, { ...proof, total: 9 })).to.equal(false);
      expect(verifyMerkleProof(root, list[0]!, { ...proof, total: 4 })).to.equal(false);
    });

    it('documents a limit: the root does not commit to the item count, so a proof can also verify under another (index, total)', () => {
      // Callers must take `total` (and so the index) from a trusted source, not from the proof.
      const list = items(3);
      const root = merkleRoot(list);
      const proof = merkleProof(list, 2);
      expect(verifyMerkleProof(root, list[2]!, { index: 1, total: 2, siblings: proof.siblings })).to.equal(true);
      // Likewise (index 0 of 5) verifies as (index 0 of 6): both paths are left, left, left.
      const five = items(5);
      expect(verifyMerkleProof(merkleRoot(five), five[0]!, { ...merkleProof(five, 0), total: 6 })).to.equal(true);
    });

    it('refuses malformed proofs without throwing', () => {
      const list = items(4);
      const root = merkleRoot(list);
      const good = merkleProof(list, 1);
      const bad: MerkleProof[] = [
        { ...good, index: -1 },
        { ...good, index: 4 },
        { ...good, index: 1.5 },
        { ...good, total: 0 },
        { ...good, total: 1 },
        { ...good, total: Number.NaN },
        { ...good, siblings: [] },
      ];
      for (const p of bad) expect(verifyMerkleProof(root, list[1]!, p), JSON.stringify({ index: p.index, total: p.total })).to.equal(false);
    });

    it('merkleProof refuses an index out of range', () => {
      expect(() => merkleProof(items(3), 3)).to.throw(RangeError);
      expect(() => merkleProof(items(3), -1)).to.throw(RangeError);
      expect(() => merkleProof([], 0)).to.throw(RangeError);
    });
  });
});

describe('chain/merkle: the bottom-up root equals the RFC 6962 definition', () => {
  // The definition, written out recursively: the left subtree holds the largest power of two below n.
  const mth = (leaves: Uint8Array[]): Uint8Array => {
    if (leaves.length === 1) return leaves[0]!;
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return taggedHash(HashTag.MerkleNode, mth(leaves.slice(0, k)), mth(leaves.slice(k)));
  };
  it('for every size from 1 to 70 items', () => {
    for (let n = 1; n <= 70; n++) {
      const items = Array.from({ length: n }, (_, i) => Uint8Array.of(i, n));
      expect(Buffer.from(merkleRoot(items)).toString('hex'), `n = ${n}`).to.equal(Buffer.from(mth(items.map((x) => taggedHash(HashTag.MerkleLeaf, x)))).toString('hex'));
    }
  });
});
