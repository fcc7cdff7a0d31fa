import { asRlpUint, formatAddress, moduleAddress, parseAddress, rlpUint, sharedAddress, toKey, type Event, type Transaction } from '../../../chain/index.js';
import { TxError, VmError, VmErrorCode } from '../../errors.js';
import type { BlockInfo, ExecContext, FeeHandler, Module, QueryContext, QuerySpec, TxContext } from '../../module.js';
import { asModule, type Overlay, type StateReader } from '../../state/overlay.js';
import { BankTx, decodeTransfer, type TransferArgs } from './codec.js';
import { BankErrorCode } from './errors.js';
import { ASSETS, FEE_ASSET, bankBalanceSchema, bankGenesisSchema, type Asset, type BankGenesis } from './genesis.js';
import { ParamSpace } from '../../params.js';
import { assetKeyOf, balanceKeyOf, supplyKeyOf } from './keys.js';

type Reader = StateReader;

function readUint(state: Reader, key: string): bigint {
  const v = state.getRaw(key);
  return v === undefined ? 0n : asRlpUint(v, 'bank record');
}

/** A zero amount is stored as absence. */
function writeUint(state: Overlay, key: string, value: bigint): void {
  state.setRaw(key, value === 0n ? null : rlpUint(value));
}

export function isAsset(s: string): s is Asset {
  return (ASSETS as readonly string[]).includes(s);
}

/** What a module's bank keeper may do besides moving funds: create them, destroy them. */
export type BankPermission = 'mint' | 'burn';

/**
 * What the bank hands another module (through that module's constructor): balances, moves
 * between any two accounts (the module decides whose funds it may move: a transaction's sender
 * into the module's account, as an escrow, and back), and, with the permission, minting into and
 * burning from the module's own account. Every change is a bank event in the receipt or the
 * block's events, and the asset's supply follows mints and burns.
 */
export interface BankKeeper {
  /** The module's account (moduleAddress of its name). */
  readonly account: Uint8Array;
  balance(state: StateReader, address: Uint8Array, asset: Asset): bigint;
  supply(state: StateReader, asset: Asset): bigint;
  /** The asset's decimals (base units per unit = 10^decimals). */
  decimals(state: StateReader, asset: Asset): number;
  /** Moves `amount`; TxError BANK_INSUFFICIENT_FUNDS (nothing moved) when `from` has less. */
  transfer(ctx: ExecContext, from: Uint8Array, to: Uint8Array, asset: Asset, amount: bigint): void;
  /** Creates `amount` in the module's account (0: nothing). Needs the mint permission. */
  mint(ctx: ExecContext, asset: Asset, amount: bigint): void;
  /** Destroys `amount` from the module's account (0: nothing); TxError when it holds less. Needs the burn permission. */
  burn(ctx: ExecContext, asset: Asset, amount: bigint): void;
}

/** A module account, as the bank lists it. */
export interface ModuleAccount {
  module: string;
  address: Uint8Array;
  permissions: readonly BankPermission[];
}

/**
 * The bank: balances of GEN, NEX, FLX and AUR in base units, transfers, the NEX fee (paid to the
 * proposer, or where the feeRecipient option says), and the keepers other modules hold (module accounts, mint and burn). A zero balance
 * is stored as absence. Transfers conserve every asset's supply; mints and burns change it by
 * what they create and destroy, so the balances of every account always add up to the supply.
 */
export class BankModule implements Module, FeeHandler {
  readonly name = 'bank';
  readonly methods = Object.values(BankTx);
  readonly queries: readonly QuerySpec[] = [
    { name: 'assets', summary: 'Each asset: symbol, decimals and supply (base units)', params: [] },
    { name: 'params', summary: 'The minimum fee and the asset fees are paid in', params: [] },
    { name: 'balances', summary: "An account's balance of every asset (base units)", params: [{ name: 'address', type: 'address', description: 'the account', required: true }] },
    { name: 'module_accounts', summary: 'The module accounts: module, address and what its keeper may do (mint, burn)', params: [] },
  ];
  /** The block being executed, where its fees go, and that address's key string (one block at a time). */
  private feeBlock?: BlockInfo;
  private feeTo: Uint8Array = new Uint8Array(0);
  private feeToKey = '';
  private readonly accounts = new Map<string, ModuleAccount>();
  /** While a genesis is written: the addresses `balances` funds, and the bulk file's last address so far. */
  private bulk: { funded: Set<string>; last: string | undefined } | undefined;

  /**
   * `feeRecipient`: where a block's fees go, asked once per block (staking: the fee collector,
   * which it shares out among the validators that signed); without it, the block's proposer.
   */
  constructor(private readonly opts: { feeRecipient?: (block: BlockInfo, state: StateReader) => Uint8Array } = {}) {}

  /**
   * The keeper for module `module`, with its permissions. Called once per module while the
   * modules are put together (vm/modules/index.ts); the accounts are listed by the
   * `module_accounts` query.
   */
  keeper(module: string, permissions: readonly BankPermission[] = []): BankKeeper {
    if (this.accounts.has(module)) throw new Error(`the bank already has a keeper for module "${module}"`);
    const account: ModuleAccount = { module, address: moduleAddress(module), permissions: [...permissions] };
    this.accounts.set(module, account);
    const accountKey = toKey(account.address);
    const may = (p: BankPermission) => {
      if (!account.permissions.includes(p)) throw new Error(`module "${module}" has no ${p} permission in the bank`);
    };
    // Each method runs as the bank (vm/state/overlay.ts asModule): the calling module's own reads and writes stay within its prefix.
    return {
      account: account.address,
      balance: (state, address, asset) => asModule(state, this.name, () => this.balance(state, address, asset)),
      supply: (state, asset) => asModule(state, this.name, () => this.supply(state, asset)),
      decimals: (state, asset) => asModule(state, this.name, () => this.decimals(state, asset)),
      transfer: (ctx, from, to, asset, amount) => asModule(ctx.state, this.name, () => this.transfer(ctx, from, to, asset, amount)),
      mint: (ctx, asset, amount) =>
        asModule(ctx.state, this.name, () => {
          may('mint');
          if (amount === 0n) return;
          if (amount < 0n || !isAsset(asset)) throw new Error(`bad mint of ${amount} ${asset}`);
          const key = balanceKeyOf(accountKey, asset);
          writeUint(ctx.state, key, readUint(ctx.state, key) + amount);
          writeUint(ctx.state, supplyKeyOf(asset), readUint(ctx.state, supplyKeyOf(asset)) + amount);
          ctx.emit(new SupplyEvent('mint', module, account.address, asset, amount));
        }),
      burn: (ctx, asset, amount) =>
        asModule(ctx.state, this.name, () => {
          may('burn');
          if (amount === 0n) return;
          if (amount < 0n || !isAsset(asset)) throw new Error(`bad burn of ${amount} ${asset}`);
          const key = balanceKeyOf(accountKey, asset);
          const held = readUint(ctx.state, key);
          if (held < amount) throw new TxError(BankErrorCode.InsufficientFunds, `insufficient ${asset} to burn: module ${module} holds ${held}, needed ${amount} (base units)`);
          writeUint(ctx.state, key, held - amount);
          writeUint(ctx.state, supplyKeyOf(asset), readUint(ctx.state, supplyKeyOf(asset)) - amount);
          ctx.emit(new SupplyEvent('burn', module, account.address, asset, amount));
        }),
    };
  }

  /** The module accounts, in the order their keepers were made. */
  get moduleAccounts(): readonly ModuleAccount[] {
    return [...this.accounts.values()];
  }

  balance(state: Reader, address: Uint8Array, asset: Asset): bigint {
    return readUint(state, balanceKeyOf(toKey(address), asset));
  }

  supply(state: Reader, asset: Asset): bigint {
    return readUint(state, supplyKeyOf(asset));
  }

  decimals(state: Reader, asset: Asset): number {
    const v = state.getRaw(assetKeyOf(asset));
    return v === undefined ? 0 : Number(asRlpUint(v, 'asset.decimals'));
  }

  /** The bank's parameters (typed, changed only by governance: vm/params.ts). */
  readonly params = new ParamSpace({
    module: 'bank',
    fields: { minFee: { description: `the smallest fee a transaction may pay, in ${FEE_ASSET} base units`, min: 0n, max: 10n ** 30n } },
    defaults: { minFee: 1000n },
  });

  readonly minFee = (state: Reader): bigint => this.params.get(state).minFee;

  feeBalance(state: Reader, payerKey: string): bigint {
    return readUint(state, balanceKeyOf(payerKey, FEE_ASSET));
  }

  feeKeys(payerKey: string): string[] {
    return [balanceKeyOf(payerKey, FEE_ASSET)];
  }

  chargeFee(ctx: ExecContext, tx: Transaction): void {
    const amount = tx.fee;
    const min = this.minFee(ctx.state);
    if (amount < min) throw new TxError(BankErrorCode.FeeTooLow, `fee ${amount} is below the minimum fee ${min} ${FEE_ASSET}`);
    const balance = readUint(ctx.state, balanceKeyOf(tx.fromKey, FEE_ASSET));
    if (balance < amount) throw new TxError(BankErrorCode.InsufficientFeeFunds, `the sender cannot pay the fee of ${amount} ${FEE_ASSET} base units`);
    if (amount === 0n) return;
    if (ctx.block !== this.feeBlock) {
      this.feeBlock = ctx.block;
      this.feeTo = this.opts.feeRecipient?.(ctx.block, ctx.state) ?? ctx.block.proposer;
      this.feeToKey = toKey(this.feeTo);
    }
    this.move(ctx.state, tx.fromKey, this.feeToKey, FEE_ASSET, amount);
    ctx.emit(new FeeEvent(tx.from(), tx.fromKey, this.feeTo, this.feeToKey, amount));
  }

  /** Moves `amount` of `asset`; throws TxError when `from` has too little. Keys: the addresses' key strings, when the caller has them. */
  transfer(ctx: ExecContext, from: Uint8Array, to: Uint8Array, asset: string, amount: bigint, keys?: { from: string; to: string }): void {
    if (!isAsset(asset)) throw new TxError(BankErrorCode.UnknownAsset, `unknown asset "${asset}"; assets are ${ASSETS.join(', ')}`);
    if (amount === 0n) throw new TxError(BankErrorCode.ZeroAmount, 'transfer amount must be positive');
    const fromKey = keys?.from ?? toKey(from);
    const toKeyStr = keys?.to ?? toKey(to);
    this.move(ctx.state, fromKey, toKeyStr, asset, amount);
    ctx.emit(new TransferEvent(from, fromKey, to, toKeyStr, asset, amount));
  }

  /** Moves between two addresses given as key strings. */
  private move(state: Overlay, fromKey: string, toKey: string, asset: Asset, amount: bigint): void {
    const fromBalanceKey = balanceKeyOf(fromKey, asset);
    const fromBal = readUint(state, fromBalanceKey);
    if (fromBal < amount) {
      throw new TxError(BankErrorCode.InsufficientFunds, `insufficient ${asset}: balance ${fromBal}, needed ${amount} (base units)`);
    }
    writeUint(state, fromBalanceKey, fromBal - amount);
    const toBalanceKey = balanceKeyOf(toKey, asset);
    writeUint(state, toBalanceKey, readUint(state, toBalanceKey) + amount);
  }

  decodePayload(method: string, payload: Uint8Array): TransferArgs & { toKey: string } {
    if (method !== BankTx.Transfer) throw new TxError(BankErrorCode.InvalidPayload, `bank has no method "${method}"`);
    let args;
    try {
      args = decodeTransfer(payload);
    } catch (e) {
      throw new TxError(BankErrorCode.InvalidPayload, `bad bank.transfer payload: ${(e as Error).message}`);
    }
    const asset = ASSETS.find((x) => x === args.asset); // the constant, not a decoded copy per transaction
    if (asset === undefined) throw new TxError(BankErrorCode.UnknownAsset, `unknown asset "${args.asset}"; assets are ${ASSETS.join(', ')}`);
    if (args.amount === 0n) throw new TxError(BankErrorCode.ZeroAmount, 'transfer amount must be positive');
    // Kept with the transaction while it is pooled: the recipient's address is shared, not a view of the payload.
    const to = sharedAddress(args.to);
    return { to: to.address, asset, amount: args.amount, toKey: to.key };
  }

  describePayload(method: string, payload: Uint8Array): Record<string, string> | undefined {
    if (method !== BankTx.Transfer) return undefined;
    try {
      const a = decodeTransfer(payload);
      return { to: formatAddress(a.to), asset: a.asset, amount: a.amount.toString() };
    } catch {
      return undefined;
    }
  }

  addressesOf(method: string, args: unknown): Uint8Array[] {
    return method === BankTx.Transfer ? [(args as TransferArgs).to] : [];
  }

  prefetchKeys(senderKey: string, method: string, args: unknown): string[] {
    if (method !== BankTx.Transfer) return [];
    const a = args as TransferArgs & { toKey: string };
    return [balanceKeyOf(senderKey, a.asset), balanceKeyOf(a.toKey, a.asset)];
  }

  deliverTx(ctx: TxContext, _method: string, args: unknown): void {
    const a = args as TransferArgs & { toKey: string };
    this.transfer(ctx, ctx.sender, a.to, a.asset, a.amount, { from: ctx.tx.fromKey, to: a.toKey });
  }

  validateGenesis(config: unknown): void {
    bankGenesisSchema.parse(config);
  }

  initGenesis(ctx: ExecContext, config: unknown): void {
    const g: BankGenesis = bankGenesisSchema.parse(config);
    this.bulk = { funded: new Set(g.balances.map((b) => toKey(parseAddress(b.address)))), last: undefined };
    this.params.init(ctx, { minFee: BigInt(g.minFee) });
    const supply = new Map<Asset, bigint>(ASSETS.map((a) => [a, 0n]));
    for (const a of ASSETS) ctx.state.setRaw(assetKeyOf(a), rlpUint(g.assets[a].decimals));
    for (const b of g.balances) {
      const addrKey = toKey(parseAddress(b.address));
      for (const a of ASSETS) {
        const amt = BigInt(b.amounts[a] ?? '0');
        const key = balanceKeyOf(addrKey, a);
        writeUint(ctx.state, key, readUint(ctx.state, key) + amt);
        supply.set(a, supply.get(a)! + amt);
      }
    }
    for (const [a, s] of supply) writeUint(ctx.state, supplyKeyOf(a), s);
  }

  /**
   * Credits a chunk of the bulk file's balances (genesis.ts bulkFileSchema), after initGenesis:
   * each line checked, the addresses ascending and none of them in `balances`; the supply grows
   * by the chunk's sums.
   */
  initGenesisBulk(ctx: ExecContext, items: readonly unknown[], firstLine: number): void {
    const bulk = this.bulk;
    if (!bulk) throw new Error('the bank\'s bulk genesis items come after its genesis');
    const supply = new Map<Asset, bigint>(ASSETS.map((a) => [a, 0n]));
    items.forEach((item, i) => {
      const line = firstLine + i;
      const r = bankBalanceSchema.safeParse(item);
      if (!r.success) throw new Error(`line ${line}: ${r.error.issues.map((x) => `${x.path.join('.') || '(line)'}: ${x.message}`).join('; ')}`);
      const addrKey = toKey(parseAddress(r.data.address));
      if (bulk.last !== undefined && addrKey <= bulk.last) throw new Error(`line ${line}: address ${r.data.address} is not above the line before's (a bulk file lists each address once, ascending by its bytes)`);
      if (bulk.funded.has(addrKey)) throw new Error(`line ${line}: address ${r.data.address} is funded in balances too (each account once)`);
      bulk.last = addrKey;
      for (const a of ASSETS) {
        const amt = BigInt(r.data.amounts[a] ?? '0');
        if (amt === 0n) continue;
        // Added to what a module's genesis may have credited it (a module account).
        const key = balanceKeyOf(addrKey, a);
        writeUint(ctx.state, key, readUint(ctx.state, key) + amt);
        supply.set(a, supply.get(a)! + amt);
      }
    });
    for (const [a, s] of supply) if (s !== 0n) writeUint(ctx.state, supplyKeyOf(a), readUint(ctx.state, supplyKeyOf(a)) + s);
  }

  account(ctx: QueryContext, address: Uint8Array): Record<string, unknown> {
    return { balances: this.query(ctx, 'balances', { address }) };
  }

  query(ctx: QueryContext, path: string, params: unknown): unknown {
    switch (path) {
      case 'assets':
        return ASSETS.map((a) => ({ symbol: a, decimals: this.decimals(ctx.state, a), supply: this.supply(ctx.state, a).toString() }));
      case 'params':
        return { minFee: this.minFee(ctx.state).toString(), feeAsset: FEE_ASSET };
      case 'module_accounts':
        return this.moduleAccounts.map((a) => ({ module: a.module, address: formatAddress(a.address), permissions: a.permissions }));
      case 'balances': {
        const address = (params as { address: Uint8Array }).address;
        return Object.fromEntries(ASSETS.map((a) => [a, this.balance(ctx.state, address, a).toString()]));
      }
      default:
        throw new VmError(VmErrorCode.InvalidQuery, `bank has no query "${path}"`);
    }
  }
}

/*
 * The bank's events keep what they are about and format their attributes when read (to encode
 * the receipt, to answer RPC): a block holds thousands of them until it is committed, and one
 * object each is much less for the garbage collector than arrays of formatted strings.
 */
class FeeEvent implements Event {
  readonly module = 'bank';
  readonly type = 'fee';
  constructor(
    private readonly payer: Uint8Array,
    private readonly payerKey: string,
    private readonly recipient: Uint8Array,
    private readonly recipientKey: string,
    private readonly amount: bigint,
  ) {}
  get attributes(): [string, string][] {
    return [['payer', formatAddress(this.payer, this.payerKey)], ['recipient', formatAddress(this.recipient, this.recipientKey)], ['amount', this.amount.toString()]];
  }
}

class TransferEvent implements Event {
  readonly module = 'bank';
  readonly type = 'transfer';
  constructor(
    private readonly from: Uint8Array,
    private readonly fromKey: string,
    private readonly to: Uint8Array,
    private readonly toKey: string,
    private readonly asset: string,
    private readonly amount: bigint,
  ) {}
  get attributes(): [string, string][] {
    return [['from', formatAddress(this.from, this.fromKey)], ['to', formatAddress(this.to, this.toKey)], ['asset', this.asset], ['amount', this.amount.toString()]];
  }
}

/** bank/mint or bank/burn: a module created or destroyed funds in its own account. */
class SupplyEvent implements Event {
  readonly module = 'bank';
  constructor(
    readonly type: 'mint' | 'burn',
    private readonly by: string,
    private readonly account: Uint8Array,
    private readonly asset: string,
    private readonly amount: bigint,
  ) {}
  get attributes(): [string, string][] {
    return [['module', this.by], ['account', formatAddress(this.account)], ['asset', this.asset], ['amount', this.amount.toString()]];
  }
}
