/**
 * Bulk genesis files. A genesis of millions of funded accounts does not fit one JSON document (V8
 * caps a string at ~512 MiB, and a parsed document is several times its size), so a module's
 * section may name a JSON Lines file of its bulk items instead: `"bulkFile": { "path":
 * "balances.jsonl", "sha256": "0x…" }`, the path relative to the genesis file. The sha256 is of
 * the file's bytes and sits in the genesis file, so the genesis file's digest commits to it.
 *
 * The file is read twice, streaming: once to check its digest before any of its items is used, then
 * for its items, a chunk at a time (each line one JSON value, none blank; the last may end with a
 * newline or not), hashed
 * again on the way so that a file changed in between is refused too. Memory: one chunk.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GenesisError, GenesisErrorCode } from './errors.js';

/** A line longer than this is refused (a file that is not JSON Lines would otherwise be read whole). */
const MAX_LINE = 1024 * 1024;

/** What a module's section says of its bulk file (validated by the module's schema). */
export interface BulkFileRef {
  path: string;
  /** 0x + 64 lowercase hex digits. */
  sha256: string;
}

/** A chunk of a bulk file's items, and the line of its first (from 1). */
export interface BulkChunk {
  items: unknown[];
  firstLine: number;
}

/** The bulk file a module's genesis section names, if it names one. */
export function bulkFileOf(section: unknown): BulkFileRef | undefined {
  const ref = (section as { bulkFile?: unknown } | undefined)?.bulkFile as BulkFileRef | undefined;
  return ref && typeof ref.path === 'string' && typeof ref.sha256 === 'string' ? ref : undefined;
}

/** Where a bulk file named by the genesis file at `genesisPath` is. */
export function bulkFilePath(genesisPath: string, ref: BulkFileRef): string {
  return resolve(dirname(genesisPath), ref.path);
}

async function* bytesOf(path: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
  } catch (e) {
    throw new GenesisError(GenesisErrorCode.NotFound, `cannot read the genesis bulk file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); restore it beside the genesis file`);
  }
}

function checkDigest(path: string, got: string, ref: BulkFileRef, when: string): void {
  if (`0x${got}` !== ref.sha256) {
    throw new GenesisError(GenesisErrorCode.Invalid, `the genesis bulk file ${path} has sha256 0x${got}${when}, not the ${ref.sha256} the genesis file names: it is not the file this genesis was made with`);
  }
}

/**
 * The items of the bulk file `ref` names (relative to the genesis file at `genesisPath`), in
 * chunks of `chunkItems`, after its digest is checked. Throws GenesisError for a missing file, a
 * digest that does not match (before the first chunk, or at the end if the file changed while it
 * was read) and a line that is blank or not JSON (naming it). Items are numbered by line:
 * items[i] of a chunk is line firstLine + i.
 */
export async function* readBulkFile(genesisPath: string, ref: BulkFileRef, chunkItems = 10_000): AsyncGenerator<BulkChunk> {
  const path = bulkFilePath(genesisPath, ref);
  const first = createHash('sha256');
  for await (const chunk of bytesOf(path)) first.update(chunk);
  checkDigest(path, first.digest('hex'), ref, '');
  const digest = createHash('sha256');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let items: unknown[] = [];
  let firstLine = 1;
  let line = 0;
  let rest: Buffer = Buffer.alloc(0);
  const tooLong = (n: number): GenesisError => new GenesisError(GenesisErrorCode.InvalidJson, `the genesis bulk file ${path}, line ${n}: longer than ${MAX_LINE} bytes (one item a line)`);
  const take = (bytes: Buffer): void => {
    line++;
    if (bytes.length > MAX_LINE) throw tooLong(line);
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new GenesisError(GenesisErrorCode.InvalidJson, `the genesis bulk file ${path}, line ${line}: not UTF-8`);
    }
    if (text.trim() === '') throw new GenesisError(GenesisErrorCode.InvalidJson, `the genesis bulk file ${path}, line ${line}: blank (every line is one item)`);
    if (items.length === 0) firstLine = line;
    try {
      items.push(JSON.parse(text));
    } catch (e) {
      throw new GenesisError(GenesisErrorCode.InvalidJson, `the genesis bulk file ${path}, line ${line}: not valid JSON (${(e as Error).message})`);
    }
  };
  for await (const chunk of bytesOf(path)) {
    digest.update(chunk);
    let data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
      take(data.subarray(0, nl));
      data = data.subarray(nl + 1);
      if (items.length >= chunkItems) {
        yield { items, firstLine };
        items = [];
      }
    }
    if (data.length > MAX_LINE) throw tooLong(line + 1);
    rest = Buffer.from(data); // a copy: the stream's chunk is not kept
  }
  if (rest.length) take(rest);
  checkDigest(path, digest.digest('hex'), ref, ' now (it changed while it was read)');
  if (items.length) yield { items, firstLine };
}
