import { ADDRESS_LENGTH, asBytes, asSafeUint, decodeList, rlpDecode, rlpEncode, toKey } from '../../../chain/index.js';

/**
 * Every DockLock record's key and encoding, built here and nowhere else, all under "docklock/".
 * Programs by id (the tagged hash of their bytes), jobs by id (the run transaction's hash).
 */
const P = 'docklock/';
export const Keys = {
  program: (id: Uint8Array) => `${P}program/${toKey(id)}`,
  job: (id: Uint8Array) => `${P}job/${toKey(id)}`,
  /** [height, fuel] of the in-consensus runs of the block being executed (the per-block fuel budget). */
  blockFuel: `${P}block_fuel`,
} as const;

export interface ProgramRecord {
  code: Uint8Array;
  /** The tagged hash of the instrumented module (the receipts' programHash). */
  instrumentedHash: Uint8Array;
  deployer: Uint8Array;
  height: number;
}
/** RLP [code, instrumentedHash, deployer, height]. */
export const encodeProgram = (p: ProgramRecord): Uint8Array => rlpEncode([p.code, p.instrumentedHash, p.deployer, p.height]);
export function decodeProgram(b: Uint8Array): ProgramRecord {
  const [code, ih, deployer, height] = decodeList(rlpDecode(b, 'docklock program'), 4, 'docklock program');
  return { code: asBytes(code, 'code'), instrumentedHash: asBytes(ih, 'instrumentedHash', 32), deployer: asBytes(deployer, 'deployer', ADDRESS_LENGTH), height: asSafeUint(height, 'height') };
}

export interface JobRecord {
  /** The DockLock receipt (canonical RLP). */
  receipt: Uint8Array;
  program: Uint8Array;
  input: Uint8Array;
  output: Uint8Array;
  sender: Uint8Array;
  height: number;
}
/** RLP [receipt, program, input, output, sender, height]. */
export const encodeJob = (j: JobRecord): Uint8Array => rlpEncode([j.receipt, j.program, j.input, j.output, j.sender, j.height]);
export function decodeJob(b: Uint8Array): JobRecord {
  const [receipt, program, input, output, sender, height] = decodeList(rlpDecode(b, 'docklock job'), 6, 'docklock job');
  return { receipt: asBytes(receipt, 'receipt'), program: asBytes(program, 'program', 32), input: asBytes(input, 'input'), output: asBytes(output, 'output'), sender: asBytes(sender, 'sender', ADDRESS_LENGTH), height: asSafeUint(height, 'height') };
}

/** RLP [height, fuel]. */
export const encodeBlockFuel = (height: number, fuel: number): Uint8Array => rlpEncode([height, fuel]);
export function decodeBlockFuel(b: Uint8Array): { height: number; fuel: number } {
  const [h, f] = decodeList(rlpDecode(b, 'docklock block fuel'), 2, 'docklock block fuel');
  return { height: asSafeUint(h, 'height'), fuel: asSafeUint(f, 'fuel') };
}
