import { expect } from 'chai';
import { ChainErrorCode, decodeReceipt, Receipt, ReceiptStatus, rlpDecode, rlpEncode, uintBytes, utf8, type RlpItem } from '../../../chain/index.js';
import { encodedFields, expectChainError, failedReceiptFixture, filled, hex, prefixedString, rawList, receiptFixture, txFixture, unhex } from './fixtures.js';

const RECEIPT_HEX =
  'f872a063ef1f6d5322eef51f430e8ff7625563e9c6f5d069ff27fb027fbb925b1695d68080808203e8f849f08462616e6b887472616e73666572e1cb8466726f6d85616c696365c782746f83626f62cc86616d6f756e748435303030d78462616e6b83666565cdcc86616d6f756e748431303030';
const RECEIPT_HASH = '3fccdcbc960347a7d82fb4e8236a7ab48c9e499fd83e4311cc3c5c0463827c85';
const FAILED_HEX =
  'f85aa0abababababababababababababababababababababababababababababababab019742414e4b5f494e53554646494349454e545f46554e44539d62616c616e6365203130203c20353030302028636166c3a920e29c932980c0';
const FAILED_HASH = 'f96d7ef2c7ef838f05e27ddf4f82de68011055e0dc33b090c74b33ac5ef65fd7';

function items(): RlpItem[] {
  return rlpDecode(unhex(RECEIPT_HEX), 'receipt') as RlpItem[];
}

function withField(i: number, encoded: Uint8Array): Uint8Array {
  const enc = encodedFields(items() as Uint8Array[]);
  enc[i] = encoded;
  return rawList(enc);
}

describe('chain/receipt', () => {
  describe('golden vectors', () => {
    it('freezes a successful receipt with events', () => {
      const r = receiptFixture();
      expect(hex(r.txHash)).to.equal(hex(txFixture().hash()));
      expect(hex(r.serialize())).to.equal(RECEIPT_HEX);
      expect(hex(r.hash())).to.equal(RECEIPT_HASH);
    });

    it('freezes a failed receipt with an error code, a non-ASCII message and no events', () => {
      const r = failedReceiptFixture();
      expect(hex(r.serialize())).to.equal(FAILED_HEX);
      expect(hex(r.hash())).to.equal(FAILED_HASH);
    });

    it('round-trips both, fields included', () => {
      const r = decodeReceipt(unhex(RECEIPT_HEX));
      expect(r.ok).to.equal(true);
      expect(r.fee).to.equal(1_000n);
      expect(r.events).to.deep.equal([
        { module: 'bank', type: 'transfer', attributes: [['from', 'alice'], ['to', 'bob'], ['amount', '5000']] },
        { module: 'bank', type: 'fee', attributes: [['amount', '1000']] },
      ]);
      expect(hex(r.serialize())).to.equal(RECEIPT_HEX);
      expect(hex(r.hash())).to.equal(RECEIPT_HASH);
      const f = decodeReceipt(unhex(FAILED_HEX));
      expect(f.ok).to.equal(false);
      expect(f.status).to.equal(ReceiptStatus.Failed);
      expect(f.errorCode).to.equal('BANK_INSUFFICIENT_FUNDS');
      expect(f.errorMessage).to.equal('balance 10 < 5000 (café ✓)');
      expect(hex(f.serialize())).to.equal(FAILED_HEX);
      expect(hex(f.hash())).to.equal(FAILED_HASH);
    });

    it('the order of events and attributes is part of the hash', () => {
      const r = receiptFixture();
      const swapped = new Receipt({ ...r, events: [r.events[1]!, r.events[0]!] });
      const ev = r.events[0]!;
      const attrsSwapped = new Receipt({ ...r, events: [{ ...ev, attributes: [...ev.attributes].reverse() }, r.events[1]!] });
      expect(hex(swapped.hash())).to.not.equal(RECEIPT_HASH);
      expect(hex(attrsSwapped.hash())).to.not.equal(RECEIPT_HASH);
    });
  });

  describe('strict decoding', () => {
    it('trailing bytes', () => {
      expectChainError(() => decodeReceipt(Uint8Array.of(...unhex(RECEIPT_HEX), 0x01)), ChainErrorCode.InvalidRlp);
    });

    it('non-canonical RLP: status 1 as 0x8101, fee with a leading zero byte', () => {
      expectChainError(() => decodeReceipt(withField(1, prefixedString(Uint8Array.of(1)))), ChainErrorCode.NonCanonical);
      expectChainError(() => decodeReceipt(withField(4, rlpEncode(unhex('0003e8')))), ChainErrorCode.NonCanonical, /fee/);
      expectChainError(() => decodeReceipt(withField(1, rlpEncode(unhex('00')))), ChainErrorCode.NonCanonical, /status/);
    });

    it('wrong field count: receipt, event, attribute', () => {
      expectChainError(() => decodeReceipt(rlpEncode(items().slice(0, 5))), ChainErrorCode.FieldCount, /expected 6 fields/);
      const evs = (n: RlpItem[]): Uint8Array => withField(5, rlpEncode(n));
      expectChainError(() => decodeReceipt(evs([[utf8('bank'), utf8('t')]])), ChainErrorCode.FieldCount, /events\[0\]/);
      expectChainError(() => decodeReceipt(evs([[utf8('bank'), utf8('t'), [[utf8('k')]]]])), ChainErrorCode.FieldCount, /attribute/);
      expectChainError(() => decodeReceipt(evs([[utf8('bank'), utf8('t'), [[utf8('k'), utf8('v'), utf8('x')]]]])), ChainErrorCode.FieldCount);
    });

    it('events must be a list', () => {
      expectChainError(() => decodeReceipt(withField(5, rlpEncode(new Uint8Array(0)))), ChainErrorCode.InvalidRlp);
    });

    it('wrong field length: txHash 31 bytes, fee over 16 bytes', () => {
      expectChainError(() => decodeReceipt(withField(0, rlpEncode(filled(1, 31)))), ChainErrorCode.FieldLength, /txHash/);
      expectChainError(() => decodeReceipt(withField(4, rlpEncode(uintBytes(2n ** 128n)))), ChainErrorCode.FieldLength, /fee/);
    });

    it('invalid UTF-8 in error code, message, event module or attribute value', () => {
      const bad = rlpEncode(unhex('c328'));
      expectChainError(() => decodeReceipt(withField(2, bad)), ChainErrorCode.FieldValue, /errorCode.*UTF-8/);
      expectChainError(() => decodeReceipt(withField(3, bad)), ChainErrorCode.FieldValue, /errorMessage.*UTF-8/);
      const evs = (n: RlpItem[]): Uint8Array => withField(5, rlpEncode(n));
      expectChainError(() => decodeReceipt(evs([[unhex('ff'), utf8('t'), []]])), ChainErrorCode.FieldValue, /event\.module/);
      expectChainError(() => decodeReceipt(evs([[utf8('m'), utf8('t'), [[utf8('k'), unhex('80')]]]])), ChainErrorCode.FieldValue, /attribute\.value/);
    });

    it('a status other than 0 or 1', () => {
      expectChainError(() => decodeReceipt(withField(1, rlpEncode(uintBytes(2)))), ChainErrorCode.FieldValue, /status/);
    });

    it('over-long strings', () => {
      expectChainError(() => decodeReceipt(withField(2, rlpEncode(new Uint8Array(257).fill(0x41)))), ChainErrorCode.FieldLength);
      expectChainError(() => decodeReceipt(withField(3, rlpEncode(new Uint8Array(4097).fill(0x41)))), ChainErrorCode.FieldLength);
      expect(decodeReceipt(withField(3, rlpEncode(new Uint8Array(4096).fill(0x41)))).errorMessage).to.have.length(4096);
    });
  });
});
