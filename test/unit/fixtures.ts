/**
 * Shared helpers for the chain-core unit tests (vm, consensus, storage, genesis): deterministic
 * keys, a genesis document, an in-memory state machine over it, signed transactions, temp
 * folders and error assertions. Nothing here reads the clock or the random source.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import {
  addressFromPublicKey,
  asBigint,
  BlsKey,
  Ed25519Key,
  formatAddress,
  fromKey,
  rlpDecode,
  signingHash,
  toKey,
  Transaction,
  utf8,
  type UnsignedTransaction,
} from '../../chain/index.js';
import { ValidatorKey } from '../../consensus/keys.js';
import { buildGenesis, devAccountKey, genesisTimestamp, genesisValidatorSet, type GenesisDoc } from '../../genesis/index.js';
import { StateMachine, WorldState, type BlockInfo, type ExecutionResult, type Module, type ModuleRegistry, type WriteSet } from '../../vm/index.js';
import { ASSETS, encodeTransfer, TRANSFER_KIND, type Asset, type BankGenesis, type BankModule } from '../../vm/modules/bank/index.js';
import { createModules } from '../../vm/modules/index.js';
import { SparseMerkleTree } from '../../vm/state/smt.js';

export const CHAIN_ID = 'metanode-test';
export const GENESIS_TIME = new Date('2026-01-01T00:00:00.000Z');
export const MIN_FEE = 1_000n;
export const ZERO_ADDRESS = new Uint8Array(20);

// ---- Keys ----

/** Account key i: the well-known dev account i, which `buildGenesis({ devAccounts })` funds. */
export function accountKey(i: number): Ed25519Key {
  return devAccountKey(i);
}

export function addressOf(key: Ed25519Key): Uint8Array {
  return addressFromPublicKey(key.publicKey);
}

/** Validator key i: Ed25519 from 32 bytes of 0xa0 + i, BLS from KeyGen over 32 bytes of 0xb0 + i. */
export function validatorKey(i = 0): ValidatorKey {
  return new ValidatorKey(Ed25519Key.fromSecret(new Uint8Array(32).fill(0xa0 + i)), BlsKey.fromSeed(new Uint8Array(32).fill(0xb0 + i)));
}

// ---- Genesis ----

export type Balances = Partial<Record<Asset, bigint>>;

export interface TestGenesisOptions {
  chainId?: string;
  genesisTime?: Date;
  validators?: ValidatorKey[];
  /** Number of funded accounts (dev accounts 0..n-1). */
  accounts?: number;
  /** Per-account balances in base units, replacing the dev defaults; absent assets are zero. */
  balances?: Balances[];
  minFee?: bigint;
  stateCommitment?: GenesisDoc['stateCommitment'];
}

/** A genesis document built by `buildGenesis`, with the test's balances and minimum fee. */
export function testGenesis(o: TestGenesisOptions = {}): GenesisDoc {
  const validators = o.validators ?? [validatorKey(0)];
  const accounts = o.balances?.length ?? o.accounts ?? 3;
  const doc = buildGenesis({
    chainId: o.chainId ?? CHAIN_ID,
    genesisTime: o.genesisTime ?? GENESIS_TIME,
    validators: validators.map((v) => ({ publicKey: v.ed25519.publicKey, blsPublicKey: v.bls.publicKey, blsProofOfPossession: v.bls.proofOfPossession() })),
    devAccounts: accounts,
    // The unit harnesses' in-memory state (WorldState) is the sparse Merkle tree's; chains made by
    // `metanode init` and `testnet` (the end-to-end tests') are on the entry log.
    stateCommitment: o.stateCommitment ?? 'sparse-merkle-tree',
  });
  const bank = doc.modules.bank as BankGenesis;
  if (o.minFee !== undefined) bank.minFee = o.minFee.toString();
  if (o.balances) {
    bank.balances = o.balances.map((b, i) => ({
      address: formatAddress(addressOf(accountKey(i))),
      amounts: Object.fromEntries(ASSETS.filter((a) => b[a] !== undefined).map((a) => [a, b[a]!.toString()])),
    }));
  }
  return doc;
}

// ---- State machine ----

export interface TestVm {
  sm: StateMachine;
  bank: BankModule;
  registry: ModuleRegistry;
  /** The state after genesis; tests apply blocks to it. */
  world: WorldState;
  genesis: ExecutionResult;
}

/** The real modules and state machine, with the genesis state applied to an empty world. */
export function genesisVm(doc: GenesisDoc = testGenesis()): TestVm {
  const { registry, bank } = createModules();
  const sm = new StateMachine({ chainId: doc.chainId }, { registry, fees: bank });
  const world = WorldState.fromEntries([], 0, SparseMerkleTree.empty());
  const genesis = sm.genesis(world, { chainId: doc.chainId, height: 0, timestamp: genesisTimestamp(doc), proposer: ZERO_ADDRESS, lastValidators: genesisValidatorSet(doc) }, doc.modules);
  world.apply(genesis.writes, genesis.tree, 0);
  return { sm, bank, registry, world, genesis };
}

export function blockInfo(height: number, proposer: Uint8Array, chainId = CHAIN_ID): BlockInfo {
  return { chainId, height, timestamp: GENESIS_TIME.getTime() + height * 1000, proposer };
}

/** A plain copy of every key and value, kept beside a WorldState (which cannot be listed). */
export class StateMap {
  readonly data = new Map<string, Uint8Array>();

  apply(writes: WriteSet): void {
    for (const [k, v] of writes) {
      if (v === null) this.data.delete(k);
      else this.data.set(k, v);
    }
  }

  clone(): StateMap {
    const c = new StateMap();
    for (const [k, v] of this.data) c.data.set(k, v);
    return c;
  }

  /** Every `bank/bal/<address><asset>` entry, decoded. */
  balances(): { address: string; asset: string; amount: bigint }[] {
    const prefix = 'bank/bal/';
    const out: { address: string; asset: string; amount: bigint }[] = [];
    for (const [k, v] of this.data) {
      if (!k.startsWith(prefix)) continue;
      const rest = fromKey(k.slice(prefix.length));
      out.push({ address: toKey(rest.subarray(0, 20)), asset: Buffer.from(rest.subarray(20)).toString('utf8'), amount: asBigint(rlpDecode(v, 'balance'), 'balance') });
    }
    return out;
  }

  /** The sum of every stored balance of `asset`. */
  total(asset: string): bigint {
    return this.balances()
      .filter((b) => b.asset === asset)
      .reduce((s, b) => s + b.amount, 0n);
  }
}

// ---- Transactions ----

/** Signs a transaction with `key` as the sender; unspecified fields get working defaults. */
export function signedTx(key: Ed25519Key, f: Partial<UnsignedTransaction> & { nonce: bigint }): Transaction {
  return Transaction.sign({ chainId: CHAIN_ID, sender: key.publicKey, fee: MIN_FEE, kind: TRANSFER_KIND, payload: new Uint8Array(0), ...f }, key);
}

export interface TransferOptions {
  fee?: bigint;
  chainId?: string;
}

/** A signed bank.transfer of `amount` base units of `asset` from `key` to `to`. */
export function transferTx(key: Ed25519Key, nonce: bigint, to: Uint8Array, asset: string, amount: bigint, o: TransferOptions = {}): Transaction {
  return signedTx(key, { nonce, fee: o.fee ?? MIN_FEE, chainId: o.chainId ?? CHAIN_ID, payload: encodeTransfer({ to, asset, amount }) });
}

/** The same fields as `tx`, signed by someone else: the signature does not verify for the sender. */
export function withForeignSignature(tx: Transaction, signer: Ed25519Key): Transaction {
  return new Transaction({ ...tx.unsigned(), signature: signer.sign(signingHash(tx)) });
}

export const bytes = (s: string): Uint8Array => utf8(s);

// ---- Environment ----

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A fresh folder under the OS temp dir; remove it with `removeDir`. */
export async function tempDir(prefix = 'metanode-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

// ---- Errors ----

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return expect.fail('expected an exception, but none was thrown');
}

export async function rejectionOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return expect.fail('expected a rejection, but the promise resolved');
}

/** Asserts that `err` is an `cls` whose `code` is `code`, and returns it typed. */
export function expectCode<E extends Error & { code: string }>(err: unknown, cls: ErrorClass<E>, code: string): E {
  expect(err, `expected a ${cls.name} with code ${code}, got ${String(err)}`).to.be.instanceOf(cls);
  expect((err as E).code, (err as Error).message).to.equal(code);
  return err as E;
}

export function expectThrowsCode<E extends Error & { code: string }>(fn: () => unknown, cls: ErrorClass<E>, code: string): E {
  return expectCode(thrownBy(fn), cls, code);
}

export async function expectRejectsCode<E extends Error & { code: string }>(fn: () => Promise<unknown>, cls: ErrorClass<E>, code: string): Promise<E> {
  return expectCode(await rejectionOf(fn), cls, code);
}

/** A module with no transactions, no genesis state and no queries: only an end-block hook (for tests of what hooks do). */
export function endBlockModule(name: string, endBlock: NonNullable<Module['endBlock']>): Module {
  return {
    name,
    methods: [],
    decodePayload: () => undefined,
    validateGenesis: () => undefined,
    initGenesis: () => undefined,
    endBlock,
    deliverTx: () => undefined,
    query: () => undefined,
  };
}
