import { z } from 'zod';
import { formatAddress, fromHex, fromUtf8, toHex, type Event } from '../../../chain/index.js';
import { DocklockError, JOB_STATUS_NAMES, JobStatus, LIMITS, ProgramCache, decodeReceipt, programId, runJob, type LoadedProgram } from '../../../docklock/index.js';
import { TxError, VmError, VmErrorCode } from '../../errors.js';
import type { ExecContext, Module, QueryContext, QuerySpec, TxContext } from '../../module.js';
import { ParamSpace, genesisParamsSchema } from '../../params.js';
import { asModule, type StateReader } from '../../state/overlay.js';
import type { BankKeeper } from '../bank/bank.js';
import { FEE_ASSET } from '../bank/genesis.js';
import { DocklockTx, decodeDocklock, describeDocklock, type DeployArgs, type DocklockArgs, type RunArgs } from './codec.js';
import { DocklockTxErrorCode as E } from './errors.js';
import { Keys, decodeBlockFuel, decodeJob, decodeProgram, encodeBlockFuel, encodeJob, encodeProgram, type ProgramRecord } from './records.js';

const KiB = 1024n;
const paramFields = {
  maxProgramBytes: { description: 'the largest program deploy accepts (bytes; a transaction must also fit the mempool’s maxTxBytes)', min: 1024n, max: BigInt(LIMITS.programBytes) },
  deployFeePerByte: { description: `${FEE_ASSET} (base units) burned per byte of a deployed program`, min: 0n, max: 10n ** 18n },
  maxRunFuel: { description: 'the most fuel one in-consensus run may ask for', min: 1_000n, max: 1_000_000_000n },
  maxBlockFuel: { description: 'the fuel of all in-consensus runs of one block together (bounds a block’s work)', min: 1_000n, max: 10_000_000_000n },
  runFeePerMillionFuel: { description: `${FEE_ASSET} (base units) burned per million fuel of a run's fuel limit (rounded up)`, min: 0n, max: 10n ** 18n },
  maxInputBytes: { description: "the largest input of an in-consensus run (bytes; stored with the job)", min: 0n, max: 1024n * KiB },
  maxOutputBytes: { description: 'the largest output of an in-consensus run (bytes; stored with the job; more traps with output_limit)', min: 0n, max: 1024n * KiB },
} as const;
type ParamName = keyof typeof paramFields;
export type DocklockParams = Readonly<Record<ParamName, bigint>>;

/** ~10 ms of work a run, ~100 ms a block (1 M fuel ≈ 1 ms here: docs/performance.md). */
export const DOCKLOCK_DEFAULTS: Record<ParamName, bigint> = {
  maxProgramBytes: 30n * KiB,
  deployFeePerByte: 10n,
  maxRunFuel: 10_000_000n,
  maxBlockFuel: 100_000_000n,
  runFeePerMillionFuel: 10_000n,
  maxInputBytes: 16n * KiB,
  maxOutputBytes: 16n * KiB,
};

export const docklockGenesisSchema = z.object({ params: genesisParamsSchema.optional() }).strict();

/**
 * What DockLock hands the ENC module: deployed programs (read as DockLock), compiled through its
 * cache. Whether a program is deployed is read from the state, never the cache.
 */
export interface DocklockKeeper {
  program(state: StateReader, id: Uint8Array): ProgramRecord | undefined;
  /** The deployed program, compiled; TxError DOCKLOCK_UNKNOWN_PROGRAM when it is not deployed. */
  loaded(state: StateReader, id: Uint8Array): LoadedProgram;
}

export interface DocklockDeps {
  /** DockLock's own account (burn): deploy and run fees are moved there and burned. */
  fees: BankKeeper;
}

const ev = (type: string, attributes: [string, string][]): Event => ({ module: 'docklock', type, attributes });

/**
 * DockLock on chain: programs deployed by content hash (validated and instrumented at deploy, the
 * fee burned per byte), and small jobs run in consensus (`docklock.run`): every validator executes
 * the program inside the block with the block's timestamp as the job's clock and the transaction's
 * hash as its id, under a fuel cap (maxRunFuel) and a per-block fuel budget (maxBlockFuel), and
 * stores the receipt, the input and the output under the job's id. A job that traps, runs out of
 * fuel or is refused (input or fuel over the caps) still succeeds as a transaction: its receipt
 * says how it ended. The same path settles the ENC module's disputes by re-execution.
 */
export class DocklockModule implements Module {
  readonly name = 'docklock';
  readonly methods = Object.values(DocklockTx);
  readonly params = new ParamSpace({ module: 'docklock', fields: paramFields, defaults: DOCKLOCK_DEFAULTS, check: (p) => (p.maxRunFuel > p.maxBlockFuel ? 'maxRunFuel must not exceed maxBlockFuel' : undefined) });
  readonly queries: readonly QuerySpec[] = [
    { name: 'params', summary: 'The DockLock parameters: program size cap, fees, fuel caps, input and output caps', params: [] },
    {
      name: 'program',
      summary: 'A deployed program: its instrumented hash, size, deployer and height (and its bytes, hex, with code=1)',
      params: [
        { name: 'id', type: 'string', description: 'the program id (hex)', required: true },
        { name: 'code', type: 'integer', description: '1: include the program’s bytes' },
      ],
    },
    { name: 'job', summary: 'An in-consensus job: its receipt, input and output', params: [{ name: 'id', type: 'string', description: 'the job id: the run transaction’s hash (hex)', required: true }] },
  ];
  /** Compiled programs (by id), so that a run does not re-instrument or re-compile. */
  private readonly cache = new ProgramCache(64);

  constructor(private readonly deps: DocklockDeps) {}

  // ---- Genesis ----

  defaultGenesis(): { params: Record<string, string> } {
    return { params: this.params.genesisDefaults() };
  }

  private genesisParams(config: unknown): Partial<Record<ParamName, bigint>> {
    return this.params.fromGenesis(docklockGenesisSchema.parse(config ?? {}).params);
  }

  validateGenesis(config: unknown): void {
    const bad = this.params.genesisProblem(this.genesisParams(config));
    if (bad) throw new Error(bad);
  }

  /**
   * Writes the parameters when the genesis has a docklock section (what `init` and `testnet` write).
   * A genesis from before DockLock has none: nothing is written, so its state root stays what it
   * was, and the defaults apply (ParamSpace.get) until governance changes them.
   */
  initGenesis(ctx: ExecContext, config: unknown): void {
    if (config === undefined) return;
    this.params.init(ctx, this.genesisParams(config));
  }

  keeper(): DocklockKeeper {
    return {
      program: (state, id) => asModule(state, this.name, () => this.program(state, id)),
      loaded: (state, id) => asModule(state, this.name, () => this.loaded(state, id)),
    };
  }

  // ---- Records ----

  program(state: StateReader, id: Uint8Array): ProgramRecord | undefined {
    const b = state.getRaw(Keys.program(id));
    return b && decodeProgram(b);
  }

  /**
   * A deployed program, compiled. The state decides whether it is deployed, never the cache: a
   * program can be in this node's cache from a deploy that failed or a block that was not
   * committed, and another node's cache differs.
   */
  private loaded(state: StateReader, id: Uint8Array): LoadedProgram {
    if (state.getRaw(Keys.program(id)) === undefined) throw new TxError(E.UnknownProgram, `no program ${toHex(id)} is deployed`);
    return this.cache.byId(id) ?? this.cache.load(this.program(state, id)!.code, LIMITS.programBytes, id);
  }

  // ---- Transactions ----

  decodePayload(method: string, payload: Uint8Array): DocklockArgs {
    return decodeDocklock(method, payload);
  }

  describePayload(method: string, payload: Uint8Array): Record<string, string> | undefined {
    return describeDocklock(method, payload);
  }

  deliverTx(ctx: TxContext, _method: string, args: unknown): void {
    const a = args as DocklockArgs;
    if (a.method === 'deploy') return this.deploy(ctx, a.args);
    return this.run(ctx, a.args);
  }

  private burn(ctx: TxContext, amount: bigint): void {
    if (amount === 0n) return;
    this.deps.fees.transfer(ctx, ctx.sender, this.deps.fees.account, FEE_ASSET, amount);
    this.deps.fees.burn(ctx, FEE_ASSET, amount);
  }

  private deploy(ctx: TxContext, a: DeployArgs): void {
    const p = this.params.get(ctx.state);
    // The size cap first, here: a cached program (compiled under another cap) must not skip it.
    if (a.code.length > Number(p.maxProgramBytes)) throw new TxError(E.InvalidProgram, `the program is ${a.code.length} bytes; at most ${p.maxProgramBytes} are allowed (maxProgramBytes)`);
    const id = programId(a.code);
    if (ctx.state.getRaw(Keys.program(id))) throw new TxError(E.ProgramExists, `program ${toHex(id)} is already deployed`);
    let program: LoadedProgram;
    try {
      program = this.cache.load(a.code, Number(p.maxProgramBytes), id);
    } catch (e) {
      if (e instanceof DocklockError) throw new TxError(E.InvalidProgram, e.message);
      throw e;
    }
    const fee = BigInt(a.code.length) * p.deployFeePerByte;
    this.burn(ctx, fee);
    ctx.state.setRaw(Keys.program(program.id), encodeProgram({ code: a.code, instrumentedHash: program.hash, deployer: ctx.sender, height: ctx.block.height }));
    ctx.emit(ev('deployed', [['program', toHex(program.id)], ['instrumented', toHex(program.hash)], ['bytes', String(a.code.length)], ['deployer', formatAddress(ctx.sender)], ['fee', fee.toString()]]));
  }

  private run(ctx: TxContext, a: RunArgs): void {
    const p = this.params.get(ctx.state);
    const program = this.loaded(ctx.state, a.program);
    const overCap = a.fuel > Number(p.maxRunFuel) || a.input.length > Number(p.maxInputBytes);
    let fee = 0n;
    if (!overCap) {
      // The block's budget: what the runs before this one in the block asked for, plus this one.
      const stored = ctx.state.getRaw(Keys.blockFuel);
      const used = stored ? decodeBlockFuel(stored) : undefined;
      const before = used && used.height === ctx.block.height ? used.fuel : 0;
      if (before + a.fuel > Number(p.maxBlockFuel)) throw new TxError(E.BlockFuelExhausted, `this block's runs already asked for ${before} fuel of maxBlockFuel ${p.maxBlockFuel}: ${a.fuel} more does not fit; send it again`);
      ctx.state.setRaw(Keys.blockFuel, encodeBlockFuel(ctx.block.height, before + a.fuel));
      fee = (BigInt(a.fuel) * p.runFeePerMillionFuel + 999_999n) / 1_000_000n;
      this.burn(ctx, fee);
    }
    const jobId = ctx.tx.hash();
    // An engine fault (DocklockError ENGINE_FAULT: must not happen) propagates: the executor fails
    // the transaction with its fixed fault code and gives the error to the node's log.
    const { result, receipt } = runJob(program, {
      jobId,
      input: a.input,
      fuel: a.fuel,
      clock: BigInt(ctx.block.timestamp),
      fuelCap: Number(p.maxRunFuel),
      limits: { maxInputBytes: Number(p.maxInputBytes), maxOutputBytes: Number(p.maxOutputBytes) },
    });
    // A refused run (fuel or input over the caps) pays no run fee and its input is not stored (the receipt's input hash names it).
    const refused = result.status === JobStatus.Rejected;
    ctx.state.setRaw(Keys.job(jobId), encodeJob({ receipt: receipt.serialize(), program: program.id, input: refused ? new Uint8Array(0) : a.input, output: result.output, sender: ctx.sender, height: ctx.block.height }));
    ctx.emit(
      ev('job', [
        ['job', toHex(jobId)],
        ['program', toHex(program.id)],
        ['status', JOB_STATUS_NAMES[result.status]],
        ['trap', result.trap],
        ['fuel_used', String(result.fuelUsed)],
        ['output_hash', toHex(result.outputHash)],
        ['witness_root', toHex(result.witnessRoot)],
        ['receipt', toHex(receipt.hash())],
        ['fee', fee.toString()],
      ]),
    );
  }

  // ---- Queries ----

  query(ctx: QueryContext, path: string, params: unknown): unknown {
    const q = (params ?? {}) as { id?: string; code?: number };
    const id = (): Uint8Array => {
      try {
        const t = q.id ?? '';
        return fromHex(t.startsWith('0x') ? t : `0x${t}`, 32, 'id');
      } catch {
        throw new VmError(VmErrorCode.InvalidQuery, 'id must be 32 bytes of hex');
      }
    };
    switch (path) {
      case 'params':
        return this.params.toJson(this.params.get(ctx.state));
      case 'program': {
        const pid = id();
        const rec = this.program(ctx.state, pid);
        if (!rec) throw new VmError(VmErrorCode.InvalidQuery, `no program ${toHex(pid)} is deployed`);
        return { id: toHex(pid), instrumentedHash: toHex(rec.instrumentedHash), bytes: rec.code.length, deployer: formatAddress(rec.deployer), height: rec.height, ...(q.code === 1 ? { code: toHex(rec.code) } : {}) };
      }
      case 'job': {
        const jid = id();
        const b = ctx.state.getRaw(Keys.job(jid));
        if (!b) throw new VmError(VmErrorCode.InvalidQuery, `no job ${toHex(jid)} ran on chain`);
        const j = decodeJob(b);
        const receipt = decodeReceipt(j.receipt);
        // input: null when the run was refused (it is not stored).
        const stored = receipt.status !== JobStatus.Rejected;
        return { id: toHex(jid), program: toHex(j.program), sender: formatAddress(j.sender), height: j.height, input: stored ? toHex(j.input) : null, inputHash: toHex(receipt.inputHash), output: toHex(j.output), outputText: printable(j.output), receipt: receipt.toJson() };
      }
    }
    throw new VmError(VmErrorCode.InvalidQuery, `docklock has no query "${path}"`);
  }
}

/** The output as text when it is printable UTF-8, else null. */
function printable(b: Uint8Array): string | null {
  try {
    const s = fromUtf8(b);
    return /^[\p{L}\p{N}\p{P}\p{S}\p{Zs}\n\r\t]*$/u.test(s) ? s : null;
  } catch {
    return null;
  }
}
