/** Building and sending bank transfers from the well-known dev accounts, with library code. */
import { Transaction, addressFromPublicKey, formatAddress, parseAddress, toHex, type Ed25519Key } from '../../chain/index.js';
import { devAccountKey } from '../../genesis/index.js';
import { TRANSFER_KIND, encodeTransfer } from '../../vm/modules/bank/index.js';
import type { AccountJson, Asset, ReceiptJson, RpcClient } from './client.js';

/** The bank's minimum fee in a genesis written by `metanode init` (NEX base units). */
export const MIN_FEE = 1000n;

export function devKey(i: number): Ed25519Key {
  return devAccountKey(i);
}

export function devAddress(i: number): string {
  return formatAddress(addressFromPublicKey(devAccountKey(i).publicKey));
}

export function addressOf(key: Ed25519Key): string {
  return formatAddress(addressFromPublicKey(key.publicKey));
}

export interface TransferSpec {
  chainId: string;
  /** A dev account index or any key. */
  from: number | Ed25519Key;
  /** An mn1… address, a dev account index or raw 20 bytes. */
  to: string | number | Uint8Array;
  asset?: Asset;
  amount: bigint;
  nonce: bigint | number;
  fee?: bigint;
}

export function signTransfer(s: TransferSpec): Transaction {
  const key = typeof s.from === 'number' ? devAccountKey(s.from) : s.from;
  const to = typeof s.to === 'number' ? parseAddress(devAddress(s.to)) : typeof s.to === 'string' ? parseAddress(s.to) : s.to;
  return Transaction.sign(
    {
      chainId: s.chainId,
      nonce: BigInt(s.nonce),
      sender: key.publicKey,
      fee: s.fee ?? MIN_FEE,
      kind: TRANSFER_KIND,
      payload: encodeTransfer({ to, asset: s.asset ?? 'NEX', amount: s.amount }),
    },
    key,
  );
}

/** The hex a tx_send takes. */
export function rawHex(tx: Transaction): string {
  return toHex(tx.serialize());
}

export async function getAccount(rpc: RpcClient, address: string): Promise<AccountJson> {
  return rpc.call<AccountJson>('state_getAccount', [address]);
}

/** Signs a transfer at the sender's next nonce (from state) unless one is given, and sends it. */
export async function sendTransfer(rpc: RpcClient, s: Omit<TransferSpec, 'nonce'> & { nonce?: bigint | number }): Promise<{ tx: Transaction; hash: string }> {
  const from = typeof s.from === 'number' ? devAddress(s.from) : addressOf(s.from);
  const nonce = s.nonce ?? (await getAccount(rpc, from)).nonce;
  const tx = signTransfer({ ...s, nonce });
  const { hash } = await rpc.call<{ hash: string }>('tx_send', [rawHex(tx)]);
  if (hash !== toHex(tx.hash())) throw new Error(`tx_send returned ${hash}, expected ${toHex(tx.hash())}`);
  return { tx, hash };
}

/** Polls chain_getReceipt until the transaction is committed. */
export async function waitForReceipt(rpc: RpcClient, hash: string, timeoutMs = 15_000): Promise<ReceiptJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await rpc.call<ReceiptJson | null>('chain_getReceipt', [hash]);
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`transaction ${hash} was not committed within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Polls chain_getHead until its height is at least `height`; returns that height. */
export async function waitForHeight(rpc: RpcClient, height: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = (await rpc.call<{ height: number }>('chain_getHead')).height;
    if (h >= height) return h;
    if (Date.now() > deadline) throw new Error(`head stayed at ${h}, below ${height}, for ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
