import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { fromHex, toHex } from '../../chain/index.js';
import { DocklockError, DocklockErrorCode, JOB_STATUS_NAMES, WorkerPool, DEFAULT_POOL, inputHash, judge, localJobId, parseReceipt, reExecution, type DocklockReceipt, type JobRun } from '../../docklock/index.js';
import { readKeyPassword, readValidatorKey } from '../../node/keyfile.js';
import { RpcClient } from '../cli/rpc-client.js';

/** Exit codes of `metanode docklock`: 0 a result (or a match), 1 a mismatch, 2 bad usage or a refused program, 3 anything else (a node that cannot be reached…). */
const Exit = { Ok: 0, Mismatch: 1, Usage: 2, Error: 3 } as const;

class DocklockUsage extends Error {}

/** `0x…` hex or `@file`. */
async function bytesArg(text: string, what: string): Promise<Uint8Array> {
  if (text.startsWith('0x')) {
    try {
      return fromHex(text);
    } catch {
      throw new DocklockUsage(`${what} must be 0x-hex with an even number of digits, or @file`);
    }
  }
  if (!text.startsWith('@')) throw new DocklockUsage(`${what} takes 0x-hex or @file, not "${text.slice(0, 40)}"`);
  return readBytes(text.slice(1), what);
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new DocklockUsage(`cannot read ${what} from ${path}: ${(e as Error).message}`);
  }
}

function uint(name: string, max = Number.MAX_SAFE_INTEGER, min = 0) {
  return (v: string): number => {
    if (!/^(0|[1-9][0-9]*)$/.test(v) || Number(v) > max || Number(v) < min) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return Number(v);
  };
}

const logText = (l: Uint8Array) => new TextDecoder().decode(l);

/** The JSON a local run prints: the same bytes on every machine for the same command. */
function runJson(run: JobRun, receipt: DocklockReceipt): Record<string, unknown> {
  const r = run.result;
  return {
    status: JOB_STATUS_NAMES[r.status],
    trap: r.trap,
    fuelUsed: r.fuelUsed,
    output: toHex(r.output),
    outputHash: toHex(r.outputHash),
    witnessRoot: toHex(r.witnessRoot),
    usage: r.usage,
    logs: r.logs.map(logText),
    receipt: receipt.toJson(),
  };
}

async function signer(keyFile: string | undefined, passwordFile: string | undefined) {
  if (!keyFile) return undefined;
  try {
    const k = await readValidatorKey(keyFile, { password: await readKeyPassword({ passwordFile, env: process.env }) });
    return k.ed25519;
  } catch (e) {
    throw new DocklockUsage(`cannot read the signing key ${keyFile}: ${(e as Error).message}`);
  }
}

async function fail(e: unknown): Promise<never> {
  if (e instanceof DocklockUsage || e instanceof InvalidArgumentError) {
    console.error(`error: ${e.message}`);
    process.exit(Exit.Usage);
  }
  if (e instanceof DocklockError) {
    console.error(`error: ${e.code}: ${e.message}`);
    // A refused program or receipt is the caller's input; a timeout or an engine fault is not.
    process.exit(e.code === DocklockErrorCode.Timeout || e.code === DocklockErrorCode.EngineFault ? Exit.Error : Exit.Usage);
  }
  console.error(`error: ${(e as Error).message}`);
  process.exit(Exit.Error);
}

/** `metanode docklock run|verify`: run a job locally and print its result and receipt; re-execute a receipt. */
export function registerDocklockCommands(program: Command): void {
  const dl = program.command('docklock').description('DockLock: run a WebAssembly job locally with its receipt, or re-execute a receipt to check it (docs/docklock.md)');
  // A bad or missing option is a usage error (2), not a mismatch (1); --help is 0.
  const usageExit = (c: Command) => c.exitOverride((err) => process.exit(err.exitCode === 0 ? Exit.Ok : Exit.Usage));
  const run = dl.command('run');
  usageExit(run);
  run
    .description('run a job in a DockLock worker and print a JSON result: status, fuel used, output, output hash, witness root, receipt')
    .requiredOption('--program <file>', 'the program (.wasm)')
    .option('--input <bytes>', 'the input: 0x-hex or @file (default: empty)')
    .requiredOption('--fuel <n>', 'the most fuel the job may burn', uint('--fuel'))
    .option('--clock <ms>', 'the virtual clock the job sees, milliseconds', uint('--clock'), 0)
    .option('--job-id <hex>', 'the job id (32 bytes, 0x-hex; default: the hash of program, input, fuel and clock)')
    .option('--key <file>', 'sign the receipt with this validator key file (`metanode init` / `keys` wrote it); default: unsigned')
    .option('--password-file <file>', 'the password of an encrypted --key')
    .option('--prev <hash>', "with --key: the hash of this executor's previous receipt (its hash chain)")
    .option('--out <file>', 'also write the receipt (JSON) to this file')
    .option('--timeout <ms>', 'the wall-clock backstop: a job still running is stopped and no result is claimed', uint('--timeout', Number.MAX_SAFE_INTEGER, 1), DEFAULT_POOL.timeoutMs)
    .action(async (o: { program: string; input?: string; fuel: number; clock: number; jobId?: string; key?: string; passwordFile?: string; prev?: string; out?: string; timeout: number }) => {
      const pool = new WorkerPool({ ...DEFAULT_POOL, timeoutMs: o.timeout });
      try {
        const code = await readBytes(o.program, 'the program');
        const input = o.input ? await bytesArg(o.input, '--input') : new Uint8Array(0);
        let jobId = localJobId(code, input, o.fuel, BigInt(o.clock));
        if (o.jobId) {
          if (!/^0x[0-9a-fA-F]{64}$/.test(o.jobId)) throw new DocklockUsage('--job-id must be 32 bytes of 0x-hex');
          jobId = fromHex(o.jobId, 32);
        }
        if (o.prev && !/^0x[0-9a-fA-F]{64}$/.test(o.prev)) throw new DocklockUsage('--prev must be a receipt hash (32 bytes of 0x-hex)');
        if (o.prev && !o.key) throw new DocklockUsage('--prev chains a signed receipt: add --key');
        const key = await signer(o.key, o.passwordFile);
        const run = await pool.run(code, { jobId, input, fuel: o.fuel, clock: BigInt(o.clock) });
        const receipt = key ? run.receipt.sign(key, o.prev ? fromHex(o.prev, 32) : undefined) : run.receipt;
        const json = runJson(run, receipt);
        if (o.out) await writeFile(o.out, `${JSON.stringify(receipt.toJson(), null, 2)}\n`);
        console.log(JSON.stringify(json, null, 2));
      } catch (e) {
        await fail(e);
      } finally {
        await pool.close();
      }
    });

  const verify = dl.command('verify');
  usageExit(verify);
  verify
    .description('re-execute the job a receipt describes and say "match" or which fields differ (exit 0 on a match, 1 on a difference)')
    .argument('[receipt]', 'the receipt: a file (the JSON `docklock run` prints or --out wrote, or its hex); or use --rpc and --job')
    .option('--program <file>', 'the program (.wasm) the receipt names')
    .option('--input <bytes>', 'the input: 0x-hex or @file (default: empty)')
    .option('--rpc <url>', "a node's JSON-RPC URL: verify a job run on chain (with --job), fetching its receipt, program and input")
    .option('--job <hex>', 'with --rpc: the job id (the docklock.run transaction hash)')
    .addOption(new Option('--rpc-token <jwt>', 'with --rpc: bearer token for a node with JSON-RPC authentication').env('METANODE_RPC_TOKEN'))
    .option('--json', 'print the verdict as JSON')
    .option('--timeout <ms>', 'the wall-clock backstop of the re-execution (exit 3 when it is reached)', uint('--timeout', Number.MAX_SAFE_INTEGER, 1), DEFAULT_POOL.timeoutMs)
    .action(async (file: string | undefined, o: { program?: string; input?: string; rpc?: string; job?: string; json?: boolean; rpcToken?: string; timeout: number }) => {
      try {
        let claimed: DocklockReceipt;
        let code: Uint8Array;
        let input: Uint8Array;
        if (o.rpc) {
          if (!o.job || file) throw new DocklockUsage('with --rpc, name the job with --job (and no receipt file)');
          if (o.program || o.input) throw new DocklockUsage('with --rpc the program and the input come from the chain: drop --program and --input');
          const rpc = new RpcClient({ url: o.rpc, timeoutMs: 30_000, ...(o.rpcToken ? { token: o.rpcToken } : {}) });
          const j = (await rpc.moduleQuery('docklock', 'job', { id: o.job })) as { program: string; input: string | null; receipt: { bytes: string; trap: string } };
          claimed = parseReceipt(j.receipt.bytes);
          if (j.input === null) {
            // The chain refused the job (fuel or input over its caps) and did not keep the input: nothing to re-execute.
            console.log(`the chain refused this job (${j.receipt.trap}) and kept no input: nothing to re-execute`);
            process.exitCode = Exit.Ok;
            return;
          }
          const p = (await rpc.moduleQuery('docklock', 'program', { id: j.program, code: 1 })) as { code: string };
          code = fromHex(p.code);
          input = fromHex(j.input);
        } else {
          if (!file) throw new DocklockUsage('give a receipt file, or --rpc and --job');
          if (!o.program) throw new DocklockUsage('--program is needed to re-execute a receipt from a file');
          claimed = parseReceipt(new TextDecoder().decode(await readBytes(file, 'the receipt')));
          code = await readBytes(o.program, 'the program');
          input = o.input ? await bytesArg(o.input, '--input') : new Uint8Array(0);
        }
        // In a worker, under the wall-clock backstop: a receipt may name a program that loops on its fuel limit.
        const pool = new WorkerPool({ ...DEFAULT_POOL, timeoutMs: o.timeout });
        let verdict: ReturnType<typeof judge>;
        try {
          verdict = judge(claimed, (await pool.run(code, reExecution(claimed, input))).receipt);
        } finally {
          await pool.close();
        }
        if (o.json) console.log(JSON.stringify({ match: verdict.match, signature: verdict.signature, differences: verdict.differences, receipt: claimed.toJson().hash, inputHash: toHex(inputHash(input)) }, null, 2));
        else if (verdict.match) console.log(`match: the re-execution gives every field the receipt claims (signature: ${verdict.signature})`);
        else {
          console.log('MISMATCH:');
          for (const d of verdict.differences) console.log(`  ${d.field}: the receipt says ${d.claimed}, the re-execution gives ${d.actual}`);
        }
        process.exitCode = verdict.match ? Exit.Ok : Exit.Mismatch;
      } catch (e) {
        await fail(e);
      }
    });
}
