import {
  Ed25519Key,
  HashTag,
  addressFromPublicKey,
  asBytes,
  asSafeUint,
  asString,
  decodeList,
  ed25519Verify,
  equalBytes,
  formatAddress,
  fromHex,
  rlpDecode,
  rlpEncode,
  taggedHash,
  toHex,
  type RlpItem,
} from '../chain/index.js';
import { DocklockError, DocklockErrorCode as E } from './errors.js';
import { JOB_STATUS_NAMES, JobStatus, type JobCaps, type JobResult, type Usage } from './runtime.js';

export const RECEIPT_VERSION = 1;

/** Everything a DockLock receipt binds. */
export interface ReceiptFields {
  jobId: Uint8Array;
  /** The tagged hash of the instrumented module (so the instrumenter's version is in it). */
  programHash: Uint8Array;
  inputHash: Uint8Array;
  fuelLimit: number;
  fuelUsed: number;
  /** The virtual clock the job ran with (ms). */
  clock: bigint;
  status: JobStatus;
  trap: string;
  outputHash: Uint8Array;
  witnessRoot: Uint8Array;
  usage: Usage;
  /** The caps the job ran under (a re-execution runs under the same ones). */
  caps: JobCaps;
  /** The executor's Ed25519 public key (its address derives from it); empty for an unsigned receipt. */
  executor: Uint8Array;
  /** The hash of the executor's previous receipt (its hash chain); empty for its first, or unsigned. */
  prev: Uint8Array;
  /** Ed25519 over hash(); empty when unsigned. */
  signature: Uint8Array;
}

const HASH = 32;

/**
 * A DockLock receipt. RLP: [version, jobId, programHash, inputHash, fuelLimit, fuelUsed, clock,
 * status, trap, outputHash, witnessRoot, [memoryPages, hostCalls, outputBytes, logBytes],
 * [fuelCap, maxInputBytes, maxOutputBytes, maxLogBytes, maxLogLines], executor, prev, signature]; hash() is the tagged BLAKE3 of the list without the signature, and
 * is what the executor signs.
 */
export class DocklockReceipt implements ReceiptFields {
  readonly jobId!: Uint8Array;
  readonly programHash!: Uint8Array;
  readonly inputHash!: Uint8Array;
  readonly fuelLimit!: number;
  readonly fuelUsed!: number;
  readonly clock!: bigint;
  readonly status!: JobStatus;
  readonly trap!: string;
  readonly outputHash!: Uint8Array;
  readonly witnessRoot!: Uint8Array;
  readonly usage!: Usage;
  readonly caps!: JobCaps;
  readonly executor!: Uint8Array;
  readonly prev!: Uint8Array;
  readonly signature!: Uint8Array;
  private _hash?: Uint8Array;

  constructor(f: ReceiptFields) {
    for (const k of ['jobId', 'programHash', 'inputHash', 'outputHash', 'witnessRoot'] as const) if (f[k].length !== HASH) throw new DocklockError(E.BadReceipt, `receipt ${k} must be 32 bytes`);
    if (f.executor.length !== 0 && f.executor.length !== 32) throw new DocklockError(E.BadReceipt, 'receipt executor must be an Ed25519 public key (32 bytes) or empty');
    if (f.prev.length !== 0 && f.prev.length !== HASH) throw new DocklockError(E.BadReceipt, 'receipt prev must be 32 bytes or empty');
    if (f.signature.length !== 0 && f.signature.length !== 64) throw new DocklockError(E.BadReceipt, 'receipt signature must be 64 bytes or empty');
    if (!(f.status in JOB_STATUS_NAMES)) throw new DocklockError(E.BadReceipt, `receipt status ${f.status} is unknown`);
    if (f.fuelUsed > f.fuelLimit) throw new DocklockError(E.BadReceipt, 'receipt fuelUsed exceeds fuelLimit');
    if (f.clock < 0n || f.clock >= 1n << 64n) throw new DocklockError(E.BadReceipt, 'receipt clock must be a u64');
    if (new TextEncoder().encode(f.trap).length > 64) throw new DocklockError(E.BadReceipt, 'receipt trap must be at most 64 bytes');
    // `f` is often another receipt spread ({ ...r, signature }): its cached hash must not come along.
    for (const [k, v] of Object.entries(f.caps)) if (!Number.isSafeInteger(v) || v < 0) throw new DocklockError(E.BadReceipt, `receipt caps.${k} must be a non-negative integer`);
    const c = f.caps;
    // Fields in one order (the RLP's), so that two equal receipts have equal JSON.
    const caps: JobCaps = { fuelCap: c.fuelCap, maxInputBytes: c.maxInputBytes, maxOutputBytes: c.maxOutputBytes, maxLogBytes: c.maxLogBytes, maxLogLines: c.maxLogLines };
    const u = f.usage;
    const usage: Usage = { memoryPages: u.memoryPages, hostCalls: u.hostCalls, outputBytes: u.outputBytes, logBytes: u.logBytes };
    Object.assign(this, { ...f, usage, caps, _hash: undefined });
  }

  private body(): RlpItem[] {
    const u = this.usage;
    const c = this.caps;
    return [RECEIPT_VERSION, this.jobId, this.programHash, this.inputHash, this.fuelLimit, this.fuelUsed, this.clock, this.status, this.trap, this.outputHash, this.witnessRoot, [u.memoryPages, u.hostCalls, u.outputBytes, u.logBytes], [c.fuelCap, c.maxInputBytes, c.maxOutputBytes, c.maxLogBytes, c.maxLogLines], this.executor, this.prev] as unknown as RlpItem[];
  }

  serialize(): Uint8Array {
    return rlpEncode([...this.body(), this.signature] as never);
  }

  /** The tagged hash of everything but the signature: what the executor signs, and what the next receipt's prev names. */
  hash(): Uint8Array {
    return (this._hash ??= taggedHash(HashTag.DocklockReceipt, rlpEncode(this.body() as never)));
  }

  get signed(): boolean {
    return this.signature.length > 0;
  }

  /** The executor's address, or undefined for an unsigned receipt. */
  get executorAddress(): Uint8Array | undefined {
    return this.executor.length ? addressFromPublicKey(this.executor) : undefined;
  }

  /** This receipt signed by `key`, chained after `prev` (its previous receipt's hash). */
  sign(key: Ed25519Key, prev: Uint8Array = new Uint8Array(0)): DocklockReceipt {
    const unsigned = new DocklockReceipt({ ...this, executor: key.publicKey, prev, signature: new Uint8Array(0) });
    return new DocklockReceipt({ ...unsigned, signature: key.sign(unsigned.hash()) });
  }

  /** True when the signature is the executor's over hash() (false for an unsigned receipt). */
  verifySignature(): boolean {
    return this.signed && ed25519Verify(this.executor, this.hash(), this.signature);
  }

  toJson(): ReceiptJson {
    const exec = this.executorAddress;
    return {
      version: RECEIPT_VERSION,
      hash: toHex(this.hash()),
      jobId: toHex(this.jobId),
      programHash: toHex(this.programHash),
      inputHash: toHex(this.inputHash),
      fuelLimit: this.fuelLimit,
      fuelUsed: this.fuelUsed,
      clock: this.clock.toString(),
      status: JOB_STATUS_NAMES[this.status],
      trap: this.trap,
      outputHash: toHex(this.outputHash),
      witnessRoot: toHex(this.witnessRoot),
      usage: { ...this.usage },
      caps: { ...this.caps },
      executor: exec ? formatAddress(exec) : null,
      executorKey: this.executor.length ? toHex(this.executor) : null,
      prev: this.prev.length ? toHex(this.prev) : null,
      signature: this.signature.length ? toHex(this.signature) : null,
      bytes: toHex(this.serialize()),
    };
  }
}

export interface ReceiptJson {
  version: number;
  hash: string;
  jobId: string;
  programHash: string;
  inputHash: string;
  fuelLimit: number;
  fuelUsed: number;
  clock: string;
  status: string;
  trap: string;
  outputHash: string;
  witnessRoot: string;
  usage: Usage;
  caps: JobCaps;
  executor: string | null;
  executorKey: string | null;
  prev: string | null;
  signature: string | null;
  /** The canonical RLP, hex: what `decodeReceipt` reads. */
  bytes: string;
}

/** Strict decoding: the field count, each length, canonical integers, a known version and status. */
export function decodeReceipt(bytes: Uint8Array): DocklockReceipt {
  try {
    const f = decodeList(rlpDecode(bytes, 'docklock receipt'), 16, 'docklock receipt');
    const version = asSafeUint(f[0], 'receipt version');
    if (version !== RECEIPT_VERSION) throw new DocklockError(E.BadReceipt, `receipt version ${version} is not ${RECEIPT_VERSION}`);
    const usage = decodeList(f[11]!, 4, 'receipt usage').map((x, i) => asSafeUint(x, `receipt usage[${i}]`));
    const caps = decodeList(f[12]!, 5, 'receipt caps').map((x, i) => asSafeUint(x, `receipt caps[${i}]`));
    const clockBytes = asBytes(f[6], 'receipt clock');
    if (clockBytes.length > 8) throw new DocklockError(E.BadReceipt, 'receipt clock must be a u64');
    const r = new DocklockReceipt({
      jobId: asBytes(f[1], 'receipt jobId', HASH),
      programHash: asBytes(f[2], 'receipt programHash', HASH),
      inputHash: asBytes(f[3], 'receipt inputHash', HASH),
      fuelLimit: asSafeUint(f[4], 'receipt fuelLimit'),
      fuelUsed: asSafeUint(f[5], 'receipt fuelUsed'),
      clock: readBig(clockBytes),
      status: asSafeUint(f[7], 'receipt status') as JobStatus,
      trap: asString(f[8], 'receipt trap', 64),
      outputHash: asBytes(f[9], 'receipt outputHash', HASH),
      witnessRoot: asBytes(f[10], 'receipt witnessRoot', HASH),
      usage: { memoryPages: usage[0]!, hostCalls: usage[1]!, outputBytes: usage[2]!, logBytes: usage[3]! },
      caps: { fuelCap: caps[0]!, maxInputBytes: caps[1]!, maxOutputBytes: caps[2]!, maxLogBytes: caps[3]!, maxLogLines: caps[4]! },
      executor: asBytes(f[13], 'receipt executor'),
      prev: asBytes(f[14], 'receipt prev'),
      signature: asBytes(f[15], 'receipt signature'),
    });
    if (!equalBytes(r.serialize(), bytes)) throw new DocklockError(E.BadReceipt, 'receipt is not in canonical form');
    if (r.signed !== (r.executor.length > 0)) throw new DocklockError(E.BadReceipt, 'a receipt has both an executor and a signature, or neither');
    if (!r.signed && r.prev.length) throw new DocklockError(E.BadReceipt, 'an unsigned receipt names no previous receipt');
    return r;
  } catch (e) {
    if (e instanceof DocklockError) throw e;
    throw new DocklockError(E.BadReceipt, `not a DockLock receipt: ${(e as Error).message}`);
  }
}

function readBig(b: Uint8Array): bigint {
  if (b.length > 0 && b[0] === 0) throw new DocklockError(E.BadReceipt, 'receipt clock has leading zero bytes');
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** A receipt from its hex form or its JSON (`bytes`, as `metanode docklock run` prints it). */
export function parseReceipt(text: string): DocklockReceipt {
  const t = text.trim();
  if (t.startsWith('{')) {
    let j: unknown;
    try {
      j = JSON.parse(t);
    } catch {
      throw new DocklockError(E.BadReceipt, 'the receipt file is neither hex nor JSON');
    }
    const o = j as { receipt?: { bytes?: unknown }; bytes?: unknown };
    const hex = o.receipt?.bytes ?? o.bytes;
    if (typeof hex !== 'string') throw new DocklockError(E.BadReceipt, 'the receipt JSON has no "bytes" (nor "receipt.bytes")');
    return decodeReceipt(fromHex(hex.startsWith('0x') ? hex : `0x${hex}`, undefined, 'receipt'));
  }
  return decodeReceipt(fromHex(t.startsWith('0x') ? t : `0x${t}`, undefined, 'receipt'));
}

/** The receipt a result gives (unsigned: sign() it). */
export function receiptOf(job: { jobId: Uint8Array; programHash: Uint8Array; inputHash: Uint8Array; fuel: number; clock: bigint; caps: JobCaps }, result: JobResult): DocklockReceipt {
  return new DocklockReceipt({
    jobId: job.jobId,
    programHash: job.programHash,
    inputHash: job.inputHash,
    fuelLimit: job.fuel,
    fuelUsed: result.fuelUsed,
    clock: job.clock,
    status: result.status,
    trap: result.trap,
    outputHash: result.outputHash,
    witnessRoot: result.witnessRoot,
    usage: result.usage,
    caps: job.caps,
    executor: new Uint8Array(0),
    prev: new Uint8Array(0),
    signature: new Uint8Array(0),
  });
}

/** The fields a re-execution decides, and how each reads in a difference. */
const RESULT_FIELDS = ['jobId', 'programHash', 'inputHash', 'fuelLimit', 'clock', 'caps', 'status', 'trap', 'fuelUsed', 'outputHash', 'witnessRoot', 'usage'] as const;

export interface FieldDifference {
  field: string;
  claimed: string;
  actual: string;
}

/** Which result fields of `claimed` differ from `actual` (a re-execution's receipt), each with both values. */
export function diffReceipts(claimed: DocklockReceipt, actual: DocklockReceipt): FieldDifference[] {
  const a = claimed.toJson() as unknown as Record<string, unknown>;
  const b = actual.toJson() as unknown as Record<string, unknown>;
  const out: FieldDifference[] = [];
  for (const k of RESULT_FIELDS) {
    const x = JSON.stringify(a[k]);
    const y = JSON.stringify(b[k]);
    if (x !== y) out.push({ field: k, claimed: x, actual: y });
  }
  return out;
}
