import { expect } from 'chai';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlsKey, Ed25519Key, formatAddress, toHex } from '../../../chain/index.js';
import { ValidatorKey } from '../../../consensus/index.js';
import { NodeError, NodeErrorCode, encryptValidatorKey, inspectValidatorKey, readKeyPassword, readValidatorKey, writeValidatorKey } from '../../../node/index.js';
import { expectRejectsCode, removeDir, tempDir, validatorKey } from '../fixtures.js';

const SCRYPT_N = 2 ** 10;
const PASSWORD = 'correct horse battery';
const pw = (password: string) => ({ password, from: 'the test' });
type Json = Record<string, unknown> & { crypto: { ciphertext: string } };

describe('node/keyfile (keys/validator.json)', () => {
  let dir: string;
  let path: string;
  const key = validatorKey(0);

  beforeEach(async () => {
    dir = await tempDir('metanode-keyfile-');
    path = join(dir, 'keys', 'validator.json');
  });
  afterEach(() => removeDir(dir));

  const same = (a: ValidatorKey, b: ValidatorKey) => {
    expect(toHex(a.ed25519.secret)).to.equal(toHex(b.ed25519.secret));
    expect(toHex(a.bls.secret)).to.equal(toHex(b.bls.secret));
    expect(toHex(a.address)).to.equal(toHex(b.address));
  };
  const json = async (): Promise<Json> => JSON.parse(await readFile(path, 'utf8')) as Json;
  const rewrite = (j: object) => writeFile(path, JSON.stringify(j));

  it('round-trips a plaintext key, written 0600 in a 0700 folder, with no temporary file left', async () => {
    await writeValidatorKey(path, key);
    same(await readValidatorKey(path), key);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).to.equal(0o700);
    expect(await readdir(join(dir, 'keys'))).to.deep.equal(['validator.json']);
    expect((await inspectValidatorKey(path)).encrypted).to.equal(false);
  });

  it('round-trips an encrypted key; the file holds no secret, only public data in clear', async () => {
    await writeValidatorKey(path, key, { password: PASSWORD, scryptN: SCRYPT_N });
    same(await readValidatorKey(path, { password: pw(PASSWORD) }), key);
    const text = (await readFile(path, 'utf8')).toLowerCase();
    for (const secret of [key.ed25519.secret, key.bls.secret]) expect(text).not.to.include(toHex(secret).slice(2));
    expect(text).not.to.include(PASSWORD);
    const j = await json();
    expect(j).to.include({ version: 1, name: 'validator', address: formatAddress(key.address), publicKey: toHex(key.ed25519.publicKey), blsPublicKey: toHex(key.bls.publicKey) });
    const info = await inspectValidatorKey(path);
    expect(info).to.include({ encrypted: true, address: formatAddress(key.address), scryptN: SCRYPT_N, mode: 0o600 });
  });

  it('fails with NODE_WRONG_PASSWORD for a wrong password, naming both ways to give it', async () => {
    await writeValidatorKey(path, key, { password: PASSWORD, scryptN: SCRYPT_N });
    const e = await expectRejectsCode(() => readValidatorKey(path, { password: pw(PASSWORD + '!') }), NodeError, NodeErrorCode.WrongPassword);
    expect(e.message).to.include('--password-file').and.include('METANODE_KEY_PASSWORD').and.include('from the test');
  });

  it('fails with NODE_KEY_LOCKED when an encrypted key gets no password, naming both ways', async () => {
    await writeValidatorKey(path, key, { password: PASSWORD, scryptN: SCRYPT_N });
    const e = await expectRejectsCode(() => readValidatorKey(path), NodeError, NodeErrorCode.KeyLocked);
    expect(e.message).to.include('--password-file').and.include('METANODE_KEY_PASSWORD');
  });

  it('detects a tampered encrypted file: a changed ciphertext, or another public key in clear', async () => {
    await writeValidatorKey(path, key, { password: PASSWORD, scryptN: SCRYPT_N });
    const original = await json();
    const c = original.crypto.ciphertext;
    await rewrite({ ...original, crypto: { ...original.crypto, ciphertext: c.slice(0, 10) + (c[10] === '0' ? '1' : '0') + c.slice(11) } });
    await expectRejectsCode(() => readValidatorKey(path, { password: pw(PASSWORD) }), NodeError, NodeErrorCode.WrongPassword);
    // Another validator's public keys and address over this ciphertext: the additional data differs.
    const other = validatorKey(1);
    await rewrite({ ...original, address: formatAddress(other.address), publicKey: toHex(other.ed25519.publicKey), blsPublicKey: toHex(other.bls.publicKey) });
    await expectRejectsCode(() => readValidatorKey(path, { password: pw(PASSWORD) }), NodeError, NodeErrorCode.WrongPassword);
    await rewrite({ ...original, crypto: { ...original.crypto, ciphertext: c.slice(0, -2) } });
    await expectRejectsCode(() => readValidatorKey(path, { password: pw(PASSWORD) }), NodeError, NodeErrorCode.BadKey);
  });

  it('refuses a key whose stored address is not its own (plaintext and encrypted)', async () => {
    const other = formatAddress(validatorKey(1).address);
    await writeValidatorKey(path, key);
    await rewrite({ ...(await json()), address: other });
    const e = await expectRejectsCode(() => readValidatorKey(path), NodeError, NodeErrorCode.BadKey);
    expect(e.message).to.include(other).and.include(formatAddress(key.address));
    await writeValidatorKey(path, key, { password: PASSWORD, scryptN: SCRYPT_N });
    await rewrite({ ...(await json()), address: other });
    await expectRejectsCode(() => readValidatorKey(path, { password: pw(PASSWORD) }), NodeError, NodeErrorCode.BadKey);
    await expectRejectsCode(() => inspectValidatorKey(path), NodeError, NodeErrorCode.BadKey);
  });

  it('refuses a key file open to other users, with the chmod to run', async () => {
    if (process.platform === 'win32' || process.getuid?.() === undefined) return;
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      await writeValidatorKey(path, key);
      await chmod(path, mode);
      const e = await expectRejectsCode(() => readValidatorKey(path), NodeError, NodeErrorCode.KeyPermissions);
      expect(e.message).to.include(`chmod 600 ${path}`).and.include(`0${mode.toString(8)}`);
    }
    await chmod(path, 0o400);
    same(await readValidatorKey(path), key);
  });

  it('encrypts a plaintext key in place: the same key after, refused the second time', async () => {
    await writeValidatorKey(path, key);
    await encryptValidatorKey(path, PASSWORD, { scryptN: SCRYPT_N });
    same(await readValidatorKey(path, { password: pw(PASSWORD) }), key);
    expect(await readdir(join(dir, 'keys'))).to.deep.equal(['validator.json']);
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    await expectRejectsCode(() => encryptValidatorKey(path, PASSWORD, { scryptN: SCRYPT_N }), NodeError, NodeErrorCode.BadKey);
  });

  it('reads a malformed file as NODE_BAD_KEY', async () => {
    await writeValidatorKey(path, key);
    await writeFile(path, '{"address": "mn1');
    await expectRejectsCode(() => readValidatorKey(path), NodeError, NodeErrorCode.BadKey);
    await rewrite({ address: 'x', ed25519Secret: '0x00' });
    await expectRejectsCode(() => readValidatorKey(path), NodeError, NodeErrorCode.BadKey);
  });

  it('takes the password from a file (one trailing newline dropped), else the environment', async () => {
    const file = join(dir, 'pw');
    await writeFile(file, 'secret words\n');
    expect(await readKeyPassword({ passwordFile: file, env: { METANODE_KEY_PASSWORD: 'other' } })).to.deep.equal({ password: 'secret words', from: `--password-file ${file}` });
    expect(await readKeyPassword({ env: { METANODE_KEY_PASSWORD: 'from env' } })).to.deep.equal({ password: 'from env', from: 'METANODE_KEY_PASSWORD' });
    expect(await readKeyPassword({ env: {} })).to.equal(undefined);
    await expectRejectsCode(() => readKeyPassword({ passwordFile: join(dir, 'missing'), env: {} }), NodeError, NodeErrorCode.KeyLocked);
    await writeFile(file, '\n');
    await expectRejectsCode(() => readKeyPassword({ passwordFile: file, env: {} }), NodeError, NodeErrorCode.KeyLocked);
  });

  it('a validator key made from fresh secrets survives the trip through a file', async () => {
    const fresh = new ValidatorKey(Ed25519Key.generate(), BlsKey.generate());
    await writeValidatorKey(path, fresh, { password: PASSWORD, scryptN: SCRYPT_N });
    const back = await readValidatorKey(path, { password: pw(PASSWORD) });
    expect(toHex(back.bls.publicKey)).to.equal(toHex(fresh.bls.publicKey));
    expect(toHex(back.ed25519.publicKey)).to.equal(toHex(fresh.ed25519.publicKey));
  });
});
