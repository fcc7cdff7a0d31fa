import { expect } from 'chai';
import {
  BLS_PUBLIC_KEY_LENGTH,
  BLS_SIGNATURE_LENGTH,
  blsAggregateSignatures,
  blsFastAggregateVerify,
  BlsKey,
  blsVerify,
  ChainErrorCode,
  isValidBlsPublicKey,
  utf8,
} from '../../../chain/index.js';
import { blsKey, expectChainError, filled, flipBit, hex } from './fixtures.js';

/** The compressed BLS12-381 G1 generator: the public key of the secret scalar 1. */
const G1_GENERATOR = '97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb';

function scalar(n: number): Uint8Array {
  const b = new Uint8Array(32);
  b[31] = n;
  return b;
}

describe('chain/bls', () => {
  const msg = utf8('metanode');

  it('the secret scalar 1 has the G1 generator as its public key', () => {
    expect(hex(BlsKey.fromSecret(scalar(1)).publicKey)).to.equal(G1_GENERATOR);
  });

  it('freezes a signature by the scalar-1 key (signing is deterministic)', () => {
    const sig = BlsKey.fromSecret(scalar(1)).sign(msg);
    expect(hex(sig)).to.equal(
      'b965752671563c93d7bc39023ec02ea3547218eb67933b535875ed5b887076aadf2b2f350519ccd343b6987758b66c5a03de3ba54ec8f4961df1763b16710e721340d92b6f533b240a9dec8b9b5320b2cbd29c3c6e9f0287183cca307a360133',
    );
  });

  it('freezes the public keys that KeyGen derives from fixed seeds', () => {
    expect([1, 2, 3, 4].map((i) => hex(blsKey(i).publicKey))).to.deep.equal([
      'a576a99d578c23a949575d307c22fae8b44ec1b1a06eb873c9b4af6bd170302f1f1da17f173f49fa78bc288728f4f317',
      '95e8938e0974808cacb1926f1cf87561b1b98e76a7a74291285b4f7d84092ffae92609a21a56394d6aa19be7195c7a65',
      'a5f39a3957fe6691719006bcf07a85f11ae228b1ef06390bfe11c77752b39af79269bb42c0c31a209729481eda6ef543',
      'b8c60a603491e3da613602a90bb139450d1a3da406e462082adbf8a6cfc1bb49d73b43c74e46a80db6105d5610b2711c',
    ]);
  });

  it('fromSecret(key.secret) gives back the same key', () => {
    const k = blsKey(1);
    expect(hex(BlsKey.fromSecret(k.secret).publicKey)).to.equal(hex(k.publicKey));
  });

  it('sign/verify round trip; wrong message, wrong key and flipped bits fail', () => {
    const k = blsKey(1);
    const sig = k.sign(msg);
    expect(k.publicKey).to.have.length(BLS_PUBLIC_KEY_LENGTH);
    expect(sig).to.have.length(BLS_SIGNATURE_LENGTH);
    expect(blsVerify(k.publicKey, msg, sig)).to.equal(true);
    expect(blsVerify(k.publicKey, utf8('metanodf'), sig)).to.equal(false);
    expect(blsVerify(blsKey(2).publicKey, msg, sig)).to.equal(false);
    for (const bit of [0, 7, 100, 400, 767]) expect(blsVerify(k.publicKey, msg, flipBit(sig, bit)), `bit ${bit}`).to.equal(false);
  });

  it('aggregate verify: all signers verify; a missing signer, an extra key or another message fails', () => {
    const keys = [1, 2, 3, 4].map(blsKey);
    const pks = keys.map((k) => k.publicKey);
    const agg = blsAggregateSignatures(keys.map((k) => k.sign(msg)));
    expect(blsFastAggregateVerify(msg, pks, agg)).to.equal(true);
    // Claiming all four signed while only three signatures were aggregated.
    const aggOf3 = blsAggregateSignatures(keys.slice(0, 3).map((k) => k.sign(msg)));
    expect(blsFastAggregateVerify(msg, pks, aggOf3)).to.equal(false);
    expect(blsFastAggregateVerify(msg, pks.slice(0, 3), aggOf3)).to.equal(true);
    // Leaving a key out of the list while its signature is in the aggregate.
    expect(blsFastAggregateVerify(msg, pks.slice(0, 3), agg)).to.equal(false);
    expect(blsFastAggregateVerify(utf8('other'), pks, agg)).to.equal(false);
    expect(blsFastAggregateVerify(msg, [], agg)).to.equal(false);
  });

  it('aggregate verify returns false (does not throw) for malformed keys and signatures', () => {
    const k = blsKey(1);
    const sig = k.sign(msg);
    expect(blsFastAggregateVerify(msg, [k.publicKey.subarray(1)], sig)).to.equal(false);
    expect(blsFastAggregateVerify(msg, [k.publicKey], sig.subarray(1))).to.equal(false);
    expect(blsVerify(k.publicKey, msg, new Uint8Array(96))).to.equal(false);
  });

  it('isValidBlsPublicKey accepts a real key and refuses garbage and the point at infinity', () => {
    expect(isValidBlsPublicKey(blsKey(1).publicKey)).to.equal(true);
    expect(isValidBlsPublicKey(filled(0x01, 48))).to.equal(false);
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    expect(isValidBlsPublicKey(infinity)).to.equal(false);
    expect(isValidBlsPublicKey(blsKey(1).publicKey.subarray(0, 47))).to.equal(false);
  });

  it('fromSecret refuses wrong lengths (FieldLength) and the zero scalar (FieldValue)', () => {
    expectChainError(() => BlsKey.fromSecret(new Uint8Array(31)), ChainErrorCode.FieldLength);
    expectChainError(() => BlsKey.fromSecret(new Uint8Array(32)), ChainErrorCode.FieldValue);
  });
});
