import { asBigint, formatAddress, rlpDecode, rlpEncode, uintBytes, type Event } from '../../../chain/index.js';
import { TxError, VmError, VmErrorCode } from '../../errors.js';
import type { ExecContext, FeeHandler, Module, QueryContext, TxContext } from '../../module.js';
import type { KVStore } from '../../state/overlay.js';
import { BankTx, decodeTransfer } from './codec.js';
import { BankErrorCode } from './errors.js';
import { ASSETS, FEE_ASSET, bankGenesisSchema, type Asset, type BankGenesis } from './genesis.js';
import { PARAMS_KEY, assetKey, balanceKey, supplyKey } from './keys.js';
import { parseAddress } from '../../../chain/index.js';

type Reader = Pick<KVStore, 'get'>;

function readUint(state: Reader, key: Uint8Array): bigint {
  const v = state.get(key);
  return v === undefined ? 0n : asBigint(rlpDecode(v, 'bank record'), 'bank record');
}

function writeUint(state: KVStore, key: Uint8Array, value: bigint): void {
  if (value === 0n) state.delete(key);
  else state.set(key, rlpEncode(uintBytes(value)));
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
    return readUint(state, balanceKey(address, asset));
  }

  supply(state: Reader, asset: Asset): bigint {
    return readUint(state, supplyKey(asset));
  }

  decimals(state: Reader, asset: Asset): number {
    const v = state.get(assetKey(asset));
    return v === undefined ? 0 : Number(asBigint(rlpDecode(v, 'asset'), 'asset.decimals'));
  }

  readonly minFee = (state: Reader): bigint => readUint(state, PARAMS_KEY);

  canPay(state: Reader, payer: Uint8Array, amount: bigint): boolean {
    return this.balance(state, payer, FEE_ASSET) >= amount;
  }

  chargeFee(ctx: ExecContext, payer: Uint8Array, amount: bigint): void {
    const min = this.minFee(ctx.state);
    if (amount < min) throw new TxError(BankErrorCode.FeeTooLow, `fee ${amount} is below the minimum fee ${min} ${FEE_ASSET}`);
    if (!this.canPay(ctx.state, payer, amount)) {
      throw new TxError(BankErrorCode.InsufficientFeeFunds, `the sender cannot pay the fee of ${amount} ${FEE_ASSET} base units`);
    }
    if (amount === 0n) return;
    this.move(ctx.state, payer, ctx.block.proposer, FEE_ASSET, amount);
    ctx.emit(event('fee', [['payer', formatAddress(payer)], ['proposer', formatAddress(ctx.block.proposer)], ['amount', amount.toString()]]));
  }

  /** Moves `amount` of `asset`; throws TxError when `from` has too little. */
  transfer(ctx: ExecContext, from: Uint8Array, to: Uint8Array, asset: string, amount: bigint): void {
    if (!isAsset(asset)) throw new TxError(BankErrorCode.UnknownAsset, `unknown asset "${asset}"; assets are ${ASSETS.join(', ')}`);
    if (amount === 0n) throw new TxError(BankErrorCode.ZeroAmount, 'transfer amount must be positive');
    this.move(ctx.state, from, to, asset, amount);
    ctx.emit(event('transfer', [['from', formatAddress(from)], ['to', formatAddress(to)], ['asset', asset], ['amount', amount.toString()]]));
  }

  private move(state: KVStore, from: Uint8Array, to: Uint8Array, asset: Asset, amount: bigint): void {
    const fromBal = this.balance(state, from, asset);
    if (fromBal < amount) {
      throw new TxError(BankErrorCode.InsufficientFunds, `insufficient ${asset}: balance ${fromBal}, needed ${amount} (base units)`);
    }
    writeUint(state, balanceKey(from, asset), fromBal - amount);
    writeUint(state, balanceKey(to, asset), this.balance(state, to, asset) + amount);
  }

  checkPayload(method: string, payload: Uint8Array): void {
    if (method !== BankTx.Transfer) throw new TxError(BankErrorCode.InvalidPayload, `bank has no method "${method}"`);
    let args;
    try {
      args = decodeTransfer(payload);
    } catch (e) {
      throw new TxError(BankErrorCode.InvalidPayload, `bad bank.transfer payload: ${(e as Error).message}`);
    }
    if (!isAsset(args.asset)) throw new TxError(BankErrorCode.UnknownAsset, `unknown asset "${args.asset}"; assets are ${ASSETS.join(', ')}`);
    if (args.amount === 0n) throw new TxError(BankErrorCode.ZeroAmount, 'transfer amount must be positive');
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

  addressesOf(method: string, payload: Uint8Array): Uint8Array[] {
    if (method !== BankTx.Transfer) return [];
    try {
      return [decodeTransfer(payload).to];
    } catch {
      return [];
    }
  }

  deliverTx(ctx: TxContext, method: string, payload: Uint8Array): void {
    this.checkPayload(method, payload);
    const args = decodeTransfer(payload);
    this.transfer(ctx, ctx.sender, args.to, args.asset, args.amount);
  }

  validateGenesis(config: unknown): void {
    bankGenesisSchema.parse(config);
  }

  initGenesis(ctx: ExecContext, config: unknown): void {
    const g: BankGenesis = bankGenesisSchema.parse(config);
    writeUint(ctx.state, PARAMS_KEY, BigInt(g.minFee));
    const supply = new Map<Asset, bigint>(ASSETS.map((a) => [a, 0n]));
    for (const a of ASSETS) ctx.state.set(assetKey(a), rlpEncode(uintBytes(g.assets[a].decimals)));
    for (const b of g.balances) {
      const addr = parseAddress(b.address);
      for (const a of ASSETS) {
        const amt = BigInt(b.amounts[a] ?? '0');
        writeUint(ctx.state, balanceKey(addr, a), this.balance(ctx.state, addr, a) + amt);
        supply.set(a, supply.get(a)! + amt);
      }
    }
    for (const [a, s] of supply) writeUint(ctx.state, supplyKey(a), s);
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
