import { asBytes, asSafeUint, decodeList, rlpDecode, rlpEncode, toHex } from '../../../chain/index.js';
import { TxError } from '../../errors.js';
import { DocklockTxErrorCode as E } from './errors.js';

/** DockLock's transaction kinds (the part after "docklock."). */
export const DocklockTx = {
  /** Stores a program by content hash, validated and charged per byte. */
  Deploy: 'deploy',
  /** Runs a deployed program in consensus: every validator executes it inside the block. */
  Run: 'run',
} as const;

export interface DeployArgs {
  code: Uint8Array;
}
export interface RunArgs {
  program: Uint8Array;
  input: Uint8Array;
  fuel: number;
}
export type DocklockArgs = { method: 'deploy'; args: DeployArgs } | { method: 'run'; args: RunArgs };

/** deploy: RLP [code]. */
export const encodeDeploy = (a: DeployArgs): Uint8Array => rlpEncode([a.code]);
/** run: RLP [programId (32), input, fuel]. */
export const encodeRun = (a: RunArgs): Uint8Array => rlpEncode([a.program, a.input, a.fuel]);

export function decodeDocklock(method: string, payload: Uint8Array): DocklockArgs {
  try {
    if (method === DocklockTx.Deploy) {
      const [code] = decodeList(rlpDecode(payload, 'docklock.deploy'), 1, 'docklock.deploy');
      return { method, args: { code: asBytes(code, 'code').slice() } };
    }
    if (method === DocklockTx.Run) {
      const [program, input, fuel] = decodeList(rlpDecode(payload, 'docklock.run'), 3, 'docklock.run');
      return { method, args: { program: asBytes(program, 'program', 32).slice(), input: asBytes(input, 'input').slice(), fuel: asSafeUint(fuel, 'fuel') } };
    }
  } catch (e) {
    throw new TxError(E.InvalidPayload, (e as Error).message);
  }
  throw new TxError(E.InvalidPayload, `docklock has no method "${method.slice(0, 64)}"`);
}

export function describeDocklock(method: string, payload: Uint8Array): Record<string, string> | undefined {
  try {
    const d = decodeDocklock(method, payload);
    if (d.method === 'deploy') return { bytes: String(d.args.code.length) };
    return { program: toHex(d.args.program), input_bytes: String(d.args.input.length), fuel: String(d.args.fuel) };
  } catch {
    return undefined;
  }
}
