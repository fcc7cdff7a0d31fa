import { asRlpUint, formatAddress, keyOf, parseAddress, rlpUint, toKey, type Event } from '../../../chain/index.js';
import { TxError, VmError, VmErrorCode } from '../../errors.js';
import type { ExecContext, FeeHandler, Module, QueryContext, TxContext } from '../../module.js';
import type { Overlay, StateReader } from '../../state/overlay.js';
import { BankTx, transferArgs } from './codec.js';
import { BankErrorCode } from './errors.js';
import { ASSETS, FEE_ASSET, bankGenesisSchema, type Asset, type BankGenesis } from './genesis.js';
import { PARAMS_KEY_STR, assetKeyOf, balanceKeyOf, supplyKeyOf } from './keys.js';

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

/**
 * The bank: balances of GEN, NEX, FLX and AUR in base units, transfers, and the NEX fee paid to
 * the proposer. A zero balance is stored as absence. Transfers conserve every asset's supply.
 */
export class BankModule implements Module, FeeHandler {
  readonly name = 'bank';
  readonly methods = Object.values(BankTx);

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

  readonly minFee = (state: Reader): bigint => readUint(state, PARAMS_KEY_STR);

  canPay(state: Reader, payer: Uint8Array, amount: bigint): boolean {
    return readUint(state, balanceKeyOf(keyOf(payer), FEE_ASSET)) >= amount;
  }

  chargeFee(ctx: ExecContext, payer: Uint8Array, amount: bigint): void {
    const min = this.minFee(ctx.state);
    if (amount < min) throw new TxError(BankErrorCode.FeeTooLow, `fee ${amount} is below the minimum fee ${min} ${FEE_ASSET}`);
    const payerKey = keyOf(payer);
    const balance = readUint(ctx.state, balanceKeyOf(payerKey, FEE_ASSET));
    if (balance < amount) throw new TxError(BankErrorCode.InsufficientFeeFunds, `the sender cannot pay the fee of ${amount} ${FEE_ASSET} base units`);
    if (amount === 0n) return;
    this.move(ctx.state, payerKey, keyOf(ctx.block.proposer), FEE_ASSET, amount);
    ctx.emit(event('fee', [['payer', formatAddress(payer)], ['proposer', formatAddress(ctx.block.proposer)], ['amount', amount.toString()]]));
  }

  /** Moves `amount` of `asset`; throws TxError when `from` has too little. */
  transfer(ctx: ExecContext, from: Uint8Array, to: Uint8Array, asset: string, amount: bigint): void {
    if (!isAsset(asset)) throw new TxError(BankErrorCode.UnknownAsset, `unknown asset "${asset}"; assets are ${ASSETS.join(', ')}`);
    if (amount === 0n) throw new TxError(BankErrorCode.ZeroAmount, 'transfer amount must be positive');
    this.move(ctx.state, keyOf(from), keyOf(to), asset, amount);
    ctx.emit(event('transfer', [['from', formatAddress(from)], ['to', formatAddress(to)], ['asset', asset], ['amount', amount.toString()]]));
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

  checkPayload(method: string, payload: Uint8Array): void {
    if (method !== BankTx.Transfer) throw new TxError(BankErrorCode.InvalidPayload, `bank has no method "${method}"`);
    let args;
    try {
      args = transferArgs(payload);
    } catch (e) {
      throw new TxError(BankErrorCode.InvalidPayload, `bad bank.transfer payload: ${(e as Error).message}`);
    }
    if (!isAsset(args.asset)) throw new TxError(BankErrorCode.UnknownAsset, `unknown asset "${args.asset}"; assets are ${ASSETS.join(', ')}`);
    if (args.amount === 0n) throw new TxError(BankErrorCode.ZeroAmount, 'transfer amount must be positive');
  }

  describePayload(method: string, payload: Uint8Array): Record<string, string> | undefined {
    if (method !== BankTx.Transfer) return undefined;
    try {
      const a = transferArgs(payload);
      return { to: formatAddress(a.to), asset: a.asset, amount: a.amount.toString() };
    } catch {
      return undefined;
    }
  }

  addressesOf(method: string, payload: Uint8Array): Uint8Array[] {
    if (method !== BankTx.Transfer) return [];
    try {
      return [transferArgs(payload).to];
    } catch {
      return [];
    }
  }

  deliverTx(ctx: TxContext, method: string, payload: Uint8Array): void {
    this.checkPayload(method, payload);
    const args = transferArgs(payload);
    this.transfer(ctx, ctx.sender, args.to, args.asset, args.amount);
  }

  validateGenesis(config: unknown): void {
    bankGenesisSchema.parse(config);
  }

  initGenesis(ctx: ExecContext, config: unknown): void {
    const g: BankGenesis = bankGenesisSchema.parse(config);
    writeUint(ctx.state, PARAMS_KEY_STR, BigInt(g.minFee));
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

  query(ctx: QueryContext, path: string, params: unknown): unknown {
    switch (path) {
      case 'assets':
        return ASSETS.map((a) => ({ symbol: a, decimals: this.decimals(ctx.state, a), supply: this.supply(ctx.state, a).toString() }));
      case 'params':
        return { minFee: this.minFee(ctx.state).toString(), feeAsset: FEE_ASSET };
      case 'balances': {
        const address = (params as { address: Uint8Array }).address;
        return Object.fromEntries(ASSETS.map((a) => [a, this.balance(ctx.state, address, a).toString()]));
      }
      default:
        throw new VmError(VmErrorCode.InvalidQuery, `bank has no query "${path}"`);
    }
  }
}

function event(type: string, attributes: [string, string][]): Event {
  return { module: 'bank', type, attributes };
}
