import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { addressFromPublicKey, Ed25519Key, formatAddress, KeystoreError, KeystoreErrorCode, metanodeKeyPath, secretFromMnemonic, toHex, Transaction } from '../../../chain/index.js';
import { encryptKey } from '../../../bin/cli/keystore.js';
import { ClientError, ClientErrorCode, signerFromKeyFile, signerFromMnemonic, signerFromSecret } from '../../../client/index.js';

const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('client/signer', () => {
  it('signs with a secret: the signature verifies and the sender is its key', () => {
    const key = Ed25519Key.generate();
    const s = signerFromSecret(toHex(key.secret));
    expect(s.addressText).to.equal(formatAddress(addressFromPublicKey(key.publicKey)));
    const tx = s.sign({ chainId: 'c', nonce: 0n, fee: 1000n, kind: 'bank.transfer', payload: new Uint8Array([1]) });
    expect(tx).to.be.instanceOf(Transaction);
    expect(tx.verifySignature()).to.equal(true);
    expect(() => signerFromSecret('0x1234')).to.throw(ClientError).with.property('code', ClientErrorCode.BadArgument);
  });

  it('derives from a mnemonic the key chain/mnemonic derives, by index; a bad phrase is CLIENT_BAD_ARGUMENT', () => {
    const s0 = signerFromMnemonic(ABANDON);
    expect(toHex(s0.publicKey)).to.equal(toHex(Ed25519Key.fromSecret(secretFromMnemonic(ABANDON)).publicKey));
    const s2 = signerFromMnemonic(ABANDON, { index: 2 });
    expect(toHex(s2.publicKey)).to.equal(toHex(Ed25519Key.fromSecret(secretFromMnemonic(ABANDON, { path: metanodeKeyPath(2) })).publicKey));
    expect(s2.addressText).to.not.equal(s0.addressText);
    expect(() => signerFromMnemonic('abandon about')).to.throw(ClientError).with.property('code', ClientErrorCode.BadArgument);
  });

  it('opens a metanode-cli key file with its password, and refuses a wrong one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metanode-signer-'));
    try {
      const key = Ed25519Key.generate();
      const file = join(dir, 'k.json');
      await writeFile(file, JSON.stringify(await encryptKey('k', key.secret, 'password-123', 1 << 10)));
      const s = await signerFromKeyFile(file, 'password-123');
      expect(toHex(s.publicKey)).to.equal(toHex(key.publicKey));
      const wrong = await signerFromKeyFile(file, 'not-it').then(() => undefined, (e: unknown) => e);
      expect(wrong).to.be.instanceOf(KeystoreError).with.property('code', KeystoreErrorCode.WrongPassword);
      const missing = await signerFromKeyFile(join(dir, 'none.json'), 'x').then(() => undefined, (e: unknown) => e);
      expect(missing).to.be.instanceOf(ClientError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
