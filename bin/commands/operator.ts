import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { SignJWT } from 'jose';
import { homePaths } from '../../node/index.js';
import { verifyAuditLog } from '../../storage/index.js';

/** "90s", "15m", "24h", "30d" → seconds. */
function duration(v: string): number {
  const m = /^(\d+)([smhd])$/.exec(v);
  if (!m) throw new InvalidArgumentError('must be a number and a unit: 90s, 15m, 24h or 30d');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function algorithm(key: KeyObject): string {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return 'EdDSA';
  if (t === 'rsa') return 'RS256';
  if (t === 'ec') return 'ES256';
  throw new Error(`a ${t} key cannot sign JSON-RPC tokens (use Ed25519, P-256 or RSA)`);
}

/** `metanode jwt …` (JSON-RPC tokens) and `metanode audit …` (the audit log). */
export function registerOperatorCommands(program: Command): void {
  const jwt = program.command('jwt').description('JSON-RPC bearer tokens: a signing key pair, and tokens signed with it (docs/operations.md)');
  jwt
    .command('keygen')
    .description('write an Ed25519 key pair: jwt.key (private, 0600: keep it off the node) and jwt.pub (set rpc.auth.jwtPublicKeyFile to it)')
    .requiredOption('--out <dir>', 'folder to write jwt.key and jwt.pub into')
    .action(async (o: { out: string }) => {
      const dir = resolve(o.out);
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // 'wx': never over an existing key (tokens signed with it would stop verifying).
      await writeFile(join(dir, 'jwt.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600, flag: 'wx' });
      await writeFile(join(dir, 'jwt.pub'), publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644, flag: 'wx' });
      console.log(`wrote ${join(dir, 'jwt.key')} (private) and ${join(dir, 'jwt.pub')} (public)`);
      console.log(`on each node: "rpc": { "auth": { "jwtPublicKeyFile": "${join(dir, 'jwt.pub')}" } } in config.json`);
    });
  jwt
    .command('token')
    .description('print a token signed with a private key (PEM) that grants the given permissions until it expires')
    .requiredOption('--key <file>', 'the private key (jwt.key)')
    .requiredOption('--permissions <list>', 'comma-separated: write, admin, subscribe, read, a method name, or *')
    .option('--subject <name>', 'who the token is for (recorded in the audit log)', '')
    .option('--expires <duration>', 'lifetime: 90s, 15m, 24h, 30d', duration, 86400)
    .action(async (o: { key: string; permissions: string; subject: string; expires: number }) => {
      const key = createPrivateKey(await readFile(resolve(o.key), 'utf8'));
      const permissions = o.permissions.split(',').map((p) => p.trim()).filter(Boolean);
      if (permissions.length === 0) throw new Error('--permissions names nothing');
      let token = new SignJWT({ permissions }).setProtectedHeader({ alg: algorithm(key), typ: 'JWT' }).setIssuedAt().setExpirationTime(`${o.expires}s`);
      if (o.subject) token = token.setSubject(o.subject);
      console.log(await token.sign(key));
    });

  const audit = program.command('audit').description("the node's audit log of accepted write requests and admin actions");
  audit
    .command('verify')
    .description('check every record of the audit log: checksums, numbering and the hash chain (exits 1 at the first break)')
    .requiredOption('--home <dir>', 'node home folder')
    .option('--show', 'also print every record (one JSON line each)')
    .action(async (o: { home: string; show?: boolean }) => {
      const dir = homePaths(resolve(o.home)).audit;
      const r = await verifyAuditLog(dir, { keep: o.show === true });
      if (o.show) for (const rec of r.list ?? []) console.log(JSON.stringify(rec));
      if (r.ok) {
        console.log(`audit log ${dir}: ${r.records} record(s), chain intact, head ${r.head}`);
        return;
      }
      console.error(`audit log ${dir}: BROKEN at record ${r.problem!.seq} (${r.problem!.file}): ${r.problem!.reason}; the ${r.records} record(s) before it verify, up to ${r.head}`);
      process.exitCode = 1;
    });
}
