import { ADDRESS_LENGTH, asBigint, asBytes, asSafeUint, decodeList, formatAddress, rlpDecode, rlpEncode, toHex, uintBytes, type RlpItem } from '../../../chain/index.js';
import { TxError } from '../../errors.js';
import { EncTxErrorCode as E } from './errors.js';

/** The ENC module's transaction kinds (the part after "enc."). */
export const EncTx = {
  /** An execution node registers itself: capacity, price, GEN bond. */
  Register: 'register',
  /** Changes capacity and price, adds bond. */
  Update: 'update',
  /** Starts leaving: no new jobs; bond and reserve return after the unbonding period. */
  Unregister: 'unregister',
  Unjail: 'unjail',
  /** A client submits a job: its maximum cost is escrowed and it is placed on execution nodes. */
  Submit: 'submit',
  /** An execution node hands in its signed receipt and the output for a job placed on it. */
  Receipt: 'receipt',
  /** Anyone disputes a receipt inside the challenge window, posting the challenge bond. */
  Challenge: 'challenge',
} as const;

export interface NodeArgs {
  /** Jobs it runs at once. */
  slots: number;
  /** KiB of WebAssembly memory its jobs may hold together. */
  memoryKiB: number;
  /** NEX base units per unit of fuel. */
  price: bigint;
  /** GEN base units bonded (register) or added to the bond (update). */
  bond: bigint;
}
export interface SubmitArgs {
  program: Uint8Array;
  input: Uint8Array;
  fuel: number;
  /** The most NEX base units per unit of fuel the client pays a node. */
  maxPrice: bigint;
  replicas: number;
  /** Blocks from inclusion by which every receipt must be in. */
  deadline: number;
}
export interface ReceiptArgs {
  job: Uint8Array;
  /** The DockLock receipt (canonical RLP, signed). */
  receipt: Uint8Array;
  output: Uint8Array;
}
export interface ChallengeArgs {
  job: Uint8Array;
  node: Uint8Array;
}

export type EncArgs =
  | { method: 'register' | 'update'; args: NodeArgs }
  | { method: 'unregister' | 'unjail'; args: Record<string, never> }
  | { method: 'submit'; args: SubmitArgs }
  | { method: 'receipt'; args: ReceiptArgs }
  | { method: 'challenge'; args: ChallengeArgs };

/** register / update: RLP [slots, memoryKiB, price, bond]. */
export const encodeNodeTx = (a: NodeArgs): Uint8Array => rlpEncode([a.slots, a.memoryKiB, uintBytes(a.price), uintBytes(a.bond)]);
/** submit: RLP [program (32), input, fuel, maxPrice, replicas, deadline]. */
export const encodeSubmit = (a: SubmitArgs): Uint8Array => rlpEncode([a.program, a.input, a.fuel, uintBytes(a.maxPrice), a.replicas, a.deadline]);
/** receipt: RLP [job (32), receipt, output]. */
export const encodeReceiptTx = (a: ReceiptArgs): Uint8Array => rlpEncode([a.job, a.receipt, a.output]);
/** challenge: RLP [job (32), node (20)]. */
export const encodeChallenge = (a: ChallengeArgs): Uint8Array => rlpEncode([a.job, a.node]);
/** unregister / unjail: RLP []. */
export const encodeEmpty = (): Uint8Array => rlpEncode([]);

const list = (payload: Uint8Array, n: number, what: string): RlpItem[] => decodeList(rlpDecode(payload, what), n, what);

export function decodeEnc(method: string, payload: Uint8Array): EncArgs {
  const what = `enc.${method.slice(0, 32)}`;
  try {
    switch (method) {
      case EncTx.Register:
      case EncTx.Update: {
        const [slots, mem, price, bond] = list(payload, 4, what);
        return { method, args: { slots: asSafeUint(slots, 'slots'), memoryKiB: asSafeUint(mem, 'memoryKiB'), price: asBigint(price, 'price'), bond: asBigint(bond, 'bond') } };
      }
      case EncTx.Unregister:
      case EncTx.Unjail:
        list(payload, 0, what);
        return { method, args: {} };
      case EncTx.Submit: {
        const [program, input, fuel, maxPrice, replicas, deadline] = list(payload, 6, what);
        return {
          method,
          args: { program: asBytes(program, 'program', 32).slice(), input: asBytes(input, 'input').slice(), fuel: asSafeUint(fuel, 'fuel'), maxPrice: asBigint(maxPrice, 'maxPrice'), replicas: asSafeUint(replicas, 'replicas'), deadline: asSafeUint(deadline, 'deadline') },
        };
      }
      case EncTx.Receipt: {
        const [job, receipt, output] = list(payload, 3, what);
        return { method, args: { job: asBytes(job, 'job', 32).slice(), receipt: asBytes(receipt, 'receipt').slice(), output: asBytes(output, 'output').slice() } };
      }
      case EncTx.Challenge: {
        const [job, node] = list(payload, 2, what);
        return { method, args: { job: asBytes(job, 'job', 32).slice(), node: asBytes(node, 'node', ADDRESS_LENGTH).slice() } };
      }
    }
  } catch (e) {
    throw new TxError(E.InvalidPayload, (e as Error).message);
  }
  throw new TxError(E.InvalidPayload, `enc has no method "${method.slice(0, 64)}"`);
}

export function describeEnc(method: string, payload: Uint8Array): Record<string, string> | undefined {
  try {
    const d = decodeEnc(method, payload);
    switch (d.method) {
      case 'register':
      case 'update':
        return { slots: String(d.args.slots), memory_kib: String(d.args.memoryKiB), price: d.args.price.toString(), bond: d.args.bond.toString() };
      case 'unregister':
      case 'unjail':
        return {};
      case 'submit':
        return { program: toHex(d.args.program), input_bytes: String(d.args.input.length), fuel: String(d.args.fuel), max_price: d.args.maxPrice.toString(), replicas: String(d.args.replicas), deadline: String(d.args.deadline) };
      case 'receipt':
        return { job: toHex(d.args.job), receipt_bytes: String(d.args.receipt.length), output_bytes: String(d.args.output.length) };
      case 'challenge':
        return { job: toHex(d.args.job), node: formatAddress(d.args.node) };
    }
  } catch {
    return undefined;
  }
}
