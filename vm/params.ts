import { z } from 'zod';
import { asBigint, asList, asString, decodeList, equalBytes, formatAddress, moduleAddress, rlpDecode, rlpEncode, uintBytes } from '../chain/index.js';
import { TxError, VmError, VmErrorCode } from './errors.js';
import type { ExecContext } from './module.js';
import { asModule, type StateReader } from './state/overlay.js';

/** One parameter: a non-negative integer within [min, max] (fractions are parts per million: see each field). */
export interface ParamField {
  description: string;
  min: bigint;
  max: bigint;
}

export interface ParamSpec<K extends string> {
  /** The module whose parameters these are: they live under its key prefix, `<module>/params`. */
  module: string;
  fields: Record<K, ParamField>;
  defaults: Record<K, bigint>;
  /** Relations between fields, checked on the whole set: the reason it is invalid, or undefined. */
  check?(p: Readonly<Record<K, bigint>>): string | undefined;
}

/** A parameter's value in a genesis file: a decimal string (up to 38 digits) or a non-negative integer. */
export const genesisParamValue = z.union([z.string().regex(/^(0|[1-9][0-9]{0,37})$/), z.number().int().nonnegative()]);
/** A module's genesis `params` section: parameter name → value (names and ranges are checked by genesisProblem). */
export const genesisParamsSchema = z.record(z.string(), genesisParamValue);

export const ParamsErrorCode = {
  /** The change would leave the set invalid (a field out of range, an unknown field, a broken relation): nothing changed. */
  Invalid: 'PARAMS_INVALID',
  /** Only the set's authority (governance) may change it. */
  Unauthorized: 'PARAMS_UNAUTHORIZED',
} as const;

/** The module whose account changes every module's parameters: governance (the court issue). */
export const PARAMS_AUTHORITY_MODULE = 'court';

/**
 * A module's typed parameters: every field an integer with bounds, defaults, relations checked on
 * the whole set, stored in the module's own state (RLP [[name, value]...] by name) so they are in
 * the state root, and changed only by the authority (the governance module's account), all at
 * once or not at all: a change that would leave an invalid set fails (a Cosmos chain halted on a
 * partial parameter change that left its set invalid). Reading is cached by the stored bytes.
 */
export class ParamSpace<K extends string> {
  readonly key: string;
  readonly authority: Uint8Array = moduleAddress(PARAMS_AUTHORITY_MODULE);
  private readonly names: K[];
  private cached?: { bytes: Uint8Array; value: Readonly<Record<K, bigint>> };

  constructor(readonly spec: ParamSpec<K>) {
    this.key = `${spec.module}/params`;
    this.names = (Object.keys(spec.fields) as K[]).sort();
    const bad = this.problem(spec.defaults);
    if (bad) throw new Error(`the default parameters of ${spec.module} are invalid: ${bad}`);
  }

  /** Why `p` is not a valid whole set (every field, each in range, the relations), or undefined. */
  problem(p: Partial<Record<string, bigint>>): string | undefined {
    for (const k of Object.keys(p)) if (!(k in this.spec.fields)) return `${this.spec.module} has no parameter "${k.slice(0, 64)}" (it has ${this.names.join(', ')})`;
    for (const k of this.names) {
      const v = p[k];
      const f = this.spec.fields[k];
      if (typeof v !== 'bigint') return `${k} is missing`;
      if (v < f.min || v > f.max) return `${k} must be within ${f.min}…${f.max} (${f.description}), not ${v}`;
    }
    return this.spec.check?.(p as Record<K, bigint>);
  }

  /** The defaults as a genesis `params` section (decimal strings, in the spec's order): what `init` and `testnet` write. */
  genesisDefaults(): Record<K, string> {
    return Object.fromEntries(Object.entries(this.spec.defaults).map(([k, v]) => [k, (v as bigint).toString()])) as Record<K, string>;
  }

  /** A genesis `params` section (genesisParamsSchema) as values. */
  fromGenesis(params: Record<string, string | number> | undefined): Partial<Record<K, bigint>> {
    return Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, BigInt(v)])) as Partial<Record<K, bigint>>;
  }

  /** Why the defaults with a genesis section's values over them are not a valid set, or undefined. */
  genesisProblem(values: Partial<Record<K, bigint>>): string | undefined {
    return this.problem({ ...this.spec.defaults, ...values });
  }

  /** The parameters in force (the defaults before genesis has written any). */
  get(state: StateReader): Readonly<Record<K, bigint>> {
    const bytes = asModule(state, this.spec.module, () => state.getRaw(this.key));
    if (!bytes) return this.spec.defaults;
    if (this.cached?.bytes === bytes) return this.cached.value;
    const value = this.decode(bytes);
    this.cached = { bytes, value };
    return value;
  }

  /** Genesis: the defaults with the genesis file's values over them; an invalid set is VM_INVALID_GENESIS. */
  init(ctx: ExecContext, values: Partial<Record<K, bigint>>): void {
    const p = { ...this.spec.defaults, ...values };
    const bad = this.problem(p);
    if (bad) throw new VmError(VmErrorCode.InvalidGenesis, `modules.${this.spec.module}: ${bad}`);
    asModule(ctx.state, this.spec.module, () => ctx.state.setRaw(this.key, this.encode(p)));
  }

  /**
   * The authority changes some fields: the whole resulting set is checked first and written only
   * if valid (TxError PARAMS_INVALID, nothing changed, otherwise); a `<module>/params_changed`
   * event lists each field that changed, from → to.
   */
  update(ctx: ExecContext, by: Uint8Array, changes: Partial<Record<string, bigint>>): void {
    if (!equalBytes(by, this.authority)) throw new TxError(ParamsErrorCode.Unauthorized, `only ${formatAddress(this.authority)} (the ${PARAMS_AUTHORITY_MODULE} module) may change the parameters of ${this.spec.module}`);
    const before = this.get(ctx.state);
    const after = { ...before, ...changes } as Record<K, bigint>;
    const bad = this.problem(after);
    if (bad) throw new TxError(ParamsErrorCode.Invalid, `the parameters of ${this.spec.module} were not changed: ${bad}`);
    const changed = this.names.filter((k) => after[k] !== before[k]);
    if (changed.length === 0) return;
    asModule(ctx.state, this.spec.module, () => ctx.state.setRaw(this.key, this.encode(after)));
    ctx.emit({ module: this.spec.module, type: 'params_changed', attributes: changed.map((k) => [k, `${before[k]} -> ${after[k]}`] as const) });
  }

  /** The set as JSON (values as decimal strings), for queries. */
  toJson(p: Readonly<Record<K, bigint>>): Record<K, string> {
    return Object.fromEntries(this.names.map((k) => [k, p[k].toString()])) as Record<K, string>;
  }

  private encode(p: Record<K, bigint>): Uint8Array {
    return rlpEncode(this.names.map((k) => [k, uintBytes(p[k])]));
  }

  private decode(bytes: Uint8Array): Record<K, bigint> {
    const out = {} as Record<K, bigint>;
    for (const item of asList(rlpDecode(bytes, `${this.key}`), this.key)) {
      const [k, v] = decodeList(item, 2, `${this.key} entry`);
      out[asString(k, `${this.key} name`) as K] = asBigint(v, `${this.key} value`, 32);
    }
    const bad = this.problem(out);
    if (bad) throw new VmError(VmErrorCode.StateMismatch, `stored ${this.key} is invalid: ${bad}`);
    return out;
  }
}
