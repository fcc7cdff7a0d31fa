import { expect } from 'chai';
import {
  ChainError,
  ChainErrorCode,
  EMPTY_STATE_ROOT,
  pathBit,
  sharesPrefix,
  stateLeafHash,
  stateNodeHash,
  statePath,
  stateProofFromJson,
  stateProofToJson,
  stateValueHash,
  toHex,
  utf8,
  verifyStateProof,
  type StateProof,
} from '../../../chain/index.js';
import { SparseMerkleTree } from '../../../vm/state/smt.js';

const key = (i: number): Uint8Array => utf8(`account-${i}`);
const value = (i: number): Uint8Array => utf8(`balance-${i * 31}`);

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = b.slice();
  out[bit >> 3]! ^= 0x80 >> (bit & 7);
  return out;
}

function expectChainError(fn: () => unknown, code: ChainErrorCode): void {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ChainError);
    expect((e as ChainError).code).to.equal(code);
    return;
  }
  expect.fail(`expected a ChainError ${code}`);
}

describe('chain/stateproof', () => {
  const n = 64;
  const tree = SparseMerkleTree.empty().update(Array.from({ length: n }, (_, i) => [key(i), value(i)] as const));
  const root = tree.root;

  /** Absent keys whose position is empty, and absent keys whose position holds another leaf. */
  const absent = Array.from({ length: 200 }, (_, i) => key(n + i));
  const emptyCase = absent.find((k) => tree.prove(k).leafPath === undefined)!;
  const leafCase = absent.find((k) => tree.prove(k).leafPath !== undefined)!;

  describe('hashing', () => {
    it('matches the frozen vectors', () => {
      expect(toHex(statePath(utf8('a')))).to.equal('0x2e13b922a35b4ddb8316c3fb8fb87dbea66ad26c6af09d71d3a874f02b8eb075');
      expect(toHex(EMPTY_STATE_ROOT)).to.equal('0x' + '00'.repeat(32));
      expect(stateNodeHash(EMPTY_STATE_ROOT, EMPTY_STATE_ROOT)).to.not.deep.equal(stateLeafHash(EMPTY_STATE_ROOT, EMPTY_STATE_ROOT));
    });

    it('reads path bits MSB-first and compares prefixes bit by bit', () => {
      const p = Uint8Array.of(0b1010_0000, 0xff);
      expect([0, 1, 2, 3, 8].map((i) => pathBit(p, i))).to.deep.equal([1, 0, 1, 0, 1]);
      const q = Uint8Array.of(0b1010_1000, 0xff);
      expect(sharesPrefix(p, q, 4)).to.equal(true);
      expect(sharesPrefix(p, q, 5)).to.equal(false);
      expect(sharesPrefix(p, p, 16)).to.equal(true);
      expect(sharesPrefix(p, q, 0)).to.equal(true);
    });
  });

  describe('inclusion', () => {
    it('verifies for every key', () => {
      for (let i = 0; i < n; i++) expect(verifyStateProof(root, key(i), value(i), tree.prove(key(i)))).to.equal(true);
    });

    it('verifies in a one-key tree (no side nodes)', () => {
      const one = SparseMerkleTree.empty().update([[key(0), value(0)]]);
      const proof = one.prove(key(0));
      expect(proof.sideNodes).to.have.length(0);
      expect(verifyStateProof(one.root, key(0), value(0), proof)).to.equal(true);
    });

    it('rejects a wrong value, a wrong key and a wrong root', () => {
      const proof = tree.prove(key(3));
      expect(verifyStateProof(root, key(3), value(4), proof)).to.equal(false);
      expect(verifyStateProof(root, key(3), undefined, proof)).to.equal(false);
      expect(verifyStateProof(root, key(4), value(3), proof)).to.equal(false);
      expect(verifyStateProof(flipBit(root, 100), key(3), value(3), proof)).to.equal(false);
      expect(verifyStateProof(root.subarray(1), key(3), value(3), proof)).to.equal(false);
    });

    it('rejects a flipped bit in any side node, and a dropped or extra side node', () => {
      const proof = tree.prove(key(5));
      expect(proof.sideNodes.length).to.be.greaterThan(2);
      proof.sideNodes.forEach((_, i) => {
        const sideNodes = proof.sideNodes.map((s, j) => (j === i ? flipBit(s, 7 * i) : s));
        expect(verifyStateProof(root, key(5), value(5), { sideNodes })).to.equal(false);
      });
      expect(verifyStateProof(root, key(5), value(5), { sideNodes: proof.sideNodes.slice(1) })).to.equal(false);
      expect(verifyStateProof(root, key(5), value(5), { sideNodes: [...proof.sideNodes, EMPTY_STATE_ROOT] })).to.equal(false);
    });

    it('rejects an inclusion proof carrying another leaf', () => {
      const proof = tree.prove(key(5));
      expect(verifyStateProof(root, key(5), value(5), { ...proof, leafPath: statePath(key(5)), leafValueHash: stateValueHash(value(5)) })).to.equal(false);
    });
  });

  describe('non-inclusion', () => {
    it('verifies when the key’s position is empty', () => {
      expect(verifyStateProof(root, emptyCase, undefined, tree.prove(emptyCase))).to.equal(true);
      expect(verifyStateProof(EMPTY_STATE_ROOT, key(0), undefined, SparseMerkleTree.empty().prove(key(0)))).to.equal(true);
    });

    it('verifies in a one-key tree, where the root is the other leaf', () => {
      const one = SparseMerkleTree.empty().update([[key(0), value(0)]]);
      const proof = one.prove(key(1));
      expect(proof.sideNodes).to.have.length(0);
      expect(proof.leafPath).to.deep.equal(statePath(key(0)));
      expect(verifyStateProof(one.root, key(1), undefined, proof)).to.equal(true);
      expect(verifyStateProof(one.root, key(0), undefined, one.prove(key(0)))).to.equal(false);
    });

    it('verifies when another leaf occupies the key’s position', () => {
      const proof = tree.prove(leafCase);
      expect(verifyStateProof(root, leafCase, undefined, proof)).to.equal(true);
      expect(sharesPrefix(proof.leafPath!, statePath(leafCase), proof.sideNodes.length)).to.equal(true);
    });

    it('rejects tampering with the other leaf, the side nodes or the root', () => {
      const proof = tree.prove(leafCase);
      expect(verifyStateProof(root, leafCase, undefined, { ...proof, leafValueHash: flipBit(proof.leafValueHash!, 0) })).to.equal(false);
      expect(verifyStateProof(root, leafCase, undefined, { ...proof, leafPath: flipBit(proof.leafPath!, 255) })).to.equal(false);
      expect(verifyStateProof(root, leafCase, undefined, { sideNodes: proof.sideNodes })).to.equal(false);
      expect(verifyStateProof(root, leafCase, undefined, { sideNodes: proof.sideNodes, leafPath: proof.leafPath! })).to.equal(false);
      const empty = tree.prove(emptyCase);
      const sideNodes = empty.sideNodes.map((s, i) => (i === 0 ? flipBit(s, 3) : s));
      expect(verifyStateProof(root, emptyCase, undefined, { sideNodes })).to.equal(false);
      expect(verifyStateProof(flipBit(root, 0), emptyCase, undefined, empty)).to.equal(false);
    });

    it('rejects absence claimed for a present key', () => {
      for (let i = 0; i < n; i++) expect(verifyStateProof(root, key(i), undefined, tree.prove(key(i)))).to.equal(false);
      // A position-consistent forgery: the "other" leaf is the key's own leaf.
      const [k, side] = [key(0), stateLeafHash(statePath(key(1)), stateValueHash(value(1)))];
      const path = statePath(k);
      const own = stateLeafHash(path, stateValueHash(value(0)));
      const forgedRoot = pathBit(path, 0) === 1 ? stateNodeHash(side, own) : stateNodeHash(own, side);
      expect(verifyStateProof(forgedRoot, k, value(0), { sideNodes: [side] })).to.equal(true);
      expect(verifyStateProof(forgedRoot, k, undefined, { sideNodes: [side], leafPath: path, leafValueHash: stateValueHash(value(0)) })).to.equal(false);
    });

    it('rejects another leaf that does not share the key’s prefix', () => {
      // A root where a leaf sits on the side its own path does not lead to: hashes chain up,
      // but the leaf cannot be the occupant of the key's position.
      const k = key(0);
      const path = statePath(k);
      const stranger = flipBit(path, 0);
      const vh = stateValueHash(value(9));
      const side = stateLeafHash(statePath(key(1)), stateValueHash(value(1)));
      const occupant = stateLeafHash(stranger, vh);
      const forgedRoot = pathBit(path, 0) === 1 ? stateNodeHash(side, occupant) : stateNodeHash(occupant, side);
      expect(verifyStateProof(forgedRoot, k, undefined, { sideNodes: [side], leafPath: stranger, leafValueHash: vh })).to.equal(false);
      // Sanity: the same construction with a prefix-sharing leaf is accepted.
      const neighbour = flipBit(path, 200);
      const ok = stateLeafHash(neighbour, vh);
      const okRoot = pathBit(path, 0) === 1 ? stateNodeHash(side, ok) : stateNodeHash(ok, side);
      expect(verifyStateProof(okRoot, k, undefined, { sideNodes: [side], leafPath: neighbour, leafValueHash: vh })).to.equal(true);
    });
  });

  describe('malformed proofs', () => {
    it('rejects more than 256 side nodes', () => {
      const sideNodes = Array.from({ length: 257 }, () => EMPTY_STATE_ROOT);
      expect(verifyStateProof(EMPTY_STATE_ROOT, key(0), undefined, { sideNodes })).to.equal(false);
    });

    it('rejects side nodes and leaf fields of the wrong length', () => {
      const proof = tree.prove(key(1));
      const sideNodes = proof.sideNodes.map((s, i) => (i === 0 ? s.subarray(1) : s));
      expect(verifyStateProof(root, key(1), value(1), { sideNodes })).to.equal(false);
      const other = tree.prove(leafCase);
      expect(verifyStateProof(root, leafCase, undefined, { ...other, leafPath: other.leafPath!.subarray(1) })).to.equal(false);
    });
  });

  describe('JSON', () => {
    it('round-trips both kinds of proof as 0x-hex', () => {
      for (const k of [key(2), emptyCase, leafCase]) {
        const proof = tree.prove(k);
        const json = JSON.parse(JSON.stringify(stateProofToJson(proof))) as unknown;
        expect(stateProofFromJson(json)).to.deep.equal(proof);
      }
      const j = stateProofToJson(tree.prove(leafCase));
      expect(j.leafPath).to.match(/^0x[0-9a-f]{64}$/);
      expect(j.sideNodes.every((s) => /^0x[0-9a-f]{64}$/.test(s))).to.equal(true);
    });

    it('throws ChainError on malformed input', () => {
      const good = stateProofToJson(tree.prove(leafCase));
      const h = '0x' + '11'.repeat(32);
      expectChainError(() => stateProofFromJson(null), ChainErrorCode.InvalidProof);
      expectChainError(() => stateProofFromJson([]), ChainErrorCode.InvalidProof);
      expectChainError(() => stateProofFromJson({}), ChainErrorCode.InvalidProof);
      expectChainError(() => stateProofFromJson({ sideNodes: h }), ChainErrorCode.InvalidProof);
      expectChainError(() => stateProofFromJson({ ...good, extra: 1 }), ChainErrorCode.InvalidProof);
      expectChainError(() => stateProofFromJson({ sideNodes: [], leafPath: h }), ChainErrorCode.InvalidProof);
      expectChainError(() => stateProofFromJson({ sideNodes: Array.from({ length: 257 }, () => h) }), ChainErrorCode.InvalidProof);
      expectChainError(() => stateProofFromJson({ sideNodes: ['0x12zz'] }), ChainErrorCode.InvalidHex);
      expectChainError(() => stateProofFromJson({ sideNodes: [42] }), ChainErrorCode.InvalidHex);
      expectChainError(() => stateProofFromJson({ sideNodes: ['0x1234'] }), ChainErrorCode.FieldLength);
      expectChainError(() => stateProofFromJson({ ...good, leafValueHash: '0x00' }), ChainErrorCode.FieldLength);
    });

    it('keeps the proof type: a parsed proof verifies', () => {
      const proof: StateProof = stateProofFromJson(stateProofToJson(tree.prove(key(7))));
      expect(verifyStateProof(root, key(7), value(7), proof)).to.equal(true);
    });
  });
});
