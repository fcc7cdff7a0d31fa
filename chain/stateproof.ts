/**
 * The state commitment's hashing and its proofs, as a light client sees them.
 *
 * The state is a compact sparse Merkle tree (Celestia style) over 256-bit paths:
 * - a key's path is `H(StateKey, key)`, read MSB-first: bit 0 picks the root's child;
 * - a leaf hashes to `H(StateLeaf, path, H(StateValue, value))`;
 * - an inner node hashes to `H(StateNode, left, right)`; an empty subtree is 32 zero bytes;
 * - a subtree holding exactly one leaf is that leaf itself, so every inner node has at least
 *   two leaves below it and the root depends only on the set of (key, value) pairs.
 *
 * The tree itself lives in vm/state/smt.ts; this file needs nothing from vm/.
 */
import { equalBytes, toHex, fromHex } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HASH_LENGTH, HashTag, taggedHash, taggedHashInto } from './hash.js';

/** Depth of the tree: paths are 256 bits, so no proof has more side nodes than this. */
export const STATE_TREE_DEPTH = 256;

/** The hash of an empty subtree, and so the root of the empty state. */
export const EMPTY_STATE_ROOT: Uint8Array = new Uint8Array(HASH_LENGTH);
/** Private copy for verification, safe from callers mutating the exported one. */
const EMPTY_HASH = new Uint8Array(HASH_LENGTH);

/** Where a key lives in the tree. */
export function statePath(key: Uint8Array): Uint8Array {
  return taggedHash(HashTag.StateKey, key);
}

export function stateValueHash(value: Uint8Array): Uint8Array {
  return taggedHash(HashTag.StateValue, value);
}

export function stateLeafHash(path: Uint8Array, valueHash: Uint8Array): Uint8Array {
  return taggedHash(HashTag.StateLeaf, path, valueHash);
}

export function stateNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return taggedHash(HashTag.StateNode, left, right);
}

/** stateLeafHash written to `out[0..32)`. */
export function stateLeafHashInto(out: Uint8Array, path: Uint8Array, valueHash: Uint8Array): void {
  taggedHashInto(out, 0, HashTag.StateLeaf, path, valueHash);
}

/** stateNodeHash of `children` (left ‖ right, 64 bytes) written to `out[offset..offset+32)`. */
export function stateNodeHashInto(out: Uint8Array, children: Uint8Array, offset = 0): void {
  taggedHashInto(out, offset, HashTag.StateNode, children);
}

/** Bit `i` of a path, MSB-first: 0 = go left, 1 = go right at depth `i`. */
export function pathBit(path: Uint8Array, i: number): 0 | 1 {
  return ((path[i >> 3]! >> (7 - (i & 7))) & 1) as 0 | 1;
}

/** True when `a` and `b` agree on their first `bits` bits. */
export function sharesPrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

/**
 * A path from the root down to where a key is, or would be.
 * - inclusion: the key's own leaf sits at depth `sideNodes.length`;
 * - non-inclusion: that position is empty, or (with `leafPath`/`leafValueHash`) holds the one
 *   leaf of another key whose path shares the first `sideNodes.length` bits.
 */
export interface StateProof {
  /** Sibling hashes, root → leaf: `sideNodes[i]` is the sibling at depth `i + 1`. */
  sideNodes: Uint8Array[];
  /** Non-inclusion only: path of the other leaf occupying the key's position. */
  leafPath?: Uint8Array;
  /** Non-inclusion only: value hash of that other leaf. */
  leafValueHash?: Uint8Array;
}

/**
 * Checks a proof against a state root. `value` defined: the key holds exactly `value`;
 * `value` undefined: the key is absent. Never throws; malformed proofs are simply false.
 */
export function verifyStateProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, proof: StateProof): boolean {
  const { sideNodes, leafPath, leafValueHash } = proof;
  if (root.length !== HASH_LENGTH || !Array.isArray(sideNodes) || sideNodes.length > STATE_TREE_DEPTH) return false;
  if (sideNodes.some((s) => !(s instanceof Uint8Array) || s.length !== HASH_LENGTH)) return false;
  if ((leafPath === undefined) !== (leafValueHash === undefined)) return false;
  const path = statePath(key);
  const depth = sideNodes.length;
  let hash: Uint8Array;
  if (value !== undefined) {
    if (leafPath !== undefined) return false;
    hash = stateLeafHash(path, stateValueHash(value));
  } else if (leafPath !== undefined && leafValueHash !== undefined) {
    if (leafPath.length !== HASH_LENGTH || leafValueHash.length !== HASH_LENGTH) return false;
    // The other leaf must sit in the key's subtree and must not be the key itself.
    if (equalBytes(leafPath, path) || !sharesPrefix(leafPath, path, depth)) return false;
    hash = stateLeafHash(leafPath, leafValueHash);
  } else {
    hash = EMPTY_HASH;
  }
  for (let i = depth - 1; i >= 0; i--) {
    const side = sideNodes[i]!;
    hash = pathBit(path, i) === 1 ? stateNodeHash(side, hash) : stateNodeHash(hash, side);
  }
  return equalBytes(hash, root);
}

/**
 * The version of the proof layout above (the tree's hashing, the side nodes root → leaf, the
 * non-inclusion leaf), given with every proof a node serves: a client refuses one it does not know.
 * It changes only with the state commitment itself, which would be a chain upgrade.
 */
export const STATE_PROOF_FORMAT = 1;

/** JSON form of a StateProof: every hash as 0x-hex. */
export interface StateProofJson {
  sideNodes: string[];
  leafPath?: string;
  leafValueHash?: string;
}

export function stateProofToJson(p: StateProof): StateProofJson {
  const out: StateProofJson = { sideNodes: p.sideNodes.map(toHex) };
  if (p.leafPath !== undefined) out.leafPath = toHex(p.leafPath);
  if (p.leafValueHash !== undefined) out.leafValueHash = toHex(p.leafValueHash);
  return out;
}

const PROOF_FIELDS = new Set(['sideNodes', 'leafPath', 'leafValueHash']);

/** Strict inverse of stateProofToJson; throws ChainError on anything malformed. */
export function stateProofFromJson(j: unknown): StateProof {
  const fail = (msg: string): never => {
    throw new ChainError(ChainErrorCode.InvalidProof, `state proof: ${msg}`, { value: j });
  };
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return fail('must be a JSON object');
  const o = j as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!PROOF_FIELDS.has(k)) fail(`unknown field "${k}"`);
  if (!Array.isArray(o.sideNodes)) return fail('sideNodes must be an array of 0x-hex hashes');
  if (o.sideNodes.length > STATE_TREE_DEPTH) fail(`has ${o.sideNodes.length} side nodes, at most ${STATE_TREE_DEPTH} allowed`);
  const proof: StateProof = {
    sideNodes: o.sideNodes.map((s: unknown, i) => fromHex(s as string, HASH_LENGTH, `state proof sideNodes[${i}]`)),
  };
  if ((o.leafPath === undefined) !== (o.leafValueHash === undefined)) fail('leafPath and leafValueHash come together or not at all');
  if (o.leafPath !== undefined) proof.leafPath = fromHex(o.leafPath as string, HASH_LENGTH, 'state proof leafPath');
  if (o.leafValueHash !== undefined) proof.leafValueHash = fromHex(o.leafValueHash as string, HASH_LENGTH, 'state proof leafValueHash');
  return proof;
}
