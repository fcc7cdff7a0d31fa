import { blake3Into, blake3Range } from './blake3.js';

/**
 * Every hash in Metanode is BLAKE3 over one tag byte followed by the data, so that no two kinds
 * of object can ever share a hash. Tags are defined here and nowhere else; ids are never reused.
 */
export const HashTag = {
  Transaction: 0x01,
  TxSigning: 0x02,
  BlockHeader: 0x03,
  Receipt: 0x04,
  ValidatorSet: 0x05,
  CommitVote: 0x06,
  Address: 0x07,
  BlsPossession: 0x08,
  /** A module's own account (chain/address.ts moduleAddress): no key derives it. */
  ModuleAccount: 0x09,
  MerkleLeaf: 0x10,
  MerkleNode: 0x11,
  MerkleEmpty: 0x12,
  StateKey: 0x20,
  StateValue: 0x21,
  StateLeaf: 0x22,
  StateNode: 0x23,
  /** The entry log's commitment (chain/stateentry.ts): an entry, and the keys its trees' nodes are hashed with. */
  StateEntry: 0x24,
  StateTwigNode: 0x25,
  StateBitsNode: 0x26,
  StateTwig: 0x27,
  StateUpperNode: 0x28,
  ConsensusMessage: 0x30,
  /** A record of the node's audit log (storage/auditlog.ts): the hash the next record names. */
  AuditRecord: 0x40,
  /** DockLock (docklock/): a program's id (its original bytes) and its instrumented module. */
  DocklockProgram: 0x50,
  DocklockInstrumented: 0x51,
  DocklockInput: 0x52,
  DocklockOutput: 0x53,
  /** A link of a job's witness log: the previous link ‖ the host call. */
  DocklockWitness: 0x54,
  /** A job's random stream (BLAKE3 XOF of this tag ‖ the job id). */
  DocklockRandom: 0x55,
  /** A DockLock receipt (what its executor signs). */
  DocklockReceipt: 0x56,
  /** The id of a job run outside the chain: program, input, fuel and clock. */
  DocklockJob: 0x57,
  /** ENC placement's tie-break between equally scored nodes: job id and node address. */
  EncPlacement: 0x60,
} as const;
export type HashTag = (typeof HashTag)[keyof typeof HashTag];

export const HASH_LENGTH = 32;

/** Where taggedHash assembles tag ‖ parts; grown when needed, reused (hashing is synchronous). */
let scratch = new Uint8Array(1024);

export function taggedHash(tag: HashTag, ...parts: Uint8Array[]): Uint8Array {
  // assemble() may replace the scratch buffer (a bigger one): read `scratch` after it, not before.
  const len = assemble(tag, parts);
  return blake3Range(scratch, 0, len);
}

/** taggedHash written to `out[offset..offset+32)`; the parts may be views into `out`. */
export function taggedHashInto(out: Uint8Array, offset: number, tag: HashTag, ...parts: Uint8Array[]): void {
  const len = assemble(tag, parts);
  blake3Into(scratch, 0, len, out, offset);
}

/** taggedHash of one part, `src[start..end)`, written to `out[offset..offset+32)` (may overlap). */
export function taggedHashRangeInto(out: Uint8Array, offset: number, tag: HashTag, src: Uint8Array, start: number, end: number): void {
  const len = 1 + end - start;
  if (len > scratch.length) scratch = new Uint8Array(Math.max(len, 2 * scratch.length));
  scratch[0] = tag;
  for (let i = start; i < end; i++) scratch[1 + i - start] = src[i]!;
  blake3Into(scratch, 0, len, out, offset);
}

/**
 * taggedHash(tag, prefix, src[start..end)) where the prefix is `prefix.bytes` big-endian bytes of
 * `prefix.value` (a header of at most 6 bytes): neither part is copied into a new array.
 */
export function taggedHashWithPrefix(tag: HashTag, prefix: { value: number; bytes: number }, src: Uint8Array, start: number, end: number): Uint8Array {
  const len = 1 + prefix.bytes + end - start;
  if (len > scratch.length) scratch = new Uint8Array(Math.max(len, 2 * scratch.length));
  scratch[0] = tag;
  let v = prefix.value;
  for (let i = prefix.bytes; i >= 1; i--) {
    scratch[i] = v % 256;
    v = Math.floor(v / 256);
  }
  scratch.set(src.subarray(start, end), 1 + prefix.bytes);
  return blake3Range(scratch, 0, len);
}

/** Writes tag ‖ parts into the scratch buffer; returns the length. */
function assemble(tag: HashTag, parts: Uint8Array[]): number {
  let len = 1;
  for (let i = 0; i < parts.length; i++) len += parts[i]!.length;
  if (len > scratch.length) scratch = new Uint8Array(Math.max(len, 2 * scratch.length));
  scratch[0] = tag;
  let off = 1;
  for (let i = 0; i < parts.length; i++) {
    scratch.set(parts[i]!, off);
    off += parts[i]!.length;
  }
  return len;
}
