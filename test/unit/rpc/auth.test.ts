import { expect } from 'chai';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { JwtAuth, RpcErrorCode, bearerToken, grants } from '../../../rpc/index.js';
import { removeDir, tempDir } from '../fixtures.js';

async function token(key: KeyObject, claims: Record<string, unknown>, o: { alg?: string; exp?: number | null } = {}): Promise<string> {
  let t = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'EdDSA' }).setIssuedAt();
  if (o.exp !== null) t = t.setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 3600);
  return t.sign(key);
}

async function rejection(p: Promise<unknown>): Promise<JSONRPCErrorException> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(JSONRPCErrorException);
    expect((e as JSONRPCErrorException).code).to.equal(RpcErrorCode.Unauthorized);
    return e as JSONRPCErrorException;
  }
  throw new Error('expected a rejection');
}

describe('rpc/auth JwtAuth', () => {
  let dir: string;
  let auth: JwtAuth;
  const ed = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  before(async () => {
    dir = await tempDir('metanode-jwt-');
    await writeFile(join(dir, 'jwt.pub'), ed.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'ec.pub'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'junk.pub'), 'not a key');
    auth = await JwtAuth.load(join(dir, 'jwt.pub'));
  });
  after(async () => removeDir(dir));

  it('verifies a token signed by the key, with its subject and permissions', async () => {
    const g = await auth.verify(await token(ed.privateKey, { sub: 'ops', permissions: ['write', 'admin_peers'] }));
    expect(g.subject).to.equal('ops');
    expect(grants(g, 'write', 'tx_send')).to.equal(true);
    expect(grants(g, 'admin', 'admin_peers')).to.equal(true);
    expect(grants(g, 'admin', 'admin_addPeer')).to.equal(false);
    const all = await auth.verify(await token(ed.privateKey, { permissions: ['*'] }));
    expect(grants(all, 'admin', 'admin_addPeer')).to.equal(true);
    expect(all.subject).to.equal('');
  });

  it('refuses, saying why: another key, expired, no exp, no permissions, another algorithm, garbage', async () => {
    expect((await rejection(auth.verify(await token(other.privateKey, { permissions: ['*'] })))).message).to.match(/signature does not verify/);
    expect((await rejection(auth.verify(await token(ed.privateKey, { permissions: ['*'] }, { exp: Math.floor(Date.now() / 1000) - 10 })))).message).to.match(/expired/);
    expect((await rejection(auth.verify(await token(ed.privateKey, { permissions: ['*'] }, { exp: null })))).message).to.match(/claim exp is missing/);
    expect((await rejection(auth.verify(await token(ed.privateKey, { sub: 'x' })))).message).to.match(/no "permissions" claim/);
    expect((await rejection(auth.verify(await token(ec.privateKey, { permissions: ['*'] }, { alg: 'ES256' })))).message).to.match(/must be signed with EdDSA/);
    expect((await rejection(auth.verify('a.b.c'))).message).to.match(/not a well-formed JWT/);
    // A token altered after signing (its permissions widened) no longer verifies.
    const [h, , s] = (await token(ed.privateKey, { permissions: ['read'] })).split('.');
    const widened = Buffer.from(JSON.stringify({ permissions: ['*'], exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
    expect((await rejection(auth.verify(`${h}.${widened}.${s}`))).message).to.match(/signature/);
  });

  it('a remembered token still expires', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const t = await token(ed.privateKey, { permissions: ['*'] }, { exp });
    await auth.verify(t);
    await auth.verify(t, Date.now() + 30_000);
    expect((await rejection(auth.verify(t, exp * 1000 + 1000))).message).to.match(/expired/);
  });

  it('the key decides the algorithm (P-256 → ES256); a file that is not a key is refused at load', async () => {
    const es = await JwtAuth.load(join(dir, 'ec.pub'));
    expect((await es.verify(await token(ec.privateKey, { permissions: ['write'] }, { alg: 'ES256' }))).permissions.has('write')).to.equal(true);
    let err: Error | undefined;
    await JwtAuth.load(join(dir, 'junk.pub')).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/cannot read the JSON-RPC token public key/);
  });

  it('bearerToken reads "Authorization: Bearer <token>" only', () => {
    expect(bearerToken('Bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('bearer  abc ')).to.equal('abc');
    expect(bearerToken('Basic dXNlcg==')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
  });
});
