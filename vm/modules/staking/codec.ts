import {
  ADDRESS_LENGTH,
  BLS_PUBLIC_KEY_LENGTH,
  BLS_SIGNATURE_LENGTH,
  ED25519_PUBLIC_KEY_LENGTH,
  copyBytes,
  asBigint,
  asBytes,
  asSafeUint,
  asString,
  decodeDuplicateVote,
  decodeList,
  encodeDuplicateVote,
  rlpDecode,
  rlpEncode,
  uintBytes,
  type DuplicateVoteEvidence,
} from '../../../chain/index.js';

/** The staking module's transaction kinds (the part after "staking."). */
export const StakingTx = {
  CreateValidator: 'create_validator',
  Ready: 'ready',
  Delegate: 'delegate',
  Undelegate: 'undelegate',
  Redelegate: 'redelegate',
  Withdraw: 'withdraw',
  Unjail: 'unjail',
  Evidence: 'evidence',
} as const;
export type StakingMethod = (typeof StakingTx)[keyof typeof StakingTx];

export interface CreateValidatorArgs {
  publicKey: Uint8Array;
  blsPublicKey: Uint8Array;
  /** BLS signature of the BLS key over itself (chain/bls.ts blsPossessionMessage). */
  proofOfPossession: Uint8Array;
  moniker: string;
  commissionPpm: bigint;
  /** GEN base units bonded by the sender (the operator). */
  selfBond: bigint;
}
export interface DelegateArgs {
  validator: Uint8Array;
  amount: bigint;
}
export interface RedelegateArgs {
  src: Uint8Array;
  dst: Uint8Array;
  amount: bigint;
}
export interface ValidatorArg {
  validator: Uint8Array;
}

export type StakingArgs =
  | { method: 'create_validator'; args: CreateValidatorArgs }
  | { method: 'ready'; args: Record<string, never> }
  | { method: 'delegate' | 'undelegate'; args: DelegateArgs }
  | { method: 'redelegate'; args: RedelegateArgs }
  | { method: 'withdraw' | 'unjail'; args: ValidatorArg }
  | { method: 'evidence'; args: DuplicateVoteEvidence };

const amount = (i: Parameters<typeof asBigint>[0], what: string) => asBigint(i, what, 16);
const address = (i: Parameters<typeof asBytes>[0], what: string) => copyBytes(asBytes(i, what, ADDRESS_LENGTH));

/**
 * Payloads, RLP: create_validator [publicKey, blsPublicKey, proofOfPossession, moniker, commissionPpm, selfBond];
 * ready []; delegate and undelegate [validator, amount]; redelegate [src, dst, amount];
 * withdraw and unjail [validator]; evidence [DuplicateVoteEvidence (chain/evidence.ts)].
 */
export function encodeStaking(a: StakingArgs): Uint8Array {
  switch (a.method) {
    case 'create_validator':
      return rlpEncode([a.args.publicKey, a.args.blsPublicKey, a.args.proofOfPossession, a.args.moniker, uintBytes(a.args.commissionPpm), uintBytes(a.args.selfBond)]);
    case 'ready':
      return rlpEncode([]);
    case 'delegate':
    case 'undelegate':
      return rlpEncode([a.args.validator, uintBytes(a.args.amount)]);
    case 'redelegate':
      return rlpEncode([a.args.src, a.args.dst, uintBytes(a.args.amount)]);
    case 'withdraw':
    case 'unjail':
      return rlpEncode([a.args.validator]);
    case 'evidence':
      return rlpEncode([encodeDuplicateVote(a.args)]);
  }
}

export function decodeStaking(method: string, payload: Uint8Array): StakingArgs {
  const what = `staking.${method} payload`;
  const item = rlpDecode(payload, what);
  switch (method) {
    case 'create_validator': {
      const f = decodeList(item, 6, what);
      return {
        method,
        args: {
          publicKey: copyBytes(asBytes(f[0], 'publicKey', ED25519_PUBLIC_KEY_LENGTH)),
          blsPublicKey: copyBytes(asBytes(f[1], 'blsPublicKey', BLS_PUBLIC_KEY_LENGTH)),
          proofOfPossession: copyBytes(asBytes(f[2], 'proofOfPossession', BLS_SIGNATURE_LENGTH)),
          moniker: asString(f[3], 'moniker', 64),
          commissionPpm: BigInt(asSafeUint(f[4], 'commissionPpm')),
          selfBond: amount(f[5], 'selfBond'),
        },
      };
    }
    case 'ready':
      decodeList(item, 0, what);
      return { method, args: {} };
    case 'delegate':
    case 'undelegate': {
      const f = decodeList(item, 2, what);
      return { method, args: { validator: address(f[0], 'validator'), amount: amount(f[1], 'amount') } };
    }
    case 'redelegate': {
      const f = decodeList(item, 3, what);
      return { method, args: { src: address(f[0], 'src'), dst: address(f[1], 'dst'), amount: amount(f[2], 'amount') } };
    }
    case 'withdraw':
    case 'unjail': {
      const f = decodeList(item, 1, what);
      return { method, args: { validator: address(f[0], 'validator') } };
    }
    case 'evidence': {
      const f = decodeList(item, 1, what);
      return { method, args: decodeDuplicateVote(asBytes(f[0], 'evidence')) };
    }
    default:
      throw new Error(`staking has no method "${method}"`);
  }
}
