import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { addressFromPublicKey, decodeTransaction, formatAddress, fromHex, toHex, Transaction } from '../../../chain/index.js';
import { BankModule } from '../../../vm/modules/bank/bank.js';
import { CourtModule } from '../../../vm/modules/court/court.js';
import { DocklockModule } from '../../../vm/modules/docklock/docklock.js';
import { EncModule } from '../../../vm/modules/enc/enc.js';
import { StakingModule } from '../../../vm/modules/staking/staking.js';
import { contextOf, type Context } from '../context.js';
import { CliError, ExitCode, usage } from '../errors.js';
import { examples, kvTable } from '../output.js';
import { confirmOrFail } from '../prompt.js';
import { assertReceiptOk, DEFAULT_WAIT_S, renderReceipt, waitForReceipt } from '../receipt.js';
import { SIGNED_FORMAT, signedTxSchema, unsignedTxSchema, type UnsignedTxFile } from '../send.js';
import { fetchUnits, parseTimeout } from './tx.js';

/**
 * Offline signing: `--generate-only` (any command that sends) writes the unsigned transaction on a
 * machine with a node; `tx sign` signs it where the key is, with no node; `tx send` broadcasts the
 * signed bytes from anywhere with a node.
 */

async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw usage(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw usage(`${path} is not JSON: is it the file ${what === 'the unsigned transaction' ? '--generate-only' : 'tx sign'} wrote?`);
  }
}

/** Each module's reading of its payloads (describePayload: a pure function of the bytes, used here without a chain). */
const DESCRIBE: Record<string, (method: string, payload: Uint8Array) => Record<string, string> | undefined> = {
  bank: (m, p) => BankModule.prototype.describePayload.call(undefined as never, m, p),
  staking: (m, p) => StakingModule.prototype.describePayload.call(undefined as never, m, p),
  court: (m, p) => CourtModule.prototype.describePayload.call(undefined as never, m, p),
  docklock: (m, p) => DocklockModule.prototype.describePayload.call(undefined as never, m, p),
  enc: (m, p) => EncModule.prototype.describePayload.call(undefined as never, m, p),
};

/**
 * What the transaction does, read from its payload itself: the file's summary was written by
 * the machine that made it, which the signing machine need not trust. Refuses what it cannot read.
 */
function describeSigned(kind: string, payload: Uint8Array): [string, string][] {
  const dot = kind.indexOf('.');
  const describe = DESCRIBE[kind.slice(0, dot)];
  let args: Record<string, string> | undefined;
  try {
    args = describe?.(kind.slice(dot + 1), payload);
  } catch {
    args = undefined;
  }
  if (args === undefined) throw usage(`cannot read what a ${kind} transaction with this payload does: refusing to sign it`);
  return Object.entries(args);
}

/** The key that signs `u`: --key (which must be the sender's), else the keystore's key with the sender's public key. */
async function signingKey(ctx: Context, u: UnsignedTxFile): Promise<string> {
  if (ctx.opts.key !== undefined) {
    const info = await ctx.keystore.info(ctx.opts.key);
    if (info.publicKey !== u.sender) throw usage(`key "${ctx.opts.key}" is ${info.address}, but the transaction is from ${u.from}: pass the sender's key with --key`);
    return ctx.opts.key;
  }
  const match = (await ctx.keystore.list()).find((k) => k.publicKey === u.sender);
  if (!match) throw new CliError(ExitCode.UnknownKey, `no key in ${ctx.keystore.dir} signs for ${u.from}: import it, or pass --keystore`);
  return match.name;
}

async function writeOut(out: string | undefined, text: string): Promise<void> {
  if (out === undefined || out === '-') {
    process.stdout.write(text);
    return;
  }
  await writeFile(out, text, { flag: 'wx', mode: 0o600 }).catch((e: NodeJS.ErrnoException) => {
    throw usage(e.code === 'EEXIST' ? `${out} exists: pick another file or remove it` : `cannot write ${out}: ${e.message}`);
  });
}

/** A signed transaction from 0x-hex, a file of hex, or a file tx sign wrote; decoded and its signature checked here. */
async function readSigned(arg: string): Promise<Transaction> {
  let hex: string;
  if (arg.startsWith('0x')) hex = arg;
  else {
    let text: string;
    try {
      text = (await readFile(arg, 'utf8')).trim();
    } catch (e) {
      throw usage(`cannot read the signed transaction ${arg}: ${(e as Error).message}`);
    }
    if (text.startsWith('0x')) hex = text;
    else {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw usage(`${arg} is neither 0x-hex nor the JSON that metanode-cli tx sign writes`);
      }
      const f = signedTxSchema.safeParse(json);
      if (!f.success) throw usage(`${arg} is not a signed transaction (${SIGNED_FORMAT}): sign it first with metanode-cli tx sign`);
      hex = f.data.raw;
    }
  }
  let tx: Transaction;
  try {
    tx = decodeTransaction(fromHex(hex));
  } catch (e) {
    throw usage(`the signed transaction does not decode: ${(e as Error).message}`);
  }
  if (!tx.verifySignature()) throw usage('the transaction\'s signature does not verify: it was changed after signing, or signed by another key');
  return tx;
}

/** tx sign and tx send, under the tx group (registerTx makes it first). */
export function registerOfflineTx(program: Command): void {
  const tx = program.commands.find((c) => c.name() === 'tx');
  if (!tx) throw new Error('registerOfflineTx: register the tx group first');
  tx.command('sign').description('sign an unsigned transaction (from --generate-only) with a key of the keystore; needs no node')
    .argument('<file>', 'the unsigned transaction (JSON, as --generate-only wrote it)')
    .option('--out <file>', 'write the signed transaction here (default: stdout)')
    .option('-y, --yes', 'sign without asking for confirmation')
    .addHelpText('after', examples(['tx sign unsigned.json --out signed.json', 'tx sign unsigned.json --key cold --yes > signed.json']))
    .action(async (path: string, o: { out?: string; yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const parsed = unsignedTxSchema.safeParse(await readJsonFile(path, 'the unsigned transaction'));
      if (!parsed.success) throw usage(`${path} is not an unsigned transaction (metanode-unsigned-tx/1): write one with --generate-only on a command that sends`);
      const u = parsed.data;
      const from = formatAddress(addressFromPublicKey(fromHex(u.sender)));
      if (u.from !== from) throw usage(`${path} says it is from ${u.from}, but its sender key is ${from}'s: the file was changed; generate it again`);
      const keyName = await signingKey(ctx, u);
      const rows: [string, string][] = [
        ['from', `${from} (${keyName})`],
        ['kind', u.kind],
        ...describeSigned(u.kind, fromHex(u.payload)),
        ['fee', `${u.fee} base units`],
        ['nonce', u.nonce],
        ['chain', u.chainId],
      ];
      ctx.out.note(kvTable(rows));
      await confirmOrFail(ctx.prompter, 'Sign this transaction?', { yes: o.yes === true, action: 'sign the transaction' });
      const key = await ctx.unlock(keyName);
      let signed: Transaction;
      try {
        signed = Transaction.sign({ chainId: u.chainId, nonce: BigInt(u.nonce), sender: key.publicKey, fee: BigInt(u.fee), kind: u.kind, payload: fromHex(u.payload) }, key);
      } catch (e) {
        throw usage(`${path} does not make a valid transaction: ${(e as Error).message}`);
      } finally {
        key.secret.fill(0);
      }
      const hash = toHex(signed.hash());
      await writeOut(o.out, JSON.stringify({ format: SIGNED_FORMAT, hash, raw: toHex(signed.serialize()), summary: u.summary }, null, 2) + '\n');
      if (o.out !== undefined && o.out !== '-') {
        ctx.out.result({ hash, signed: o.out }, () => `signed ${hash} into ${o.out}\nbroadcast it with: metanode-cli tx send ${o.out}`);
      }
    });

  tx.command('send').description('broadcast a signed transaction (a file from tx sign, or 0x-hex), and optionally wait for it')
    .argument('<signed>', 'the file tx sign wrote, a file of 0x-hex, or 0x-hex')
    .option('--wait', 'wait until the transaction is committed and print its receipt')
    .option('--timeout <seconds>', 'with --wait: how long to wait', String(DEFAULT_WAIT_S))
    .addHelpText('after', examples(['tx send signed.json --wait', 'tx send 0xf8a1…']))
    .action(async (arg: string, o: { wait?: boolean; timeout: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const timeoutS = parseTimeout(o.timeout);
      const signed = await readSigned(arg);
      const hash = toHex(signed.hash());
      const chainId = await ctx.rpc.chainId();
      if (signed.chainId !== chainId) throw usage(`the transaction is for chain "${signed.chainId}", the node at ${ctx.rpc.url} runs "${chainId}"`);
      const sent = await ctx.rpc.sendRaw(toHex(signed.serialize()));
      if (sent.toLowerCase() !== hash) throw new CliError(ExitCode.NodeError, `the node answered with hash ${sent} for transaction ${hash}: is it the same version as metanode-cli?`);
      if (!o.wait) {
        ctx.out.result({ hash }, () => `sent ${hash}\nfollow it with: metanode-cli tx wait ${hash}`);
        return;
      }
      if (!ctx.out.json) ctx.out.note(`sent ${hash}`);
      const [receipt, units] = await Promise.all([waitForReceipt(ctx, hash, timeoutS), fetchUnits(ctx)]);
      ctx.out.result({ hash, receipt }, () => renderReceipt({ txHash: hash, ...receipt }, units));
      assertReceiptOk(receipt, hash);
    });
}
