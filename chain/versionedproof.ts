/**
 * A state proof of either commitment a chain may use, tagged with its layout's version (the
 * `proofFormat` a node serves beside it): 1, the sparse Merkle tree (stateproof.ts); 2, the entry
 * log (stateentry.ts). A chain's genesis fixes its commitment (`stateCommitment`), so every proof
 * one chain serves has one format; a client checks the tag it got and verifies with the matching
 * pure function. The JSON forms are strict: unknown fields and malformed hashes are refused.
 */
import { fromHex, toHex } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HASH_LENGTH } from './hash.js';
import { BITS_DEPTH, ENTRY_PROOF_FORMAT, MAX_ENTRY_KEY_BYTES, MAX_POSITIONS, TWIG_SHIFT, UPPER_DEPTH, verifyEntryProof, type EntryProof } from './stateentry.js';
import { STATE_PROOF_FORMAT, stateProofFromJson, stateProofToJson, verifyStateProof, type StateProof, type StateProofJson } from './stateproof.js';

export { ENTRY_PROOF_FORMAT, verifyEntryProof, type EntryProof } from './stateentry.js';

export type VersionedStateProof = { format: typeof STATE_PROOF_FORMAT; proof: StateProof } | { format: typeof ENTRY_PROOF_FORMAT; proof: EntryProof };

/** The proof formats this code verifies. */
export const STATE_PROOF_FORMATS: readonly number[] = [STATE_PROOF_FORMAT, ENTRY_PROOF_FORMAT];

/** Checks a proof of either format against a state root (`value` undefined: the key is absent). Never throws. */
export function verifyVersionedStateProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, p: VersionedStateProof): boolean {
  try {
    if (p.format === STATE_PROOF_FORMAT) return verifyStateProof(root, key, value, p.proof);
    if (p.format === ENTRY_PROOF_FORMAT) return verifyEntryProof(root, key, value, p.proof);
    return false;
  } catch {
    return false;
  }
}

/** JSON form of an EntryProof: keys and hashes as 0x-hex. */
export interface EntryProofJson {
  entry: { key: string; valueHash: string; next: string };
  position: number;
  twigPath: string[];
  bitsLeaf: string;
  bitsPath: string[];
  upperPath: string[];
}

export function entryProofToJson(p: EntryProof): EntryProofJson {
  return {
    entry: { key: toHex(p.entry.key), valueHash: toHex(p.entry.valueHash), next: toHex(p.entry.next) },
    position: p.position,
    twigPath: p.twigPath.map(toHex),
    bitsLeaf: toHex(p.bitsLeaf),
    bitsPath: p.bitsPath.map(toHex),
    upperPath: p.upperPath.map(toHex),
  };
}

const ENTRY_FIELDS = ['entry', 'position', 'twigPath', 'bitsLeaf', 'bitsPath', 'upperPath'];
const ENTRY_ENTRY_FIELDS = ['key', 'valueHash', 'next'];

/** Strict inverse of entryProofToJson; throws ChainError on anything malformed. */
export function entryProofFromJson(j: unknown): EntryProof {
  const fail = (msg: string): never => {
    throw new ChainError(ChainErrorCode.InvalidProof, `state proof: ${msg}`, { value: j });
  };
  const object = (v: unknown, what: string, fields: readonly string[]): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(`${what} must be a JSON object`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!fields.includes(k)) fail(`unknown field "${k}" in ${what}`);
    for (const k of fields) if (o[k] === undefined) fail(`${what} lacks "${k}"`);
    return o;
  };
  const hex = (v: unknown, what: string, length?: number): Uint8Array => {
    if (typeof v !== 'string') return fail(`${what} must be a 0x-hex string`);
    try {
      return fromHex(v, length, `state proof ${what}`);
    } catch (e) {
      return fail((e as Error).message);
    }
  };
  const hashes = (v: unknown, what: string, count: number): Uint8Array[] => {
    if (!Array.isArray(v) || v.length !== count) return fail(`${what} must be an array of ${count} 0x-hex hashes`);
    return v.map((s: unknown, i) => hex(s, `${what}[${i}]`, HASH_LENGTH));
  };
  const o = object(j, 'the proof', ENTRY_FIELDS);
  const e = object(o.entry, 'entry', ENTRY_ENTRY_FIELDS);
  const key = hex(e.key, 'entry.key');
  const next = hex(e.next, 'entry.next');
  if (key.length > MAX_ENTRY_KEY_BYTES || next.length > MAX_ENTRY_KEY_BYTES) fail(`an entry's keys are at most ${MAX_ENTRY_KEY_BYTES} bytes`);
  if (!Number.isSafeInteger(o.position) || (o.position as number) < 0 || (o.position as number) >= MAX_POSITIONS) fail(`position must be an integer from 0 below ${MAX_POSITIONS}`);
  return {
    entry: { key, valueHash: hex(e.valueHash, 'entry.valueHash', HASH_LENGTH), next },
    position: o.position as number,
    twigPath: hashes(o.twigPath, 'twigPath', TWIG_SHIFT),
    bitsLeaf: hex(o.bitsLeaf, 'bitsLeaf', HASH_LENGTH),
    bitsPath: hashes(o.bitsPath, 'bitsPath', BITS_DEPTH),
    upperPath: hashes(o.upperPath, 'upperPath', UPPER_DEPTH),
  };
}

/** What a node serves: `proofFormat` and the proof's JSON. */
export function versionedProofToJson(p: VersionedStateProof): { proofFormat: number; proof: StateProofJson | EntryProofJson } {
  return p.format === STATE_PROOF_FORMAT ? { proofFormat: p.format, proof: stateProofToJson(p.proof) } : { proofFormat: p.format, proof: entryProofToJson(p.proof) };
}

/** Strict inverse of versionedProofToJson; throws ChainError on a format this code does not know or a malformed proof. */
export function versionedProofFromJson(proofFormat: unknown, proof: unknown): VersionedStateProof {
  if (proofFormat === STATE_PROOF_FORMAT) return { format: STATE_PROOF_FORMAT, proof: stateProofFromJson(proof) };
  if (proofFormat === ENTRY_PROOF_FORMAT) return { format: ENTRY_PROOF_FORMAT, proof: entryProofFromJson(proof) };
  throw new ChainError(ChainErrorCode.InvalidProof, `state proof: format ${String(proofFormat)} is not one this code verifies (${STATE_PROOF_FORMATS.join(', ')})`, { value: proofFormat });
}
