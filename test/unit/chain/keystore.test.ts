import { expect } from 'chai';
import { KeystoreError, KeystoreErrorCode, sealSecret, toHex, unsealSecret, utf8 } from '../../../chain/index.js';

const SCRYPT_N = 2 ** 10;
const PASSWORD = 'correct horse battery';

describe('chain/keystore (sealed secrets, shared with metanode-cli)', () => {
  const secret = new Uint8Array(64).map((_, i) => i);
  const aad = utf8('public keys');

  it('round-trips, binds the additional data, and rejects a wrong password', async () => {
    const sealed = await sealSecret(secret, PASSWORD, { aad, scryptN: SCRYPT_N });
    expect(toHex(await unsealSecret(sealed, PASSWORD, { aad, secretLength: 64 }))).to.equal(toHex(secret));
    for (const [password, ad] of [[PASSWORD + 'x', aad], [PASSWORD, utf8('other keys')]] as const) {
      const e = await unsealSecret(sealed, password, { aad: ad, secretLength: 64 }).then(() => undefined, (err: unknown) => err);
      expect(e).to.be.instanceOf(KeystoreError).with.property('code', KeystoreErrorCode.WrongPassword);
    }
    const e = await unsealSecret(sealed, PASSWORD, { aad, secretLength: 32 }).then(() => undefined, (err: unknown) => err);
    expect(e).to.be.instanceOf(KeystoreError).with.property('code', KeystoreErrorCode.Malformed);
  });

  it('normalises the password (NFKC): the same password typed composed or decomposed opens it', async () => {
    const sealed = await sealSecret(secret, 'caf\u00e9 au lait', { aad, scryptN: SCRYPT_N });
    expect(toHex(await unsealSecret(sealed, 'cafe\u0301 au lait', { aad, secretLength: 64 }))).to.equal(toHex(secret));
  });
});
