/**
 * Accounts a benchmark adds to a genesis in bulk (no keys: they only receive): account i's address
 * is the first 20 bytes of sha256("metanode-bench-account" ‖ i as u64), so that the load generator
 * can send to them without a list.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ADDRESS_LENGTH, u64be, utf8 } from '../chain/index.js';

const TAG = utf8('metanode-bench-account');

export function benchAddress(i: number): Uint8Array {
  const input = new Uint8Array(TAG.length + 8);
  input.set(TAG);
  input.set(u64be(i), TAG.length);
  return sha256(input).subarray(0, ADDRESS_LENGTH);
}

/** The bulk account a transfer goes to: spread over all of them, the same for the same (sender, nonce). */
export function benchRecipient(sender: number, nonce: number, accounts: number): number {
  return Number((BigInt(sender) * 7_919n + BigInt(nonce) * 104_729n + 13n) % BigInt(accounts));
}
