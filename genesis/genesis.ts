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
    json = JSON.parse(bytes.toString('utf8'));
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
