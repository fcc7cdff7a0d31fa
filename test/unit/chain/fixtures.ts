/**
 * Fixed keys and objects for the chain golden-vector tests. Everything here is deterministic:
 * Ed25519 and BLS signatures depend only on the key and the message, so the encodings and
 * hashes built from these fixtures are frozen as hex strings in the tests.
 */
import { expect } from 'chai';
import {
  addressFromPublicKey,
  Block,
  BlockHeader,
  BlsKey,
  ChainError,
  CommitCertificate,
  commitVoteMessage,
  Ed25519Key,
  HEADER_VERSION,
  merkleRoot,
  Receipt,
  ReceiptStatus,
  rlpEncode,
  Transaction,
  txRoot,
  uintBytes,
  utf8,
  ValidatorSet,
  type ChainErrorCode,
} from '../../../chain/index.js';

export const CHAIN_ID = 'metanode-golden';

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function unhex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'));
}

export function filled(byte: number, length = 32): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

/** A copy of `b` with bit `bit` (0 = LSB of byte 0) flipped. */
export function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(b);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

/** Runs `fn`, expecting a ChainError with `code` (and a message matching `message`, when given). */
export function expectChainError(fn: () => unknown, code: ChainErrorCode, message?: RegExp): ChainError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected a ChainError with code ${code}`).to.be.instanceOf(ChainError);
  const err = thrown as ChainError;
  expect(err.code, err.message).to.equal(code);
  if (message) expect(err.message).to.match(message);
  return err;
}

// ---- Raw RLP builders, for feeding decoders encodings that rlpEncode would never produce. ----

function lengthPrefix(len: number, offset: number, forceLong = false): Uint8Array {
  if (len < 56 && !forceLong) return Uint8Array.of(offset + len);
  const lenBytes = uintBytes(len).length === 0 ? Uint8Array.of(0) : uintBytes(len);
  return Uint8Array.of(offset + 55 + lenBytes.length, ...lenBytes);
}

/** An RLP list around items that are already encoded (each may be non-canonical). */
export function rawList(encodedItems: Uint8Array[], forceLong = false): Uint8Array {
  const body = Buffer.concat(encodedItems);
  return new Uint8Array(Buffer.concat([lengthPrefix(body.length, 0xc0, forceLong), body]));
}

/** A byte string with an explicit 0x80+len prefix, even for a single byte below 0x80. */
export function prefixedString(data: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([Uint8Array.of(0x80 + data.length), data]));
}

/** A byte string in long form (0xb8 len ...), even when it is 55 bytes or shorter. */
export function longFormString(data: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([lengthPrefix(data.length, 0x80, true), data]));
}

/** The canonical encoding of each top-level field of an RLP list, so single fields can be swapped. */
export function encodedFields(fields: Array<Uint8Array | unknown[]>): Uint8Array[] {
  return fields.map((f) => rlpEncode(f as Uint8Array));
}

// ---- Keys ----

/** Ed25519 key i (1-based): secret = 32 bytes of i. */
export function edKey(i: number): Ed25519Key {
  return Ed25519Key.fromSecret(filled(i));
}

/** BLS key i (1-based): derived with KeyGen from 32 bytes of 0x40 + i. */
export function blsKey(i: number): BlsKey {
  return BlsKey.fromSeed(filled(0x40 + i));
}

export interface ValidatorKeys {
  ed: Ed25519Key;
  bls: BlsKey;
}

/** Validators 1..4 with powers 10, 20, 30, 40, and their keys indexed by their position in the set. */
export function validatorFixture(): { set: ValidatorSet; keys: ValidatorKeys[] } {
  const all = [1, 2, 3, 4].map((i) => ({ ed: edKey(i), bls: blsKey(i), power: BigInt(10 * i) }));
  const set = new ValidatorSet(
    all.map((k) => ({ address: addressFromPublicKey(k.ed.publicKey), publicKey: k.ed.publicKey, blsPublicKey: k.bls.publicKey, power: k.power })),
  );
  const keys = set.validators.map((v) => all.find((k) => hex(k.ed.publicKey) === hex(v.publicKey))!);
  return { set, keys };
}

/**
 * The fixture's validators with power 1 each (quorum 3 of 4): the golden certificates, signed by
 * validators 0, 1 and 2, were made when a quorum was a count; with the fixture's powers (10, 30,
 * 20, 40 in set order) those three hold 60 of 100, short of the 67 a quorum needs.
 */
export function equalPowerFixture(): ValidatorSet {
  return new ValidatorSet(validatorFixture().set.validators.map((v) => ({ ...v, power: 1n })));
}

// ---- Objects ----

export function txFixture(): Transaction {
  const sender = edKey(1);
  const to = addressFromPublicKey(edKey(2).publicKey);
  return Transaction.sign(
    {
      chainId: CHAIN_ID,
      nonce: 7n,
      sender: sender.publicKey,
      fee: 1_000n,
      kind: 'bank.transfer',
      payload: rlpEncode([to, utf8('NEX'), uintBytes(5_000n)]),
    },
    sender,
  );
}

export function receiptFixture(tx: Transaction = txFixture()): Receipt {
  return new Receipt({
    txHash: tx.hash(),
    status: ReceiptStatus.Success,
    errorCode: '',
    errorMessage: '',
    fee: 1_000n,
    events: [
      { module: 'bank', type: 'transfer', attributes: [['from', 'alice'], ['to', 'bob'], ['amount', '5000']] },
      { module: 'bank', type: 'fee', attributes: [['amount', '1000']] },
    ],
  });
}

export function failedReceiptFixture(): Receipt {
  return new Receipt({
    txHash: filled(0xab),
    status: ReceiptStatus.Failed,
    errorCode: 'BANK_INSUFFICIENT_FUNDS',
    errorMessage: 'balance 10 < 5000 (café ✓)',
    fee: 0n,
    events: [],
  });
}

export const HEADER_HEIGHT = 42;
export const HEADER_TIMESTAMP = 1_700_000_000_000;

export function headerFixture(): BlockHeader {
  const tx = txFixture();
  const { set } = validatorFixture();
  return new BlockHeader({
    version: HEADER_VERSION,
    chainId: CHAIN_ID,
    height: HEADER_HEIGHT,
    parentHash: filled(0x11),
    timestamp: HEADER_TIMESTAMP,
    proposer: addressFromPublicKey(edKey(1).publicKey),
    txRoot: txRoot([tx]),
    receiptsRoot: merkleRoot([receiptFixture(tx).hash()]),
    eventsRoot: filled(0x22),
    stateRoot: filled(0x33),
    validatorsHash: set.hash(),
    nextValidatorsHash: set.hash(),
  });
}

/** A COMMIT vote by validator `index` of the fixture set. */
export function commitVote(keys: ValidatorKeys[], index: number, height: number, round: number, blockHash: Uint8Array): { index: number; signature: Uint8Array } {
  return { index, signature: keys[index]!.bls.sign(commitVoteMessage(CHAIN_ID, height, round, blockHash)) };
}

/** A certificate for `blockHash` signed by the given set positions. */
export function certificateFixture(blockHash: Uint8Array, signers: number[] = [0, 1, 2], height = HEADER_HEIGHT, round = 0): CommitCertificate {
  const { set, keys } = validatorFixture();
  return CommitCertificate.aggregate(height, round, blockHash, set.size, signers.map((i) => commitVote(keys, i, height, round, blockHash)));
}

export function blockFixture(withCertificate: boolean): Block {
  const header = headerFixture();
  const block = new Block(header, [txFixture()]);
  return withCertificate ? block.withCertificate(certificateFixture(header.hash())) : block;
}
