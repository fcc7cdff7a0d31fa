import { z } from 'zod';
import { VmError, VmErrorCode } from '../../errors.js';
import type { ExecContext, Module, QueryContext, QuerySpec } from '../../module.js';
import { ParamSpace } from '../../params.js';
import type { StateReader } from '../../state/overlay.js';

/** The block limits every validator checks a proposal against (and a proposer builds within). */
export interface BlockLimits {
  maxBlockTxs: number;
  maxBlockBytes: number;
}

const MiB = 1024n * 1024n;

const genesisSchema = z
  .object({
    maxBlockTxs: z.number().int().positive().optional(),
    maxBlockBytes: z.number().int().positive().optional(),
  })
  .strict()
  .optional();

/** The genesis section's values (absent: the defaults), as the parameter space takes them. */
function genesisValues(config: unknown): Partial<Record<keyof BlockLimits, bigint>> {
  return Object.fromEntries(Object.entries(genesisSchema.parse(config) ?? {}).map(([k, v]) => [k, BigInt(v)]));
}

/**
 * The chain's consensus parameters, on chain so that every validator applies the same ones and
 * governance can change them: the most transactions and bytes (the transactions' encodings) a
 * block may hold. A proposal over either is invalid; a proposer also stays within its own
 * configured limits (consensus.maxBlockTxs / maxBlockBytes), whichever is lower.
 */
export class ConsensusModule implements Module {
  readonly name = 'consensus';
  readonly methods: readonly string[] = [];
  readonly params = new ParamSpace({
    module: 'consensus',
    fields: {
      maxBlockTxs: { description: 'most transactions in a block', min: 1n, max: 1_000_000n },
      maxBlockBytes: { description: "most bytes of a block's transactions", min: 64n * 1024n, max: 64n * MiB },
    },
    defaults: { maxBlockTxs: 20_000n, maxBlockBytes: 8n * MiB },
  });
  readonly queries: readonly QuerySpec[] = [{ name: 'params', summary: 'The block limits: maxBlockTxs, maxBlockBytes', params: [] }];

  limits(state: StateReader): BlockLimits {
    const p = this.params.get(state);
    return { maxBlockTxs: Number(p.maxBlockTxs), maxBlockBytes: Number(p.maxBlockBytes) };
  }

  /** What `metanode init` and `testnet` write: the defaults, spelled out. */
  defaultGenesis(): z.infer<typeof genesisSchema> {
    const p = this.params.spec.defaults;
    return { maxBlockTxs: Number(p.maxBlockTxs), maxBlockBytes: Number(p.maxBlockBytes) };
  }

  validateGenesis(config: unknown): void {
    const bad = this.params.problem({ ...this.params.spec.defaults, ...genesisValues(config) });
    if (bad) throw new Error(bad);
  }

  initGenesis(ctx: ExecContext, config: unknown): void {
    this.params.init(ctx, genesisValues(config));
  }

  decodePayload(method: string): never {
    throw new VmError(VmErrorCode.UnknownTxKind, `consensus has no method "${method}"`);
  }

  deliverTx(): void {}

  query(ctx: QueryContext, path: string): unknown {
    if (path === 'params') return this.params.toJson(this.params.get(ctx.state));
    throw new VmError(VmErrorCode.InvalidQuery, `consensus has no query "${path}"`);
  }
}
