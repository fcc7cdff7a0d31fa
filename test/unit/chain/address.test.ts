import { expect } from 'chai';
import { bech32, bech32m } from '@scure/base';
import { ADDRESS_LENGTH, addressFromPublicKey, ChainErrorCode, formatAddress, HashTag, parseAddress, taggedHash } from '../../../chain/index.js';
import { edKey, expectChainError, filled, hex } from './fixtures.js';

const BECH32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const KEY1_ADDRESS = 'mn1znd3y43xh39srgy5f7ppx4gmx54fv3w6zpkcnt';
const KEY1_ADDRESS_HEX = '14db125626bc4b01a0944f8213551b352a9645da';

describe('chain/address', () => {
  describe('golden vectors', () => {
    it('an address is the first 20 bytes of the Address-tagged hash of the public key', () => {
      const pub = edKey(1).publicKey;
      expect(hex(addressFromPublicKey(pub))).to.equal(KEY1_ADDRESS_HEX);
      expect(hex(addressFromPublicKey(pub))).to.equal(hex(taggedHash(HashTag.Address, pub).subarray(0, 20)));
    });

    it('freezes the text form', () => {
      expect(formatAddress(addressFromPublicKey(edKey(1).publicKey))).to.equal(KEY1_ADDRESS);
      expect(formatAddress(filled(0, 20))).to.equal('mn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqzp3dyl');
    });
  });

  describe('format / parse', () => {
    it('round-trips', () => {
      for (const bytes of [filled(0, 20), filled(0xff, 20), addressFromPublicKey(edKey(2).publicKey), Uint8Array.from({ length: 20 }, (_, i) => i * 13)]) {
        const text = formatAddress(bytes);
        expect(text).to.match(/^mn1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
        expect(hex(parseAddress(text))).to.equal(hex(bytes));
      }
      expect(hex(parseAddress(KEY1_ADDRESS))).to.equal(KEY1_ADDRESS_HEX);
    });

    it('formatAddress refuses anything but 20 bytes', () => {
      expectChainError(() => formatAddress(filled(1, 19)), ChainErrorCode.FieldLength);
      expectChainError(() => formatAddress(filled(1, 21)), ChainErrorCode.FieldLength);
    });

    it('every one-character typo is caught by the checksum', () => {
      for (let pos = 3; pos < KEY1_ADDRESS.length; pos++) {
        const c = KEY1_ADDRESS[pos]!;
        const typo = BECH32_ALPHABET[(BECH32_ALPHABET.indexOf(c) + 1) % 32]!;
        const text = KEY1_ADDRESS.slice(0, pos) + typo + KEY1_ADDRESS.slice(pos + 1);
        expectChainError(() => parseAddress(text), ChainErrorCode.InvalidAddress, /checksum/);
      }
    });

    it('swapped adjacent characters are caught', () => {
      const text = KEY1_ADDRESS.slice(0, 5) + KEY1_ADDRESS[6] + KEY1_ADDRESS[5] + KEY1_ADDRESS.slice(7);
      expect(text).to.not.equal(KEY1_ADDRESS);
      expectChainError(() => parseAddress(text), ChainErrorCode.InvalidAddress, /checksum/);
    });

    it('a character outside the bech32 alphabet is refused', () => {
      for (const bad of ['b', 'i', 'o', '1']) {
        expectChainError(() => parseAddress(KEY1_ADDRESS.slice(0, 10) + bad + KEY1_ADDRESS.slice(11)), ChainErrorCode.InvalidAddress);
      }
    });

    it('a wrong prefix is refused', () => {
      const words = bech32m.toWords(filled(7, 20));
      expectChainError(() => parseAddress(bech32m.encode('cosmos', words)), ChainErrorCode.InvalidAddress, /"mn1"/);
      expectChainError(() => parseAddress(bech32m.encode('mnx', words)), ChainErrorCode.InvalidAddress, /"mn1"/);
      // Starts with "mn1" but the human-readable part (up to the last "1") is "mn1q".
      expectChainError(() => parseAddress(bech32m.encode('mn1q', words)), ChainErrorCode.InvalidAddress, /prefix must be "mn"/);
      expectChainError(() => parseAddress('0x' + hex(filled(7, 20))), ChainErrorCode.InvalidAddress);
      expectChainError(() => parseAddress(''), ChainErrorCode.InvalidAddress);
    });

    it('bech32 (not bech32m) with the right prefix fails the checksum', () => {
      const text = bech32.encode('mn', bech32.toWords(filled(7, 20)));
      expectChainError(() => parseAddress(text), ChainErrorCode.InvalidAddress, /checksum/);
    });

    it('the wrong payload length is refused', () => {
      for (const n of [19, 21, 32]) {
        expectChainError(() => parseAddress(bech32m.encode('mn', bech32m.toWords(filled(7, n)))), ChainErrorCode.InvalidAddress, new RegExp(`${ADDRESS_LENGTH} bytes, got ${n}`));
      }
    });

    it('mixed case is refused; all upper case is the same address (BIP 173)', () => {
      expectChainError(() => parseAddress('MN1' + KEY1_ADDRESS.slice(3)), ChainErrorCode.InvalidAddress);
      expect(hex(parseAddress(KEY1_ADDRESS.toUpperCase()))).to.equal(KEY1_ADDRESS_HEX);
    });

    it('a non-string is refused with a ChainError', () => {
      expectChainError(() => parseAddress(42 as unknown as string), ChainErrorCode.InvalidAddress);
    });
  });
});
