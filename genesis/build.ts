import { addressFromPublicKey, formatAddress, toHex } from '../chain/index.js';
import { devAccounts } from './dev.js';
import type { GenesisDoc } from './schema.js';

export const DEFAULT_DECIMALS = { GEN: 6, NEX: 6, FLX: 6, AUR: 2 } as const;
export const DEFAULT_MIN_FEE = '1000';

export interface GenesisValidatorInput {
  name?: string;
  publicKey: Uint8Array;
  blsPublicKey: Uint8Array;
  /** BlsKey.proofOfPossession() of the validator's BLS key. */
  blsProofOfPossession: Uint8Array;
  power?: bigint;
}

export interface BuildGenesisOptions {
  chainId: string;
  genesisTime?: Date;
  validators: GenesisValidatorInput[];
  /** Fund this many well-known dev accounts (never on a real network). */
  devAccounts?: number;
  /** Whole units of each asset given to each dev account. */
  devBalance?: bigint;
  balances?: GenesisDoc['modules'];
  /** Sections of other modules, written as given (vm/modules defaultGenesisSections: their defaults spelled out). */
  moduleSections?: Record<string, unknown>;
  /** What the state root commits to (schema.ts stateCommitment); a new chain's default is the entry log. */
  stateCommitment?: 'entry-log' | 'sparse-merkle-tree';
}

/** A genesis document for a new chain (what `metanode init` and `metanode testnet` write). */
export function buildGenesis(o: BuildGenesisOptions): GenesisDoc {
  const whole = o.devBalance ?? 1_000_000n;
  const balances = devAccounts(o.devAccounts ?? 0).map((a) => ({
    address: a.address,
    amounts: Object.fromEntries(Object.entries(DEFAULT_DECIMALS).map(([sym, d]) => [sym, (whole * 10n ** BigInt(d)).toString()])),
  }));
  return {
    chainId: o.chainId,
    genesisTime: (o.genesisTime ?? new Date()).toISOString(),
    validators: o.validators.map((v, i) => ({
      name: v.name ?? `validator-${i}`,
      address: formatAddress(addressFromPublicKey(v.publicKey)),
      publicKey: toHex(v.publicKey),
      blsPublicKey: toHex(v.blsPublicKey),
      blsProofOfPossession: toHex(v.blsProofOfPossession),
      power: (v.power ?? 1n).toString(),
    })),
    modules: {
      bank: {
        assets: Object.fromEntries(Object.entries(DEFAULT_DECIMALS).map(([sym, d]) => [sym, { decimals: d }])),
        minFee: DEFAULT_MIN_FEE,
        balances,
      },
      ...o.moduleSections,
    },
    stateCommitment: o.stateCommitment ?? 'entry-log',
  };
}
