import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  ADDRESS_LENGTH,
  BlockHeader,
  EMPTY_MERKLE_ROOT,
  equalBytes,
  HEADER_VERSION,
  ValidatorSet,
  fromHex,
  parseAddress,
} from '../chain/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { GenesisError, GenesisErrorCode } from './errors.js';
import { genesisSchema, type GenesisDoc } from './schema.js';

/** Something that checks its own section of `modules` (a vm Module does). */
export interface GenesisModule {
  readonly name: string;
  validateGenesis(config: unknown): void;
}

function issues(e: z.ZodError, prefix: (string | number)[] = []): string[] {
  return e.issues.map((i) => `${[...prefix, ...i.path].join('.') || '(root)'}: ${i.message}`);
}

/** Validates a parsed genesis document: the common fields, then each module's section. */
/** `anyModules`: the modules' sections were validated before (readGenesisFile); the names are not checked either. */
export function validateGenesis(json: unknown, modules: readonly GenesisModule[], anyModules = false): GenesisDoc {
  const r = genesisSchema.safeParse(json);
  if (!r.success) throw new GenesisError(GenesisErrorCode.Invalid, 'genesis is invalid', issues(r.error));
  const doc = r.data;
  const problems: string[] = [];
  const known = new Set(modules.map((m) => m.name));
  if (!anyModules) for (const name of Object.keys(doc.modules)) if (!known.has(name)) problems.push(`modules.${name}: no such module (known: ${[...known].join(', ')})`);
  for (const m of modules) {
    try {
      m.validateGenesis(doc.modules[m.name]);
    } catch (e) {
      if (e instanceof z.ZodError) problems.push(...issues(e, ['modules', m.name]));
      else problems.push(`modules.${m.name}: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new GenesisError(GenesisErrorCode.Invalid, 'genesis is invalid', problems);
  return doc;
}

/** What an operator can do about a bad genesis file: it cannot be regenerated, only restored. */
const RESTORE_GENESIS = "restore the chain's genesis file (from a backup or the network's published copy)";

export async function loadGenesisFile(path: string, modules: readonly GenesisModule[]): Promise<GenesisDoc> {
  return (await readGenesisFile(path, modules)).doc;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The index after the JSON string that starts at `i` (a quote). */
function skipString(b: Uint8Array, i: number): number {
  for (i++; i < b.length && b[i] !== QUOTE; i++) if (b[i] === BACKSLASH) i++;
  return i + 1;
}

/** The index after the JSON value that starts at `i`. */
function skipValue(b: Uint8Array, i: number): number {
  if (b[i] === QUOTE) return skipString(b, i);
  let depth = 0;
  for (; i < b.length; i++) {
    const c = b[i]!;
    if (c === QUOTE) {
      i = skipString(b, i) - 1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i; // the end of the enclosing object: a scalar value ended
      if (--depth === 0) return i + 1;
    } else if (depth === 0 && (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) return i;
  }
  return i;
}

/**
 * Where the value of the top-level field `field` of a JSON object is in `b` ([start, end)), or
 * undefined. For a file known to be valid JSON (its digest was recorded after it was parsed).
 */
export function topLevelValueSpan(b: Uint8Array, field: string): [number, number] | undefined {
  const want = Buffer.from(JSON.stringify(field));
  let i = 0;
  while (i < b.length && b[i] !== 0x7b) i++;
  for (i++; i < b.length; ) {
    const c = b[i]!;
    if (c === 0x7d) return undefined;
    if (c !== QUOTE) {
      i++;
      continue;
    }
    const keyEnd = skipString(b, i);
    const isField = keyEnd - i === want.length && Buffer.compare(want, b.subarray(i, keyEnd)) === 0;
    i = keyEnd;
    while (i < b.length && b[i] !== 0x3a) i++;
    i++;
    while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
    const end = skipValue(b, i);
    if (isField) return [i, end];
    i = end;
    while (i < b.length && b[i] !== 0x2c && b[i] !== 0x7d) i++;
    if (b[i] === 0x2c) i++;
  }
  return undefined;
}

/** The digest of a genesis file as it is on disk (what a chain records to know its file again). */
export function genesisFileDigest(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/**
 * Reads a genesis file, and its digest. The common fields are always validated; the modules'
 * sections (the bulk of a large genesis: every funded account) only when the digest is not
 * `known`, the one the chain recorded when it was made from this very file and validated it.
 */
export async function readGenesisFile(path: string, modules: readonly GenesisModule[], known?: Uint8Array): Promise<{ doc: GenesisDoc; digest: Uint8Array }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new GenesisError(GenesisErrorCode.NotFound, `cannot read genesis file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${RESTORE_GENESIS}`);
  }
  const digest = genesisFileDigest(bytes);
  const trusted = known !== undefined && equalBytes(known, digest);
  let json: unknown;
  try {
    // A known file's modules are neither checked nor needed: they are skipped unread (a large
    // genesis parsed in full costs seconds and leaves the heap grown by several times its size).
    const span = trusted ? topLevelValueSpan(bytes, 'modules') : undefined;
    const text = span ? Buffer.concat([bytes.subarray(0, span[0]), Buffer.from('{}'), bytes.subarray(span[1])]) : bytes;
    json = JSON.parse(text.toString('utf8'));
  } catch (e) {
    throw new GenesisError(GenesisErrorCode.InvalidJson, `genesis file ${path} is not valid JSON (${(e as Error).message}); ${RESTORE_GENESIS}`);
  }
  try {
    return { doc: validateGenesis(json, trusted ? [] : modules, trusted), digest };
  } catch (e) {
    if (!(e instanceof GenesisError)) throw e;
    throw new GenesisError(e.code, `genesis file ${path} is invalid (${RESTORE_GENESIS})`, e.problems);
  }
}

export function genesisValidatorSet(doc: GenesisDoc): ValidatorSet {
  return new ValidatorSet(
    doc.validators.map((v) => ({
      address: parseAddress(v.address),
      publicKey: fromHex(v.publicKey, 32),
      blsPublicKey: fromHex(v.blsPublicKey, 48),
      power: BigInt(v.power),
    })),
  );
}

/** The state commitment the chain's headers carry (stored.ts StateCommitment): the genesis field's, the sparse Merkle tree when absent. */
export function genesisStateCommitment(doc: GenesisDoc): 'tree' | 'entries' {
  return doc.stateCommitment === 'entry-log' ? 'entries' : 'tree';
}

export function genesisTimestamp(doc: GenesisDoc): number {
  return Date.parse(doc.genesisTime);
}

/** Block 0: no transactions, no proposer, the genesis state root. */
export function genesisHeader(doc: GenesisDoc, stateRoot: Uint8Array): BlockHeader {
  return new BlockHeader({
    version: HEADER_VERSION,
    chainId: doc.chainId,
    height: 0,
    parentHash: new Uint8Array(32),
    timestamp: genesisTimestamp(doc),
    proposer: new Uint8Array(ADDRESS_LENGTH),
    txRoot: EMPTY_MERKLE_ROOT,
    receiptsRoot: EMPTY_MERKLE_ROOT,
    eventsRoot: EMPTY_MERKLE_ROOT,
    stateRoot,
    validatorsHash: genesisValidatorSet(doc).hash(),
    nextValidatorsHash: genesisValidatorSet(doc).hash(),
  });
}
