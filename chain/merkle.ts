import { equalBytes } from './bytes.js';
import { HashTag, taggedHash, taggedHashInto, taggedHashRangeInto } from './hash.js';

/**
 * Binary Merkle tree over an ordered list (RFC 6962 shape: the left subtree holds the largest
 * power of two below n). Leaves and inner nodes are hashed under different tags.
 */
export const EMPTY_MERKLE_ROOT = taggedHash(HashTag.MerkleEmpty);

export function merkleLeaf(data: Uint8Array): Uint8Array {
  return taggedHash(HashTag.MerkleLeaf, data);
}

function node(left: Uint8Array, right: Uint8Array): Uint8Array {
  return taggedHash(HashTag.MerkleNode, left, right);
}

function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function rootOfLeaves(leaves: Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 1) return leaves[lo]!;
  const k = splitPoint(n);
  return node(rootOfLeaves(leaves, lo, lo + k), rootOfLeaves(leaves, lo + k, hi));
}

/**
 * The root, computed bottom-up in one buffer: each level pairs nodes left to right and carries an
 * odd last node up unchanged, which builds exactly the RFC 6962 shape (the left subtree of n
 * leaves holds the largest power of two below n) without allocating a hash per node.
 */
export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  const n = items.length;
  if (n === 0) return EMPTY_MERKLE_ROOT;
  const buf = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) taggedHashInto(buf, i * 32, HashTag.MerkleLeaf, items[i]!);
  for (let width = n; width > 1; width = (width + 1) >> 1) {
    const pairs = width >> 1;
    for (let i = 0; i < pairs; i++) taggedHashRangeInto(buf, i * 32, HashTag.MerkleNode, buf, 64 * i, 64 * i + 64);
    if (width & 1) buf.copyWithin(pairs * 32, (width - 1) * 32, width * 32);
  }
  return buf.slice(0, 32);
}

export interface MerkleProof {
  index: number;
  total: number;
  /** Sibling hashes from the leaf up to the root. */
  siblings: Uint8Array[];
}

export function merkleProof(items: Uint8Array[], index: number): MerkleProof {
  if (!Number.isInteger(index) || index < 0 || index >= items.length) throw new RangeError(`index ${index} out of range`);
  const leaves = items.map(merkleLeaf);
  const siblings: Uint8Array[] = [];
  const walk = (lo: number, hi: number): void => {
    const n = hi - lo;
    if (n === 1) return;
    const k = splitPoint(n);
    if (index < lo + k) {
      walk(lo, lo + k);
      siblings.push(rootOfLeaves(leaves, lo + k, hi));
    } else {
      walk(lo + k, hi);
      siblings.push(rootOfLeaves(leaves, lo, lo + k));
    }
  };
  walk(0, items.length);
  return { index, total: items.length, siblings };
}

/** Checks that `item` is at `proof.index` of a list of `proof.total` items whose root is `root`. */
export function verifyMerkleProof(root: Uint8Array, item: Uint8Array, proof: MerkleProof): boolean {
  const { index, total, siblings } = proof;
  if (!Number.isInteger(index) || !Number.isInteger(total) || index < 0 || index >= total) return false;
  let pos = 0;
  const compute = (leaf: Uint8Array, lo: number, hi: number): Uint8Array | undefined => {
    const n = hi - lo;
    if (n === 1) return leaf;
    const k = splitPoint(n);
    if (index < lo + k) {
      const l = compute(leaf, lo, lo + k);
      const s = siblings[pos++];
      return l && s ? node(l, s) : undefined;
    }
    const r = compute(leaf, lo + k, hi);
    const s = siblings[pos++];
    return r && s ? node(s, r) : undefined;
  };
  const got = compute(merkleLeaf(item), 0, total);
  return got !== undefined && pos === siblings.length && equalBytes(got, root);
}
