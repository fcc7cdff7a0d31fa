import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const POOL = fileURLToPath(new URL('../../../consensus/verifier/index.js', import.meta.url));
const CHAIN = fileURLToPath(new URL('../../../chain/index.js', import.meta.url));

describe('consensus/verifier VerifierPool', () => {
  it('keeps the process alive while its workers hold checks, and lets it exit once idle', () => {
    // A process with nothing else to do awaits a batch big enough to go to the workers: it must
    // hear the answer (idle workers are unref'd, busy ones must not be), then exit on its own.
    const script = `
      import { VerifierPool } from ${JSON.stringify(POOL)};
      import { Ed25519Key } from ${JSON.stringify(CHAIN)};
      const key = Ed25519Key.fromSecret(new Uint8Array(32).fill(7));
      const msg = new Uint8Array(32).fill(1);
      const sig = key.sign(msg);
      const pool = new VerifierPool({ workers: 1 });
      const checks = Array.from({ length: 50 }, (_, i) => ({ publicKey: key.publicKey, messageHash: i % 2 ? msg : new Uint8Array(32), signature: sig }));
      const ok = await pool.verifyMany(checks);
      console.log(JSON.stringify({ valid: ok.filter(Boolean).length, invalid: ok.filter((x) => !x).length }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim())).to.deep.equal({ valid: 25, invalid: 25 });
  });
});
