import { expect } from 'chai';
import {
  ChainErrorCode,
  decodeTransaction,
  ed25519Verify,
  formatAddress,
  rlpDecode,
  rlpEncode,
  signingHash,
  Transaction,
  uintBytes,
  utf8,
  type RlpItem,
  type UnsignedTransaction,
} from '../../../chain/index.js';
import {
  CHAIN_ID,
  edKey,
  encodedFields,
  expectChainError,
  flipBit,
  hex,
  longFormString,
  prefixedString,
  rawList,
  txFixture,
  unhex,
} from './fixtures.js';

const TX_HEX =
  'f8a38f6d6574616e6f64652d676f6c64656e07a08a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c8203e88d62616e6b2e7472616e736665729ddc948de795561e1d0e53c41f8816525038c55d720163834e4558821388b84004b22b32e586fada978bbbe09b3b94de33632b4e9dd3e14a1cd76303f306ba45802c99b57581c6b7c648c315e17edf147bf339f0b51a30988402b92697816101';
const TX_HASH = '63ef1f6d5322eef51f430e8ff7625563e9c6f5d069ff27fb027fbb925b1695d6';
const TX_SIGNING_HASH = 'dfbb9b5cbd95894b3d868b3442f0a82ad58a13884ecb5256f6e41ba405ba9957';

function fieldsOf(tx: Transaction): UnsignedTransaction & { signature: Uint8Array } {
  return { chainId: tx.chainId, nonce: tx.nonce, sender: tx.sender, fee: tx.fee, kind: tx.kind, payload: tx.payload, signature: tx.signature };
}

/** The canonical RLP items of the fixture, to swap one field for a bad one. */
function txItems(): RlpItem[] {
  return rlpDecode(unhex(TX_HEX), 'tx') as RlpItem[];
}

describe('chain/transaction', () => {
  describe('golden vector', () => {
    it('freezes the serialization', () => {
      expect(hex(txFixture().serialize())).to.equal(TX_HEX);
    });

    it('freezes the hash and the signing hash (which differ: separate tags)', () => {
      const tx = txFixture();
      expect(hex(tx.hash())).to.equal(TX_HASH);
      expect(hex(tx.signingHash())).to.equal(TX_SIGNING_HASH);
      expect(hex(signingHash(tx))).to.equal(TX_SIGNING_HASH);
    });

    it('decodes to the same fields, bytes and hash', () => {
      const tx = decodeTransaction(unhex(TX_HEX));
      expect(tx.chainId).to.equal(CHAIN_ID);
      expect(tx.nonce).to.equal(7n);
      expect(tx.fee).to.equal(1_000n);
      expect(tx.kind).to.equal('bank.transfer');
      expect([tx.module, tx.method]).to.deep.equal(['bank', 'transfer']);
      expect(hex(tx.sender)).to.equal(hex(edKey(1).publicKey));
      expect(formatAddress(tx.from())).to.equal('mn1znd3y43xh39srgy5f7ppx4gmx54fv3w6zpkcnt');
      expect(hex(tx.serialize())).to.equal(TX_HEX);
      expect(hex(tx.hash())).to.equal(TX_HASH);
      expect(hex(decodeTransaction(tx.serialize()).serialize())).to.equal(TX_HEX);
    });

    it('round-trips edge values: nonce 0, fee 0, empty payload, max u64 nonce and u128 fee', () => {
      const key = edKey(3);
      for (const [nonce, fee, payload] of [
        [0n, 0n, new Uint8Array(0)],
        [2n ** 64n - 1n, 2n ** 128n - 1n, new Uint8Array(300).fill(7)],
      ] as const) {
        const tx = Transaction.sign({ chainId: 'c', nonce, sender: key.publicKey, fee, kind: 'a.b', payload }, key);
        const back = decodeTransaction(tx.serialize());
        expect(back.nonce).to.equal(nonce);
        expect(back.fee).to.equal(fee);
        expect(hex(back.serialize())).to.equal(hex(tx.serialize()));
        expect(hex(back.hash())).to.equal(hex(tx.hash()));
        expect(back.verifySignature()).to.equal(true);
        expect(hex(back.payload)).to.equal(hex(payload));
        expect(hex(tx.payload)).to.equal(hex(payload));
        expect(hex(back.signature)).to.equal(hex(tx.signature));
      }
    });
  });

  describe('signature', () => {
    it('the fixture verifies, and its signature is Ed25519 over the signing hash', () => {
      const tx = txFixture();
      expect(tx.verifySignature()).to.equal(true);
      expect(ed25519Verify(tx.sender, tx.signingHash(), tx.signature)).to.equal(true);
      expect(ed25519Verify(tx.sender, tx.hash(), tx.signature)).to.equal(false);
    });

    it('fails when any one field changes by one bit', () => {
      const f = fieldsOf(txFixture());
      const variants: Array<[string, Partial<UnsignedTransaction>]> = [
        ['chainId', { chainId: 'metanode-goldeo' }],
        ['nonce', { nonce: f.nonce ^ 1n }],
        ['fee', { fee: f.fee ^ 1n }],
        ['kind', { kind: 'bank.transfes' }],
      ];
      for (let bit = 0; bit < f.payload.length * 8; bit++) variants.push([`payload bit ${bit}`, { payload: flipBit(f.payload, bit) }]);
      for (let bit = 0; bit < f.sender.length * 8; bit++) variants.push([`sender bit ${bit}`, { sender: flipBit(f.sender, bit) }]);
      for (const [what, change] of variants) {
        expect(new Transaction({ ...f, ...change }).verifySignature(), what).to.equal(false);
      }
    });

    it('fails when any one bit of the signature flips', () => {
      const f = fieldsOf(txFixture());
      for (let bit = 0; bit < f.signature.length * 8; bit++) {
        expect(new Transaction({ ...f, signature: flipBit(f.signature, bit) }).verifySignature(), `signature bit ${bit}`).to.equal(false);
      }
    });

    it('no one-bit change of the serialized bytes gives a transaction that decodes and verifies', () => {
      const bytes = unhex(TX_HEX);
      let decoded = 0;
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        let tx: Transaction | undefined;
        try {
          tx = decodeTransaction(flipBit(bytes, bit));
        } catch (e) {
          expect((e as Error).name, `bit ${bit}`).to.equal('ChainError');
        }
        if (tx) {
          decoded++;
          expect(tx.verifySignature(), `bit ${bit}`).to.equal(false);
        }
      }
      // Most flips land in field contents and still decode: the signature is what rejects them.
      expect(decoded).to.be.greaterThan(bytes.length * 4);
    });

    it('a transaction signed for chain A does not verify when re-encoded for chain B', () => {
      const key = edKey(1);
      const a = Transaction.sign({ chainId: 'chain-a', nonce: 1n, sender: key.publicKey, fee: 10n, kind: 'bank.transfer', payload: utf8('p') }, key);
      expect(a.verifySignature()).to.equal(true);
      const items = rlpDecode(a.serialize(), 'tx') as RlpItem[];
      items[0] = utf8('chain-b');
      const b = decodeTransaction(rlpEncode(items));
      expect(b.chainId).to.equal('chain-b');
      expect(b.verifySignature()).to.equal(false);
      expect(hex(b.signingHash())).to.not.equal(hex(a.signingHash()));
    });
  });

  describe('strict decoding', () => {
    const bytes = (): Uint8Array => unhex(TX_HEX);
    const withField = (i: number, encoded: Uint8Array): Uint8Array => {
      const enc = encodedFields(txItems() as Uint8Array[]);
      enc[i] = encoded;
      return rawList(enc);
    };

    it('trailing bytes', () => {
      expectChainError(() => decodeTransaction(Uint8Array.of(...bytes(), 0x00)), ChainErrorCode.InvalidRlp);
      expectChainError(() => decodeTransaction(Uint8Array.of(...bytes(), 0xc0)), ChainErrorCode.InvalidRlp);
    });

    it('truncated', () => {
      expectChainError(() => decodeTransaction(bytes().subarray(0, bytes().length - 1)), ChainErrorCode.InvalidRlp);
    });

    it('nonce 7 wrapped as 0x8107 (single byte < 0x80 with a prefix)', () => {
      expectChainError(() => decodeTransaction(withField(1, prefixedString(Uint8Array.of(7)))), ChainErrorCode.NonCanonical);
    });

    it('long-form length for the short chain id', () => {
      expectChainError(() => decodeTransaction(withField(0, longFormString(utf8(CHAIN_ID)))), ChainErrorCode.NonCanonical);
    });

    it('a list length with a leading zero byte', () => {
      // A transaction is always over 55 bytes, so its list is long-form: f8 a3 <body>. Write the length as 00 a3.
      const body = bytes().subarray(2);
      expect(hex(Uint8Array.of(0xf8, body.length, ...body))).to.equal(TX_HEX);
      expectChainError(() => decodeTransaction(Uint8Array.of(0xf9, 0x00, body.length, ...body)), ChainErrorCode.NonCanonical);
    });

    it('integers with leading zero bytes (nonce, fee)', () => {
      expectChainError(() => decodeTransaction(withField(1, rlpEncode(unhex('0007')))), ChainErrorCode.NonCanonical, /nonce/);
      expectChainError(() => decodeTransaction(withField(3, rlpEncode(unhex('0003e8')))), ChainErrorCode.NonCanonical, /fee/);
      expectChainError(() => decodeTransaction(withField(1, rlpEncode(unhex('00')))), ChainErrorCode.NonCanonical);
    });

    it('integers that are too long (nonce over 8 bytes, fee over 16 bytes)', () => {
      expectChainError(() => decodeTransaction(withField(1, rlpEncode(uintBytes(2n ** 64n)))), ChainErrorCode.FieldLength);
      expectChainError(() => decodeTransaction(withField(3, rlpEncode(uintBytes(2n ** 128n)))), ChainErrorCode.FieldLength);
    });

    it('wrong field count', () => {
      const items = txItems();
      expectChainError(() => decodeTransaction(rlpEncode(items.slice(0, 6))), ChainErrorCode.FieldCount, /expected 7 fields, got 6/);
      expectChainError(() => decodeTransaction(rlpEncode([...items, new Uint8Array(0)])), ChainErrorCode.FieldCount);
      expectChainError(() => decodeTransaction(rlpEncode([])), ChainErrorCode.FieldCount);
    });

    it('not a list', () => {
      expectChainError(() => decodeTransaction(rlpEncode(utf8('tx'))), ChainErrorCode.InvalidRlp);
    });

    it('a list where a byte string belongs', () => {
      expectChainError(() => decodeTransaction(withField(5, rlpEncode([]))), ChainErrorCode.InvalidRlp);
    });

    it('wrong field lengths: signature 63 / 65 bytes, sender 31 / 33 bytes', () => {
      const items = txItems();
      const sig = items[6] as Uint8Array;
      const sender = items[2] as Uint8Array;
      expectChainError(() => decodeTransaction(withField(6, rlpEncode(sig.subarray(0, 63)))), ChainErrorCode.FieldLength, /signature/);
      expectChainError(() => decodeTransaction(withField(6, rlpEncode(Uint8Array.of(...sig, 0)))), ChainErrorCode.FieldLength);
      expectChainError(() => decodeTransaction(withField(2, rlpEncode(sender.subarray(0, 31)))), ChainErrorCode.FieldLength, /sender/);
      expectChainError(() => decodeTransaction(withField(2, rlpEncode(Uint8Array.of(...sender, 0)))), ChainErrorCode.FieldLength);
    });

    it('invalid UTF-8 in the chain id or kind', () => {
      expectChainError(() => decodeTransaction(withField(0, rlpEncode(unhex('6d6eff')))), ChainErrorCode.FieldValue, /UTF-8/);
      expectChainError(() => decodeTransaction(withField(4, rlpEncode(unhex('c0af2e62')))), ChainErrorCode.FieldValue, /UTF-8/);
    });

    it('a chain id with a byte-order mark is a different chain id, not the same one', () => {
      const bom = withField(0, rlpEncode(Uint8Array.of(0xef, 0xbb, 0xbf, ...utf8(CHAIN_ID))));
      const tx = decodeTransaction(bom);
      expect(tx.chainId).to.equal('\ufeff' + CHAIN_ID);
      expect(hex(tx.serialize())).to.equal(hex(bom));
      expect(tx.verifySignature()).to.equal(false);
    });

    it('empty or over-long chain id', () => {
      expectChainError(() => decodeTransaction(withField(0, rlpEncode(new Uint8Array(0)))), ChainErrorCode.FieldValue, /chain id/);
      expectChainError(() => decodeTransaction(withField(0, rlpEncode(new Uint8Array(65).fill(0x61)))), ChainErrorCode.FieldLength);
    });

    it('a bad kind', () => {
      for (const kind of ['bank', 'Bank.transfer', 'bank.', '.transfer', 'bank.transfer.x', 'bank-x.y', '1bank.x', 'bank.transfer ', '']) {
        expectChainError(() => decodeTransaction(withField(4, rlpEncode(utf8(kind)))), ChainErrorCode.FieldValue, /kind/);
      }
      expectChainError(() => decodeTransaction(withField(4, rlpEncode(utf8('a.' + 'b'.repeat(63))))), ChainErrorCode.FieldLength);
    });
  });

  describe('construction', () => {
    it('refuses out-of-range values before signing', () => {
      const key = edKey(1);
      const base: UnsignedTransaction = { chainId: 'c', nonce: 0n, sender: key.publicKey, fee: 0n, kind: 'a.b', payload: new Uint8Array(0) };
      expectChainError(() => Transaction.sign({ ...base, nonce: -1n }, key), ChainErrorCode.FieldValue);
      expectChainError(() => Transaction.sign({ ...base, nonce: 2n ** 64n }, key), ChainErrorCode.FieldValue);
      expectChainError(() => Transaction.sign({ ...base, fee: 2n ** 128n }, key), ChainErrorCode.FieldValue);
      expectChainError(() => Transaction.sign({ ...base, chainId: '' }, key), ChainErrorCode.FieldValue);
      expectChainError(() => Transaction.sign({ ...base, sender: new Uint8Array(31) }, key), ChainErrorCode.FieldLength);
      expectChainError(() => new Transaction({ ...base, signature: new Uint8Array(63) }), ChainErrorCode.FieldLength);
    });

    it('keeps its own encoding: the caller\'s arrays can change afterwards, payload and signature read from it', () => {
      const key = edKey(2);
      for (const payload of [new Uint8Array(0), Uint8Array.of(0x05), Uint8Array.of(0x80), new Uint8Array(70).fill(9)]) {
        const sender = Uint8Array.from(key.publicKey);
        const fields = { chainId: 'c', nonce: 1n, sender, fee: 5n, kind: 'a.b', payload: Uint8Array.from(payload) };
        const tx = Transaction.sign(fields, key);
        const signature = Uint8Array.from(tx.signature);
        fields.payload.fill(0xee);
        sender.fill(0);
        expect(hex(tx.payload)).to.equal(hex(payload));
        expect(hex(tx.sender)).to.equal(hex(key.publicKey));
        expect(hex(tx.signature)).to.equal(hex(signature));
        expect(tx.verifySignature()).to.equal(true);
        const u = tx.unsigned();
        expect(hex(rlpEncode([u.chainId, u.nonce, u.sender, u.fee, u.kind, u.payload, tx.signature]))).to.equal(hex(tx.serialize()));
      }
    });

    it('transactions of one sender share its public key and address (one array each, not one per transaction)', () => {
      const key = edKey(4);
      const a = Transaction.sign({ chainId: 'c', nonce: 1n, sender: Uint8Array.from(key.publicKey), fee: 0n, kind: 'a.b', payload: new Uint8Array(0) }, key);
      const b = decodeTransaction(Transaction.sign({ chainId: 'c', nonce: 2n, sender: key.publicKey, fee: 0n, kind: 'a.b', payload: new Uint8Array(0) }, key).serialize());
      expect(b.sender).to.equal(a.sender);
      expect(b.from()).to.equal(a.from());
      expect(b.fromKey).to.equal(a.fromKey);
    });
  });
});
