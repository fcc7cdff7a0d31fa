/**
 * The entry log's commitment (QMDB-style; the design and why: docs/state-entry-log.md), as a light
 * client sees it: what the headers' state root is on a chain whose genesis says
 * `stateCommitment: "entry-log"` (new chains; stateproof.ts' sparse Merkle tree is the other).
 *
 * The state is an append-only log of entries. An entry is a key, the hash of its value, and the
 * next key in key order (empty for the last), so the entries that are active form a sorted linked
 * list, from a sentinel entry with the empty key that is always present: a key is absent when an
 * active entry's key is below it and its next key above it (or empty). Changing a key appends a
 * new entry for it and deactivates the old one; nothing written is ever rewritten.
 *
 * - An entry's hash: `H(StateEntry, u16 key length ‖ key ‖ valueHash ‖ next)`, with
 *   `valueHash = H(StateValue, value)` (as stateproof.ts); the next key is the rest (its length
 *   follows from the whole's). Those bytes are also the entry's stored record.
 * - Entries are grouped by position into twigs of 2,048. A twig's entry tree is the binary Merkle
 *   tree over its 2,048 entry hashes (positions not written yet are 32 zero bytes); its active
 *   bits are 2,048 bits (bit p & 7 of byte p >> 3 of the twig's 256 bytes, for position p within
 *   it), a binary tree over eight 32-byte leaves. The twig's root hashes its entry tree's root
 *   and its bits' root.
 * - The upper tree is the binary Merkle tree over the twigs' roots, of fixed depth 24 (2^24
 *   twigs, 2^35 entries); the state root is its root.
 * - Every inner node is BLAKE3's keyed hash of its two children (64 bytes: one compression), with
 *   one key per kind of node (`H(tag)` for the tags StateTwigNode, StateBitsNode, StateTwig,
 *   StateUpperNode), so nodes of different kinds never share a hash. A node whose two children are
 *   both 32 zero bytes is 32 zero bytes: empty parts of the trees cost nothing to hash.
 *
 * Only the active bits and the youngest twig change: a full twig's entry tree is fixed, so a node
 * keeps in memory a few hundred bytes per twig (its roots and bits) and updates the commitment
 * without reading anything from disk (vm/state/twigs.ts).
 */
import { blake3Keyed64Into, blake3KeyWords } from './blake3.js';
import { compareBytes, equalBytes } from './bytes.js';
import { HASH_LENGTH, HashTag, taggedHash } from './hash.js';
import { stateValueHash } from './stateproof.js';

/** log2 of the entries in a twig. */
export const TWIG_SHIFT = 11;
export const TWIG_ENTRIES = 1 << TWIG_SHIFT;
/** Bytes of a twig's active bits, and of each of the eight leaves of their tree. */
export const TWIG_BITS_BYTES = TWIG_ENTRIES / 8;
export const BITS_LEAF_BYTES = 32;
/** Levels of a twig's bits tree (8 leaves). */
export const BITS_DEPTH = 3;
/** Levels of the upper tree, over twigs' roots. */
export const UPPER_DEPTH = 24;
/** The first position a state cannot hold. */
export const MAX_POSITIONS = 2 ** (UPPER_DEPTH + TWIG_SHIFT);

/** Keys are at most this long (a u16 in an entry's encoding). */
export const MAX_ENTRY_KEY_BYTES = 0xffff;

export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_LENGTH);
const ZERO = new Uint8Array(HASH_LENGTH);

/** The kinds of inner node, each hashed with its own key. */
export const NodeKind = {
  Twig: 0,
  Bits: 1,
  TwigRoot: 2,
  Upper: 3,
} as const;
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

const KEYS: Int32Array[] = [HashTag.StateTwigNode, HashTag.StateBitsNode, HashTag.StateTwig, HashTag.StateUpperNode].map((tag) => blake3KeyWords(taggedHash(tag)));

/** Whether the 32 bytes at `b[o..o+32)` are all zero. */
export function isZeroHash(b: Uint8Array, o = 0): boolean {
  for (let i = 0; i < HASH_LENGTH; i++) if (b[o + i] !== 0) return false;
  return true;
}

/**
 * The node of kind `kind` over the 64 bytes `pair[o..o+64)` (left ‖ right), written to
 * `out[offset..offset+32)` (which may be the pair itself): zero when both children are.
 */
export function entryNodeInto(kind: NodeKind, pair: Uint8Array, o: number, out: Uint8Array, offset: number): void {
  if (isZeroHash(pair, o) && isZeroHash(pair, o + HASH_LENGTH)) {
    out.fill(0, offset, offset + HASH_LENGTH);
    return;
  }
  blake3Keyed64Into(KEYS[kind]!, pair, o, out, offset);
}

const pairScratch = new Uint8Array(2 * HASH_LENGTH);

/** The node of kind `kind` over `left` and `right` (a new array). */
export function entryNode(kind: NodeKind, left: Uint8Array, right: Uint8Array): Uint8Array {
  pairScratch.set(left, 0);
  pairScratch.set(right, HASH_LENGTH);
  const out = new Uint8Array(HASH_LENGTH);
  entryNodeInto(kind, pairScratch, 0, out, 0);
  return out;
}

/** An entry as its hash covers it. */
export interface StateEntry {
  readonly key: Uint8Array;
  readonly valueHash: Uint8Array;
  /** The next active key in key order; empty for the last. */
  readonly next: Uint8Array;
}

/** An entry's bytes: u16 key length ‖ key ‖ valueHash ‖ next (what its hash covers, and its stored record). */
export function encodeStateEntry(e: StateEntry): Uint8Array {
  if (e.key.length > MAX_ENTRY_KEY_BYTES) throw new RangeError('a state key is at most 65,535 bytes');
  const b = new Uint8Array(2 + e.key.length + HASH_LENGTH + e.next.length);
  b[0] = e.key.length >> 8;
  b[1] = e.key.length & 255;
  b.set(e.key, 2);
  b.set(e.valueHash, 2 + e.key.length);
  b.set(e.next, 2 + e.key.length + HASH_LENGTH);
  return b;
}

/** The hash of an entry's bytes (encodeStateEntry). */
export function stateEntryHashOf(encoded: Uint8Array): Uint8Array {
  return taggedHash(HashTag.StateEntry, encoded);
}

export function stateEntryHash(e: StateEntry): Uint8Array {
  return stateEntryHashOf(encodeStateEntry(e));
}

/** Whether position `i` (within its twig) is set in a twig's bits. */
export function bitIsSet(bits: Uint8Array, i: number, offset = 0): boolean {
  return ((bits[offset + (i >> 3)]! >> (i & 7)) & 1) === 1;
}

/** A twig's root from its entry tree's root and its bits' root. */
export function twigRoot(entryRoot: Uint8Array, bitsRootHash: Uint8Array): Uint8Array {
  return entryNode(NodeKind.TwigRoot, entryRoot, bitsRootHash);
}

/**
 * Where an entry sits, and the hashes from it up to the state root:
 * - `twigPath`: its entry tree's siblings, leaf level first (11);
 * - `bitsLeaf`: the 32-byte leaf of the twig's bits that holds the entry's bit, and `bitsPath` its
 *   siblings, leaf level first (3);
 * - `entryRoot` is not sent: it is computed from the entry and `twigPath`;
 * - `upperPath`: the upper tree's siblings, twig level first (24).
 */
export interface EntryPath {
  position: number;
  twigPath: Uint8Array[];
  bitsLeaf: Uint8Array;
  bitsPath: Uint8Array[];
  upperPath: Uint8Array[];
}

/** A proof that a key holds a value (the key's own active entry) or is absent (the active entry just below it). */
export interface EntryProof extends EntryPath {
  entry: StateEntry;
}

/** The version of the proof layout above, served beside it (`proofFormat`; stateproof.ts' is 1). */
export const ENTRY_PROOF_FORMAT = 2;

const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_LENGTH;

/** The root that `path` gives for an entry hash, with the entry active; undefined when the path is malformed or says inactive. */
export function rootOfEntryPath(entryHash: Uint8Array, path: EntryPath): Uint8Array | undefined {
  const { position, twigPath, bitsLeaf, bitsPath, upperPath } = path;
  if (!Number.isSafeInteger(position) || position < 0 || position >= MAX_POSITIONS) return undefined;
  if (!Array.isArray(twigPath) || twigPath.length !== TWIG_SHIFT || !twigPath.every(isHash)) return undefined;
  if (!Array.isArray(bitsPath) || bitsPath.length !== BITS_DEPTH || !bitsPath.every(isHash)) return undefined;
  if (!Array.isArray(upperPath) || upperPath.length !== UPPER_DEPTH || !upperPath.every(isHash)) return undefined;
  if (!isHash(bitsLeaf) || !isHash(entryHash) || equalBytes(entryHash, ZERO)) return undefined;
  const inTwig = position % TWIG_ENTRIES;
  const bit = inTwig % (BITS_LEAF_BYTES * 8);
  if (!bitIsSet(bitsLeaf, bit)) return undefined;
  let h = entryHash;
  let at = inTwig;
  for (const side of twigPath) {
    h = at & 1 ? entryNode(NodeKind.Twig, side, h) : entryNode(NodeKind.Twig, h, side);
    at >>= 1;
  }
  let b = bitsLeaf;
  at = Math.floor(inTwig / (BITS_LEAF_BYTES * 8));
  for (const side of bitsPath) {
    b = at & 1 ? entryNode(NodeKind.Bits, side, b) : entryNode(NodeKind.Bits, b, side);
    at >>= 1;
  }
  let r = twigRoot(h, b);
  at = Math.floor(position / TWIG_ENTRIES);
  for (const side of upperPath) {
    r = at & 1 ? entryNode(NodeKind.Upper, side, r) : entryNode(NodeKind.Upper, r, side);
    at = Math.floor(at / 2);
  }
  return r;
}

/**
 * Checks a proof against a state root. `value` defined: `key` holds exactly `value`; undefined:
 * `key` is absent (the proof's entry is the active one just below it). Never throws; a malformed
 * proof is false.
 */
export function verifyEntryProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, proof: EntryProof): boolean {
  try {
    if (!isHash(root) || typeof proof !== 'object' || proof === null) return false;
    const e = proof.entry;
    if (typeof e !== 'object' || e === null || !(e.key instanceof Uint8Array) || !(e.next instanceof Uint8Array) || !isHash(e.valueHash)) return false;
    if (key.length === 0 || key.length > MAX_ENTRY_KEY_BYTES) return false;
    if (value !== undefined) {
      if (!equalBytes(e.key, key) || !equalBytes(e.valueHash, stateValueHash(value))) return false;
    } else if (!(compareBytes(e.key, key) < 0 && (e.next.length === 0 || compareBytes(key, e.next) < 0))) {
      return false;
    }
    const r = rootOfEntryPath(stateEntryHash(e), proof);
    return r !== undefined && equalBytes(r, root);
  } catch {
    return false;
  }
}
