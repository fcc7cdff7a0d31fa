import { expect } from 'chai';
import {
  addressFromPublicKey,
  ChainErrorCode,
  compareBytes,
  decodeValidatorSet,
  rlpDecode,
  rlpEncode,
  uintBytes,
  ValidatorSet,
  type RlpItem,
  type Validator,
} from '../../../chain/index.js';
import { blsKey, edKey, expectChainError, filled, hex, prefixedString, rawList, unhex, validatorFixture } from './fixtures.js';

const SET_HEX =
  'f901a8f8689414db125626bc4b01a0944f8213551b352a9645daa08a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5cb0a576a99d578c23a949575d307c22fae8b44ec1b1a06eb873c9b4af6bd170302f1f1da17f173f49fa78bc288728f4f3170af86894825d3d3db18a08bc1f3f22b1e8e716e7804d25aca0ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1b0a5f39a3957fe6691719006bcf07a85f11ae228b1ef06390bfe11c77752b39af79269bb42c0c31a209729481eda6ef5431ef868948de795561e1d0e53c41f8816525038c55d720163a08139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394b095e8938e0974808cacb1926f1cf87561b1b98e76a7a74291285b4f7d84092ffae92609a21a56394d6aa19be7195c7a6514f86894bf0960102edd179dba54caadf34303a594da6a09a0ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7cb0b8c60a603491e3da613602a90bb139450d1a3da406e462082adbf8a6cfc1bb49d73b43c74e46a80db6105d5610b2711c28';
const SET_HASH = 'f2218be0461d18fd2a47318319b25821c042b8b6d896249ef8757d9f0d6e0ce0';

function validator(i: number, power = 1n): Validator {
  const ed = edKey(i);
  return { address: addressFromPublicKey(ed.publicKey), publicKey: ed.publicKey, blsPublicKey: blsKey(i).publicKey, power };
}

function entries(): RlpItem[][] {
  return rlpDecode(unhex(SET_HEX), 'set') as RlpItem[][];
}

describe('chain/validators', () => {
  describe('golden vector', () => {
    it('freezes the serialization and hash of the 4-validator fixture', () => {
      const { set } = validatorFixture();
      expect(hex(set.serialize())).to.equal(SET_HEX);
      expect(hex(set.hash())).to.equal(SET_HASH);
      expect(set.totalPower).to.equal(100n);
    });

    it('orders validators by address, whatever the input order', () => {
      const { set } = validatorFixture();
      expect(set.validators.map((v) => hex(v.address))).to.deep.equal([
        '14db125626bc4b01a0944f8213551b352a9645da',
        '825d3d3db18a08bc1f3f22b1e8e716e7804d25ac',
        '8de795561e1d0e53c41f8816525038c55d720163',
        'bf0960102edd179dba54caadf34303a594da6a09',
      ]);
      const reversed = new ValidatorSet([...set.validators].reverse());
      expect(hex(reversed.serialize())).to.equal(SET_HEX);
      for (let i = 0; i < set.size; i++) expect(set.indexOf(set.validators[i]!.address)).to.equal(i);
      expect(set.indexOf(filled(0, 20))).to.equal(-1);
      expect(set.has(set.validators[2]!.address)).to.equal(true);
    });

    it('round-trips', () => {
      const set = decodeValidatorSet(unhex(SET_HEX));
      expect(set.size).to.equal(4);
      expect(set.validators.map((v) => v.power)).to.deep.equal([10n, 30n, 20n, 40n]);
      expect(hex(set.serialize())).to.equal(SET_HEX);
      expect(hex(set.hash())).to.equal(SET_HASH);
    });
  });

  describe('quorum', () => {
    it('is ceil(2n/3) validators for n = 1..10 when every power is 1 (IBFT 2.0), and F = floor((n-1)/3)', () => {
      const sets = Array.from({ length: 10 }, (_, n) => new ValidatorSet(Array.from({ length: n + 1 }, (_, i) => validator(i + 1))));
      expect(sets.map((s) => Number(s.quorumPower))).to.deep.equal([1, 2, 2, 3, 4, 4, 5, 6, 6, 7]);
      expect(sets.map((s) => Number(s.faultyPower))).to.deep.equal([0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
    });

    it('counts power, not validators: one with more than a third can block a quorum alone; three with less cannot', () => {
      const vs = [validator(1, 34n), validator(2, 22n), validator(3, 22n), validator(4, 22n)]; // T = 100, quorum 67, F = 33
      const set = new ValidatorSet(vs);
      expect([set.quorumPower, set.faultyPower]).to.deep.equal([67n, 33n]);
      const addr = (i: number) => vs[i]!.address;
      expect(set.hasQuorum([addr(1), addr(2), addr(3)])).to.equal(false); // 66: without the big one, no quorum
      expect(set.hasQuorum([addr(0), addr(1), addr(2)])).to.equal(true); // 78
      expect(set.hasQuorum([addr(0), addr(0), addr(0), addr(1)])).to.equal(false); // a sender counts once: 56
      expect(set.exceedsFaulty([addr(0)])).to.equal(true); // 34 > 33: at least one honest
      expect(set.exceedsFaulty([addr(1)])).to.equal(false);
      expect(set.powerOf([validator(9).address])).to.equal(0n); // not a member
      const items = [addr(1), addr(1), addr(2), addr(0), addr(3)];
      expect(set.quorumPrefix(items, (a) => a)).to.deep.equal(items.slice(0, 4)); // 22 + 22 + 34 = 78
      expect(set.quorumPrefix([addr(1), addr(2), addr(3)], (a) => a)).to.equal(undefined);
    });

  });

  describe('strict decoding', () => {
    it('trailing bytes', () => {
      expectChainError(() => decodeValidatorSet(Uint8Array.of(...unhex(SET_HEX), 0xc0)), ChainErrorCode.InvalidRlp);
    });

    it('validators out of address order are non-canonical', () => {
      const e = entries();
      expect(compareBytes(e[0]![0] as Uint8Array, e[1]![0] as Uint8Array)).to.be.lessThan(0);
      expectChainError(() => decodeValidatorSet(rlpEncode([e[1]!, e[0]!, e[2]!, e[3]!])), ChainErrorCode.NonCanonical, /ordered by address/);
      expectChainError(() => decodeValidatorSet(rlpEncode([...e].reverse())), ChainErrorCode.NonCanonical);
    });

    it('non-canonical RLP: power wrapped as 0x81xx, power with a leading zero', () => {
      const e = entries();
      const first = e[0]!.map((f) => rlpEncode(f as Uint8Array));
      first[3] = prefixedString(Uint8Array.of(10));
      const list = rawList([rawList(first), ...e.slice(1).map((v) => rlpEncode(v))]);
      expectChainError(() => decodeValidatorSet(list), ChainErrorCode.NonCanonical);
      const zero = e.map((v) => [...v]);
      zero[0]![3] = unhex('000a');
      expectChainError(() => decodeValidatorSet(rlpEncode(zero)), ChainErrorCode.NonCanonical, /power/);
    });

    it('wrong field count per validator', () => {
      const e = entries();
      expectChainError(() => decodeValidatorSet(rlpEncode([e[0]!.slice(0, 3), ...e.slice(1)])), ChainErrorCode.FieldCount, /validator\[0\]/);
      expectChainError(() => decodeValidatorSet(rlpEncode([e[0]!, [...e[1]!, new Uint8Array(0)], ...e.slice(2)])), ChainErrorCode.FieldCount, /validator\[1\]/);
    });

    it('wrong field lengths: address 19 bytes, public key 31 bytes, BLS key 47 bytes', () => {
      const e = entries();
      const swap = (field: number, value: Uint8Array): Uint8Array => rlpEncode([e[0]!.map((f, i) => (i === field ? value : f)), ...e.slice(1)]);
      expectChainError(() => decodeValidatorSet(swap(0, (e[0]![0] as Uint8Array).subarray(0, 19))), ChainErrorCode.FieldLength, /address/);
      expectChainError(() => decodeValidatorSet(swap(1, (e[0]![1] as Uint8Array).subarray(0, 31))), ChainErrorCode.FieldLength, /publicKey/);
      expectChainError(() => decodeValidatorSet(swap(2, (e[0]![2] as Uint8Array).subarray(0, 47))), ChainErrorCode.FieldLength, /blsPublicKey/);
    });

    it('semantic checks: empty set, zero power, address not derived from the key, duplicates', () => {
      const e = entries();
      expectChainError(() => decodeValidatorSet(rlpEncode([])), ChainErrorCode.FieldValue, /at least one/);
      expectChainError(() => decodeValidatorSet(rlpEncode([[...e[0]!.slice(0, 3), uintBytes(0)], ...e.slice(1)])), ChainErrorCode.FieldValue, /power/);
      expectChainError(() => decodeValidatorSet(rlpEncode([[e[0]![0]!, e[1]![1]!, e[0]![2]!, e[0]![3]!], ...e.slice(1)])), ChainErrorCode.FieldValue, /does not match/);
      expectChainError(() => decodeValidatorSet(rlpEncode([e[0]!, e[0]!, ...e.slice(1)])), ChainErrorCode.FieldValue, /duplicate/);
    });

    it('not a list of lists', () => {
      expectChainError(() => decodeValidatorSet(rlpEncode(filled(0, 4))), ChainErrorCode.InvalidRlp);
      expectChainError(() => decodeValidatorSet(rlpEncode([filled(0, 4)])), ChainErrorCode.InvalidRlp);
    });
  });
});
