import { expect } from 'chai';
import { BlockHeader, ChainErrorCode, decodeHeader, HEADER_VERSION, rlpDecode, rlpEncode, uintBytes, utf8, type HeaderFields, type RlpItem } from '../../../chain/index.js';
import { encodedFields, expectChainError, filled, HEADER_HEIGHT, HEADER_TIMESTAMP, headerFixture, hex, longFormString, prefixedString, rawList, unhex } from './fixtures.js';

const HEADER_HEX =
  'f90116028f6d6574616e6f64652d676f6c64656e2aa0111111111111111111111111111111111111111111111111111111111111111186018bcfe568009414db125626bc4b01a0944f8213551b352a9645daa09659be6a8669733fe80bcc62aa1afb7ce10017014ff300a32b5c69988fb7af8da0947f1fdbfd7d14cbd729af53a1b7fe664849c8990be30d587fb8581d7804c8f8a02222222222222222222222222222222222222222222222222222222222222222a03333333333333333333333333333333333333333333333333333333333333333a0f2218be0461d18fd2a47318319b25821c042b8b6d896249ef8757d9f0d6e0ce0a0f2218be0461d18fd2a47318319b25821c042b8b6d896249ef8757d9f0d6e0ce0c0';
const HEADER_HASH = 'dccfb24806f2aa25b74d28f039e0f9481cda4a1b86acd3ff6a2260d0d34f4ed3';

function headerItems(): RlpItem[] {
  return rlpDecode(unhex(HEADER_HEX), 'header') as RlpItem[];
}

function withField(i: number, encoded: Uint8Array): Uint8Array {
  const enc = encodedFields(headerItems() as Uint8Array[]);
  enc[i] = encoded;
  return rawList(enc);
}

describe('chain/header', () => {
  describe('golden vector', () => {
    it('freezes the serialization and the hash', () => {
      const h = headerFixture();
      expect(hex(h.serialize())).to.equal(HEADER_HEX);
      expect(hex(h.hash())).to.equal(HEADER_HASH);
    });

    it('round-trips: decode(serialize(h)) has the same fields, bytes and hash', () => {
      const h = decodeHeader(unhex(HEADER_HEX));
      expect(h.version).to.equal(HEADER_VERSION);
      expect(h.height).to.equal(HEADER_HEIGHT);
      expect(h.timestamp).to.equal(HEADER_TIMESTAMP);
      expect(hex(h.parentHash)).to.equal('11'.repeat(32));
      expect(hex(h.serialize())).to.equal(HEADER_HEX);
      expect(hex(h.hash())).to.equal(HEADER_HASH);
    });

    it('every field is covered by the hash', () => {
      const f = headerFixture();
      const base: HeaderFields = { ...f };
      const variants: Partial<HeaderFields>[] = [
        { chainId: 'other' },
        { height: f.height + 1 },
        { parentHash: filled(0x12) },
        { timestamp: f.timestamp + 1 },
        { proposer: filled(0, 20) },
        { txRoot: filled(0) },
        { receiptsRoot: filled(0) },
        { eventsRoot: filled(0) },
        { stateRoot: filled(0) },
        { validatorsHash: filled(0) },
        { nextValidatorsHash: filled(0) },
        { version: 3 },
      ];
      const hashes = new Set([HEADER_HASH]);
      for (const v of variants) hashes.add(hex(new BlockHeader({ ...base, ...v }).hash()));
      expect(hashes.size).to.equal(variants.length + 1);
    });
  });

  describe('strict decoding', () => {
    it('trailing bytes', () => {
      expectChainError(() => decodeHeader(Uint8Array.of(...unhex(HEADER_HEX), 0x80)), ChainErrorCode.InvalidRlp);
    });

    it('non-canonical RLP: version 2 as 0x8102, long-form chain id', () => {
      expectChainError(() => decodeHeader(withField(0, prefixedString(Uint8Array.of(2)))), ChainErrorCode.NonCanonical);
      expectChainError(() => decodeHeader(withField(1, longFormString(utf8('metanode-golden')))), ChainErrorCode.NonCanonical);
    });

    it('integers with leading zero bytes (height, timestamp)', () => {
      expectChainError(() => decodeHeader(withField(2, rlpEncode(unhex('002a')))), ChainErrorCode.NonCanonical, /height/);
      expectChainError(() => decodeHeader(withField(4, rlpEncode(Uint8Array.of(0, ...uintBytes(HEADER_TIMESTAMP))))), ChainErrorCode.NonCanonical, /timestamp/);
    });

    it('wrong field count', () => {
      expectChainError(() => decodeHeader(rlpEncode(headerItems().slice(0, 12))), ChainErrorCode.FieldCount, /expected 13 fields, got 12/);
      expectChainError(() => decodeHeader(rlpEncode([...headerItems(), new Uint8Array(0)])), ChainErrorCode.FieldCount);
    });

    it('wrong field lengths: proposer address 19 bytes, hashes 31 bytes', () => {
      expectChainError(() => decodeHeader(withField(5, rlpEncode(filled(1, 19)))), ChainErrorCode.FieldLength, /proposer/);
      expectChainError(() => decodeHeader(withField(5, rlpEncode(filled(1, 21)))), ChainErrorCode.FieldLength, /proposer/);
      const names = ['parentHash', 'txRoot', 'receiptsRoot', 'eventsRoot', 'stateRoot', 'validatorsHash', 'nextValidatorsHash'];
      [3, 6, 7, 8, 9, 10, 11].forEach((i, n) => {
        expectChainError(() => decodeHeader(withField(i, rlpEncode(filled(1, 31)))), ChainErrorCode.FieldLength, new RegExp(names[n]!));
        expectChainError(() => decodeHeader(withField(i, rlpEncode(filled(1, 33)))), ChainErrorCode.FieldLength);
      });
    });

    it('invalid UTF-8 in the chain id', () => {
      expectChainError(() => decodeHeader(withField(1, rlpEncode(unhex('61ff')))), ChainErrorCode.FieldValue, /UTF-8/);
    });

    it('an unsupported version', () => {
      expectChainError(() => decodeHeader(withField(0, rlpEncode(uintBytes(1)))), ChainErrorCode.FieldValue, /version 1 \(this build reads version 2\)/);
      expectChainError(() => decodeHeader(withField(0, rlpEncode(uintBytes(3)))), ChainErrorCode.FieldValue, /version 3/);
      expectChainError(() => decodeHeader(withField(0, rlpEncode(uintBytes(0)))), ChainErrorCode.FieldValue, /version 0/);
    });

    it('a height above 2^53-1', () => {
      expectChainError(() => decodeHeader(withField(2, rlpEncode(uintBytes(2n ** 53n)))), ChainErrorCode.FieldValue, /2\^53/);
    });
  });

  describe('construction', () => {
    it('refuses wrong lengths and bad numbers', () => {
      const base: HeaderFields = { ...headerFixture() };
      expectChainError(() => new BlockHeader({ ...base, parentHash: filled(0, 31) }), ChainErrorCode.FieldLength);
      expectChainError(() => new BlockHeader({ ...base, proposer: filled(0, 19) }), ChainErrorCode.FieldLength);
      expectChainError(() => new BlockHeader({ ...base, height: -1 }), ChainErrorCode.FieldValue);
      expectChainError(() => new BlockHeader({ ...base, height: 1.5 }), ChainErrorCode.FieldValue);
      expectChainError(() => new BlockHeader({ ...base, timestamp: Number.MAX_SAFE_INTEGER + 1 }), ChainErrorCode.FieldValue);
    });
  });
});
