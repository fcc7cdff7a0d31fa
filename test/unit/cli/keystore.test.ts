import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { addressFromPublicKey, Ed25519Key, formatAddress, toHex } from '../../../chain/index.js';
import { CliError, ExitCode } from '../../../bin/cli/errors.js';
import { Keystore, validateKeyName } from '../../../bin/cli/keystore.js';
import { rejectsWith } from './helpers.js';

describe('cli/keystore', () => {
  let dir: string;
  let ks: Keystore;
  const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);
  const password = 'correct horse battery';

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metanode-ks-'));
    ks = new Keystore({ dir: join(dir, 'keys'), scryptN: 2 ** 10 });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips a key: the unlocked key has the same secret, public key and address', async () => {
    const info = await ks.add('alice', secret, password);
    const expected = Ed25519Key.fromSecret(secret);
    expect(info.address).to.equal(formatAddress(addressFromPublicKey(expected.publicKey)));
    expect(info.publicKey).to.equal(toHex(expected.publicKey));
    const key = await ks.unlock('alice', password);
    expect(toHex(key.secret)).to.equal(toHex(secret));
    expect((await ks.list()).map((k) => k.name)).to.deep.equal(['alice']);
  });

  it('fails with WrongPassword (22) for a wrong password', async () => {
    await ks.add('alice', secret, password);
    const e = await rejectsWith(ks.unlock('alice', 'correct horse battery!'), ExitCode.WrongPassword);
    expect(e.message).to.match(/wrong password for key "alice"/);
  });

  it('keeps the secret out of the file: no hex, no raw bytes, only public data in clear', async () => {
    const info = await ks.add('alice', secret, password);
    const bytes = await readFile(info.file);
    const text = bytes.toString('utf8').toLowerCase();
    expect(text).not.to.include(Buffer.from(secret).toString('hex'));
    expect(bytes.includes(Buffer.from(secret))).to.equal(false);
    expect(text).not.to.include(Buffer.from(secret).toString('base64').toLowerCase());
    expect(text).not.to.include(password);
    const file = JSON.parse(bytes.toString("utf8")) as { address: string; publicKey: string; crypto: { kdf: string; cipher: string; kdfParams: { salt: string }; nonce: string } };
    expect(file.address).to.equal(info.address);
    expect(file.crypto.kdf).to.equal('scrypt');
    expect(file.crypto.cipher).to.equal('chacha20-poly1305');
    expect(fromHexLen(file.crypto.kdfParams.salt)).to.equal(32);
    expect(fromHexLen(file.crypto.nonce)).to.equal(12);
  });

  it('uses a fresh salt and nonce for every file', async () => {
    const a = JSON.parse(await readFile((await ks.add('a', secret, password)).file, 'utf8')) as { crypto: object };
    await ks.remove('a');
    const b = JSON.parse(await readFile((await ks.add('b', secret, password)).file, 'utf8')) as { crypto: object };
    expect(a.crypto).not.to.deep.equal(b.crypto);
  });

  it('detects a file whose address was swapped (the public key is bound to the ciphertext)', async () => {
    const info = await ks.add('alice', secret, password);
    const other = Ed25519Key.generate();
    const file = JSON.parse(await readFile(info.file, 'utf8')) as Record<string, unknown>;
    file.publicKey = toHex(other.publicKey);
    file.address = formatAddress(addressFromPublicKey(other.publicKey));
    await writeFile(info.file, JSON.stringify(file));
    await rejectsWith(ks.unlock('alice', password), ExitCode.WrongPassword);
  });

  it('refuses to overwrite a name (21) or to store the same key twice (21)', async () => {
    await ks.add('alice', secret, password);
    await rejectsWith(ks.add('alice', Ed25519Key.generate().secret, password), ExitCode.KeyExists);
    const e = await rejectsWith(ks.add('bob', secret, password), ExitCode.KeyExists);
    expect(e.message).to.include('"alice"');
  });

  it('reports an unknown key (20) with what to do', async () => {
    const e = await rejectsWith(ks.info('nobody'), ExitCode.UnknownKey);
    expect(e.message).to.match(/^no key named nobody .*; see metanode-cli keys list$/);
    await rejectsWith(ks.remove('nobody'), ExitCode.UnknownKey);
  });

  it('lists a damaged file as damaged and refuses to unlock it (23)', async () => {
    await ks.add('alice', secret, password);
    await writeFile(join(ks.dir, 'broken.json'), '{"version": 1');
    const list = await ks.list();
    expect(list.map((k) => [k.name, Boolean(k.damaged)])).to.deep.equal([['alice', false], ['broken', true]]);
    await rejectsWith(ks.unlock('broken', password), ExitCode.Keystore);
  });

  it('validates key names', () => {
    for (const ok of ['alice', 'a', 'bot-1', 'x_y', '0day']) expect(validateKeyName(ok)).to.equal(ok);
    for (const bad of ['', 'Alice', '../etc', 'a/b', '-x', 'a.json', 'mn1abc', 'x'.repeat(41), 'a b']) {
      expect(() => validateKeyName(bad), bad).to.throw(CliError).with.property('exitCode', ExitCode.Usage);
    }
  });
});

function fromHexLen(hex: string): number {
  return (hex.length - 2) / 2;
}
