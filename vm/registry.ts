import type { Transaction } from '../chain/index.js';
import type { Module } from './module.js';
import { VmError, VmErrorCode } from './errors.js';

const NONE: readonly Uint8Array[] = [];

/** The modules of the chain, in a fixed order (genesis and begin/end-block hooks run in it). */
export class ModuleRegistry {
  private readonly byName = new Map<string, Module>();
  private readonly routes = new Map<string, { module: Module; method: string } | undefined>();

  constructor(modules: Module[]) {
    for (const m of modules) {
      if (!/^[a-z][a-z0-9_]*$/.test(m.name)) throw new VmError(VmErrorCode.UnknownModule, `bad module name "${m.name}"`);
      if (m.name === 'auth' || this.byName.has(m.name)) throw new VmError(VmErrorCode.UnknownModule, `module name "${m.name}" is taken`);
      this.byName.set(m.name, m);
    }
  }

  get modules(): Module[] {
    return [...this.byName.values()];
  }

  get(name: string): Module | undefined {
    return this.byName.get(name);
  }

  require(name: string): Module {
    const m = this.byName.get(name);
    if (!m) throw new VmError(VmErrorCode.UnknownModule, `no module named "${name}"`);
    return m;
  }

  /** The accounts a transaction touches: its sender, then those its module names (see Module.addressesOf). */
  addressesOf(tx: Transaction): Uint8Array[] {
    return [tx.from(), ...this.namedAccounts(tx)];
  }

  /** The accounts besides its sender that a transaction's module names (none if its payload does not decode). */
  namedAccounts(tx: Transaction): readonly Uint8Array[] {
    const r = this.route(tx.kind);
    if (!r?.module.addressesOf) return NONE;
    let args: unknown;
    try {
      args = this.decode(tx);
    } catch {
      return NONE;
    }
    return r.module.addressesOf(r.method, args);
  }

  /**
   * The transaction's payload as its module decoded it (Module.decodePayload), computed once per
   * transaction object; throws what the module threw (every time), or VmError for an unknown kind.
   */
  decode(tx: Transaction): unknown {
    return tx.decoded(() => {
      const r = this.route(tx.kind);
      if (!r) throw new VmError(VmErrorCode.UnknownModule, `no module handles transaction kind "${tx.kind}"`);
      return r.module.decodePayload(r.method, tx.payload);
    });
  }

  /** The module and method a kind routes to, or undefined if none handles it. */
  route(kind: string): { module: Module; method: string } | undefined {
    if (this.routes.has(kind)) return this.routes.get(kind);
    const dot = kind.indexOf('.');
    const module = this.byName.get(kind.slice(0, dot));
    const method = kind.slice(dot + 1);
    const r = !module || !module.methods.includes(method) ? undefined : { module, method };
    // Kinds come from transactions, so the memo is bounded: only well-formed kinds of known modules are kept.
    if (r) this.routes.set(kind, r);
    return r;
  }
}
