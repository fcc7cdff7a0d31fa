import { parseAddress } from '../chain/address.js';
import { fromHex } from '../chain/bytes.js';
import { encodeTransfer, TRANSFER_KIND } from '../vm/modules/bank/codec.js';
import { encodeCourt, type VoteOptionName } from '../vm/modules/court/codec.js';
import { encodeDeploy, encodeRun } from '../vm/modules/docklock/codec.js';
import { encodeChallenge, encodeEmpty, encodeNodeTx, encodeSubmit } from '../vm/modules/enc/codec.js';
import { encodeStaking } from '../vm/modules/staking/codec.js';
import { ClientError, ClientErrorCode } from './errors.js';

/** What a transaction does: its kind and its module's payload (the signed envelope adds chain, nonce, fee). */
export interface TxIntent {
  kind: string;
  payload: Uint8Array;
}

/** An address as bytes, from bytes or text (mn1…, checksummed); a bad one is a ClientError naming `what`. */
export function addressArg(a: Uint8Array | string, what: string): Uint8Array {
  if (typeof a !== 'string') return a;
  try {
    return parseAddress(a);
  } catch (e) {
    throw new ClientError(ClientErrorCode.BadArgument, `${what} "${a}" is not an address: ${(e as Error).message}`);
  }
}

/** An amount in base units, from a bigint or a decimal string of base units. */
export function baseUnits(v: bigint | string, what: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n) throw new ClientError(ClientErrorCode.BadArgument, `${what} must not be negative`);
    return v;
  }
  if (!/^\d+$/.test(v)) throw new ClientError(ClientErrorCode.BadArgument, `${what} "${v}" must be a whole number of base units`);
  return BigInt(v);
}

/** The bank's transactions (vm/modules/bank/codec.ts). */
export const bank = {
  /** bank.transfer: `amount` base units of `asset` to `to`. */
  transfer(a: { to: Uint8Array | string; asset: string; amount: bigint | string }): TxIntent {
    return { kind: TRANSFER_KIND, payload: encodeTransfer({ to: addressArg(a.to, 'to'), asset: a.asset, amount: baseUnits(a.amount, 'amount') }) };
  },
};

/** Bytes from bytes or 0x-hex, checked to be `length` long when given. */
function bytesArg(v: Uint8Array | string, what: string, length?: number): Uint8Array {
  let b: Uint8Array;
  try {
    b = typeof v === 'string' ? fromHex(v, length, what) : v;
  } catch (e) {
    throw new ClientError(ClientErrorCode.BadArgument, `${what}: ${(e as Error).message}`);
  }
  if (length !== undefined && b.length !== length) throw new ClientError(ClientErrorCode.BadArgument, `${what} must be ${length} bytes, not ${b.length}`);
  return b;
}

function count(v: number, what: string, min = 0): number {
  if (!Number.isSafeInteger(v) || v < min) throw new ClientError(ClientErrorCode.BadArgument, `${what} must be a whole number of at least ${min}`);
  return v;
}

/** Staking (vm/modules/staking/codec.ts): GEN amounts in base units. create_validator needs the node's keys and proof of possession: metanode-cli stake create-validator makes it. */
export const staking = {
  delegate: (a: { validator: Uint8Array | string; amount: bigint | string }): TxIntent => ({ kind: 'staking.delegate', payload: encodeStaking({ method: 'delegate', args: { validator: addressArg(a.validator, 'validator'), amount: baseUnits(a.amount, 'amount') } }) }),
  undelegate: (a: { validator: Uint8Array | string; amount: bigint | string }): TxIntent => ({ kind: 'staking.undelegate', payload: encodeStaking({ method: 'undelegate', args: { validator: addressArg(a.validator, 'validator'), amount: baseUnits(a.amount, 'amount') } }) }),
  redelegate: (a: { from: Uint8Array | string; to: Uint8Array | string; amount: bigint | string }): TxIntent => ({ kind: 'staking.redelegate', payload: encodeStaking({ method: 'redelegate', args: { src: addressArg(a.from, 'from'), dst: addressArg(a.to, 'to'), amount: baseUnits(a.amount, 'amount') } }) }),
  /** Withdraws the sender's rewards (and, for the operator, the commission) from a validator. */
  withdraw: (a: { validator: Uint8Array | string }): TxIntent => ({ kind: 'staking.withdraw', payload: encodeStaking({ method: 'withdraw', args: { validator: addressArg(a.validator, 'validator') } }) }),
  unjail: (a: { validator: Uint8Array | string }): TxIntent => ({ kind: 'staking.unjail', payload: encodeStaking({ method: 'unjail', args: { validator: addressArg(a.validator, 'validator') } }) }),
};

/** Governance (vm/modules/court/codec.ts): votes and deposits; a text or spend proposal. */
export const court = {
  vote: (a: { proposal: number; option: VoteOptionName }): TxIntent => ({ kind: 'court.vote', payload: encodeCourt({ method: 'vote', args: { id: count(a.proposal, 'proposal', 1), option: a.option } }) }),
  deposit: (a: { proposal: number; amount: bigint | string }): TxIntent => ({ kind: 'court.deposit', payload: encodeCourt({ method: 'deposit', args: { id: count(a.proposal, 'proposal', 1), amount: baseUnits(a.amount, 'amount') } }) }),
  proposeText: (a: { title: string; summary: string; deposit: bigint | string }): TxIntent => ({
    kind: 'court.propose',
    payload: encodeCourt({ method: 'propose', args: { title: a.title, summary: a.summary, content: { kind: 'text' }, emergency: false, deposit: baseUnits(a.deposit, 'deposit') } }),
  }),
  proposeSpend: (a: { title: string; summary: string; deposit: bigint | string; payments: { to: Uint8Array | string; asset: string; amount: bigint | string }[] }): TxIntent => ({
    kind: 'court.propose',
    payload: encodeCourt({
      method: 'propose',
      args: { title: a.title, summary: a.summary, content: { kind: 'spend', payments: a.payments.map((p, i) => ({ to: addressArg(p.to, `payments[${i}].to`), asset: p.asset, amount: baseUnits(p.amount, `payments[${i}].amount`) })) }, emergency: false, deposit: baseUnits(a.deposit, 'deposit') },
    }),
  }),
};

/** DockLock (vm/modules/docklock/codec.ts): deploy a WebAssembly program, run it in consensus. */
export const docklock = {
  deploy: (a: { code: Uint8Array }): TxIntent => ({ kind: 'docklock.deploy', payload: encodeDeploy({ code: a.code }) }),
  run: (a: { program: Uint8Array | string; input?: Uint8Array | string; fuel: number }): TxIntent => ({
    kind: 'docklock.run',
    payload: encodeRun({ program: bytesArg(a.program, 'program', 32), input: bytesArg(a.input ?? new Uint8Array(0), 'input'), fuel: count(a.fuel, 'fuel', 1) }),
  }),
};

/** ENC (vm/modules/enc/codec.ts): submit a job to the execution nodes; register and manage a node. */
export const enc = {
  submit: (a: { program: Uint8Array | string; input?: Uint8Array | string; fuel: number; maxPrice: bigint | string; replicas: number; deadline: number }): TxIntent => ({
    kind: 'enc.submit',
    payload: encodeSubmit({ program: bytesArg(a.program, 'program', 32), input: bytesArg(a.input ?? new Uint8Array(0), 'input'), fuel: count(a.fuel, 'fuel', 1), maxPrice: baseUnits(a.maxPrice, 'maxPrice'), replicas: count(a.replicas, 'replicas', 1), deadline: count(a.deadline, 'deadline', 1) }),
  }),
  register: (a: { slots: number; memoryKiB: number; price: bigint | string; bond: bigint | string }): TxIntent => ({ kind: 'enc.register', payload: encodeNodeTx({ slots: count(a.slots, 'slots', 1), memoryKiB: count(a.memoryKiB, 'memoryKiB', 1), price: baseUnits(a.price, 'price'), bond: baseUnits(a.bond, 'bond') }) }),
  unregister: (): TxIntent => ({ kind: 'enc.unregister', payload: encodeEmpty() }),
  challenge: (a: { job: Uint8Array | string; node: Uint8Array | string }): TxIntent => ({ kind: 'enc.challenge', payload: encodeChallenge({ job: bytesArg(a.job, 'job', 32), node: addressArg(a.node, 'node') }) }),
};
