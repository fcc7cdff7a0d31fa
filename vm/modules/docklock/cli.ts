/** metanode-cli docklock …: deploy programs, run small jobs in consensus, read programs and jobs (vm/cli.ts describes the shape). */
import { fromHex, toHex } from '../../../chain/index.js';
import { DocklockError, LIMITS, loadProgram, programId } from '../../../docklock/index.js';
import type { CliEnv, ModuleCli } from '../../cli.js';
import { encodeDeploy, encodeRun } from './codec.js';

/** A program named by its id (0x + 64 hex digits) or by its .wasm file (whose id is computed). */
async function programOf(text: string, env: CliEnv): Promise<Uint8Array> {
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) return fromHex(text, 32);
  return programId(await env.bytes(text, 'the program'));
}

function fuelOf(text: string | undefined, env: CliEnv): number {
  if (!text || !/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) throw env.usage(`--fuel must be a positive integer, not "${text ?? ''}"`);
  return Number(text);
}

interface ProgramJson {
  id: string;
  instrumentedHash: string;
  bytes: number;
  deployer: string;
  height: number;
}
interface JobJson {
  id: string;
  program: string;
  height: number;
  output: string;
  outputText: string | null;
  receipt: { status: string; trap: string; fuelUsed: number; fuelLimit: number; outputHash: string; witnessRoot: string; hash: string };
}

export const docklockCli: ModuleCli = {
  group: 'docklock',
  description: 'DockLock: deploy WebAssembly programs, run small jobs in consensus, read programs and jobs',
  commands: [
    {
      name: 'deploy',
      description: 'deploy a program (a .wasm file): checked here first, then validated and stored by content hash on chain, its fee burned per byte',
      args: [{ name: 'file', description: 'the .wasm file' }],
      examples: ['metanode-cli docklock deploy examples/jobs/sha256.wasm --key alice --yes --wait'],
      tx: async (args, _o, env) => {
        const code = await env.bytes(args[0]!, 'the program');
        const p = (await env.query('docklock', 'params')) as { maxProgramBytes: string; deployFeePerByte: string };
        let id: Uint8Array;
        try {
          id = loadProgram(code, Math.min(Number(p.maxProgramBytes), LIMITS.programBytes)).id;
        } catch (e) {
          if (e instanceof DocklockError) throw env.usage(`${args[0]} is refused: ${e.message}`);
          throw e;
        }
        const fee = BigInt(code.length) * BigInt(p.deployFeePerByte);
        return {
          kind: 'docklock.deploy',
          payload: encodeDeploy({ code }),
          rows: [
            ['program', toHex(id)],
            ['bytes', String(code.length)],
            ['burned', `${fee} NEX base units (besides the fee)`],
          ],
          summary: { program: toHex(id), bytes: code.length, burned: fee.toString() },
          question: `Deploy this ${code.length}-byte program?`,
        };
      },
    },
    {
      name: 'run',
      description: 'run a deployed program in consensus: every validator executes it in the block; `docklock job <tx hash>` shows its receipt and output',
      args: [{ name: 'program', description: 'the program id (0x…) or its .wasm file' }],
      options: [
        { flags: '--input <bytes>', description: 'the input: 0x-hex or @file (default: empty)' },
        { flags: '--fuel <n>', description: 'the most fuel the job may burn (at most the chain’s maxRunFuel)', required: true },
      ],
      examples: ['metanode-cli docklock run examples/jobs/sha256.wasm --input 0x616263 --fuel 100000 --key alice --yes --wait'],
      tx: async (args, o, env) => {
        const program = await programOf(args[0]!, env);
        const input = o.input ? await env.bytes(o.input, '--input') : new Uint8Array(0);
        const fuel = fuelOf(o.fuel, env);
        return {
          kind: 'docklock.run',
          payload: encodeRun({ program, input, fuel }),
          rows: [
            ['program', toHex(program)],
            ['input', `${input.length} bytes`],
            ['fuel', String(fuel)],
          ],
          summary: { program: toHex(program), inputBytes: input.length, fuel },
          question: `Run this job in consensus with up to ${fuel} fuel?`,
        };
      },
    },
    {
      name: 'program',
      description: 'show a deployed program: instrumented hash, size, deployer, height',
      args: [{ name: 'program', description: 'the program id (0x…) or its .wasm file' }],
      read: async (args, _o, env) => {
        const id = await programOf(args[0]!, env);
        const p = (await env.query('docklock', 'program', { id: toHex(id) })) as ProgramJson;
        env.print(p, () => [`program      ${p.id}`, `instrumented ${p.instrumentedHash}`, `bytes        ${p.bytes}`, `deployer     ${p.deployer}`, `height       ${p.height}`].join('\n'));
      },
    },
    {
      name: 'job',
      description: 'show a job run in consensus: status, fuel, output and its receipt',
      args: [{ name: 'id', description: 'the job id: the run transaction’s hash (0x…)' }],
      read: async (args, _o, env) => {
        const j = (await env.query('docklock', 'job', { id: args[0]! })) as JobJson;
        const r = j.receipt;
        env.print(j, () =>
          [
            `job          ${j.id}`,
            `program      ${j.program}`,
            `height       ${j.height}`,
            `status       ${r.status}${r.trap ? ` (${r.trap})` : ''}`,
            `fuel         ${r.fuelUsed} of ${r.fuelLimit}`,
            `output       ${j.outputText !== null ? JSON.stringify(j.outputText) : j.output}`,
            `output hash  ${r.outputHash}`,
            `witness root ${r.witnessRoot}`,
            `receipt      ${r.hash}`,
          ].join('\n'),
        );
      },
    },
  ],
};
