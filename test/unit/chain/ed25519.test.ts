import { expect } from 'chai';
import { ChainErrorCode, Ed25519Key, ed25519Verify, utf8 } from '../../../chain/index.js';
import { expectChainError, flipBit, hex, unhex } from './fixtures.js';

// RFC 8032 section 7.1, TEST 1 (empty message).
const RFC_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

// RFC 8032 section 7.1, TEST 2 (one-byte message 0x72).
const RFC2_SECRET = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';
const RFC2_PUBLIC = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';
const RFC2_SIGNATURE =
  '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00';

describe('chain/ed25519', () => {
  it('RFC 8032 test 1: secret → public key', () => {
    expect(hex(Ed25519Key.fromSecret(unhex(RFC_SECRET)).publicKey)).to.equal(RFC_PUBLIC);
  });

  it('RFC 8032 test 1: signature of the empty message', () => {
    const key = Ed25519Key.fromSecret(unhex(RFC_SECRET));
    expect(hex(key.sign(new Uint8Array(0)))).to.equal(RFC_SIGNATURE);
    expect(ed25519Verify(unhex(RFC_PUBLIC), new Uint8Array(0), unhex(RFC_SIGNATURE))).to.equal(true);
  });

  it('RFC 8032 test 2: one-byte message', () => {
    const key = Ed25519Key.fromSecret(unhex(RFC2_SECRET));
    expect(hex(key.publicKey)).to.equal(RFC2_PUBLIC);
    expect(hex(key.sign(Uint8Array.of(0x72)))).to.equal(RFC2_SIGNATURE);
    expect(ed25519Verify(unhex(RFC2_PUBLIC), Uint8Array.of(0x72), unhex(RFC2_SIGNATURE))).to.equal(true);
  });

  it('rejects the RFC signature with any one bit flipped, or for another message or key', () => {
    const pub = unhex(RFC_PUBLIC);
    const sig = unhex(RFC_SIGNATURE);
    for (let bit = 0; bit < sig.length * 8; bit++) {
      expect(ed25519Verify(pub, new Uint8Array(0), flipBit(sig, bit)), `signature bit ${bit}`).to.equal(false);
    }
    expect(ed25519Verify(pub, Uint8Array.of(0), sig)).to.equal(false);
    expect(ed25519Verify(unhex(RFC2_PUBLIC), new Uint8Array(0), sig)).to.equal(false);
  });

  it('returns false (does not throw) for malformed keys and signatures', () => {
    const msg = utf8('m');
    const key = Ed25519Key.fromSecret(unhex(RFC_SECRET));
    const sig = key.sign(msg);
    expect(ed25519Verify(key.publicKey.subarray(0, 31), msg, sig)).to.equal(false);
    expect(ed25519Verify(key.publicKey, msg, sig.subarray(0, 63))).to.equal(false);
    expect(ed25519Verify(new Uint8Array(32).fill(0xff), msg, sig)).to.equal(false);
    expect(ed25519Verify(key.publicKey, msg, sig)).to.equal(true);
  });

  it('the strict rule: no small-order key or R, no S at or above the group order', () => {
    // The identity as public key and R with S = 0 satisfies [S]B = R + [k]A for every message.
    const identity = unhex('01' + '00'.repeat(31));
    const forged = Uint8Array.from([...identity, ...new Uint8Array(32)]);
    expect(ed25519Verify(identity, utf8('any message'), forged)).to.equal(false);
    // A good signature for a good key whose R is replaced by a small-order point.
    const key = Ed25519Key.fromSecret(unhex(RFC_SECRET));
    const sig = key.sign(utf8('m'));
    expect(ed25519Verify(key.publicKey, utf8('m'), Uint8Array.from([...identity, ...sig.subarray(32)]))).to.equal(false);
    // S + L (the same scalar, not reduced) is malleable and refused.
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    const sPlusL = s + L;
    const malleated = Uint8Array.from(sig);
    for (let i = 0; i < 32; i++) malleated[32 + i] = Number((sPlusL >> BigInt(8 * i)) & 0xffn);
    expect(sPlusL < 1n << 256n).to.equal(true);
    expect(ed25519Verify(key.publicKey, utf8('m'), malleated)).to.equal(false);
    expect(ed25519Verify(key.publicKey, utf8('m'), sig)).to.equal(true);
  });

  it('fromSecret refuses a secret that is not 32 bytes', () => {
    expectChainError(() => Ed25519Key.fromSecret(new Uint8Array(31)), ChainErrorCode.FieldLength);
    expectChainError(() => Ed25519Key.fromSecret(new Uint8Array(64)), ChainErrorCode.FieldLength);
  });

  it('fromSecret copies the secret: later changes to the caller buffer do not change the key', () => {
    const secret = unhex(RFC_SECRET);
    const key = Ed25519Key.fromSecret(secret);
    secret.fill(0);
    expect(hex(key.secret)).to.equal(RFC_SECRET);
    expect(hex(key.sign(new Uint8Array(0)))).to.equal(RFC_SIGNATURE);
  });
});
