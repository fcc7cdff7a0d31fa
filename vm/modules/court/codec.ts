import { ADDRESS_LENGTH, BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, ED25519_PUBLIC_KEY_LENGTH, asBigint, asBytes, asList, asSafeUint, asString, copyBytes, decodeList, rlpDecode, rlpEncode, uintBytes, type RlpInput, type RlpItem } from '../../../chain/index.js';

/** The court module's transaction kinds (the part after "court."). */
export const CourtTx = {
  Propose: 'propose',
  Deposit: 'deposit',
  Vote: 'vote',
} as const;
export type CourtMethod = (typeof CourtTx)[keyof typeof CourtTx];

/** Vote options, as Cosmos numbers them. */
export const VoteOption = { yes: 1, abstain: 2, no: 3, veto: 4 } as const;
export type VoteOptionName = keyof typeof VoteOption;
export const VOTE_OPTIONS = Object.keys(VoteOption) as VoteOptionName[];
export const voteOptionName = (n: number): VoteOptionName | undefined => VOTE_OPTIONS.find((o) => VoteOption[o] === n);

/** Bounds on a proposal, so that one fits a transaction and its execution is bounded. */
export const MAX_TITLE = 140;
export const MAX_SUMMARY = 4000;
export const MAX_CHANGES = 32;
export const MAX_PAYMENTS = 32;
/** An upgrade plan's name: what the binary that carries it knows it by (a letter or digit, then letters, digits, '.', '_', '-'). */
export const UPGRADE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Longest upgrade info (where to get the binary, its checksum…). */
export const MAX_UPGRADE_INFO = 2000;

/** What a proposal does when it passes. */
export type ProposalContent =
  | { kind: 'text' }
  /** Each module's parameters: the named fields get the values; each module's whole resulting set must be valid. */
  | { kind: 'params'; changes: { module: string; values: [string, bigint][] }[] }
  /** Payments from the treasury. */
  | { kind: 'spend'; payments: { to: Uint8Array; asset: string; amount: bigint }[] }
  /** Admits an organisation's validator to a permissioned chain's roster (its keys, the BLS key's proof of possession, its operator account). */
  | { kind: 'roster_add'; organisation: string; operator: Uint8Array; publicKey: Uint8Array; blsPublicKey: Uint8Array; proofOfPossession: Uint8Array }
  /** Removes a validator from the roster: it leaves the set and its self-bond is unbonded. */
  | { kind: 'roster_remove'; address: Uint8Array }
  /** A software upgrade plan (replacing any before it): nodes halt before `height` unless their binary knows `name`. */
  | { kind: 'upgrade'; name: string; height: number; info: string }
  /** Cancels the upgrade plan. */
  | { kind: 'cancel_upgrade' };
export type ProposalKind = ProposalContent['kind'];

export interface ProposeArgs {
  title: string;
  summary: string;
  content: ProposalContent;
  /** A higher threshold (emergencyThresholdPpm) and a shorter voting period (emergencyVotingBlocks). */
  emergency: boolean;
  /** GEN (base units) the proposer deposits with it. */
  deposit: bigint;
}
export interface DepositArgs {
  id: number;
  amount: bigint;
}
export interface VoteArgs {
  id: number;
  option: VoteOptionName;
}

export type CourtArgs = { method: 'propose'; args: ProposeArgs } | { method: 'deposit'; args: DepositArgs } | { method: 'vote'; args: VoteArgs };

const amount = (i: RlpItem, what: string) => asBigint(i, what, 16);

/** Content, RLP: ["text"]; ["params", [[module, [[name, value]...]]...]]; ["spend", [[to, asset, amount]...]]. */
export function encodeContent(c: ProposalContent): RlpInput {
  switch (c.kind) {
    case 'text':
      return ['text'];
    case 'params':
      return ['params', c.changes.map((m) => [m.module, m.values.map(([k, v]) => [k, uintBytes(v)])])];
    case 'spend':
      return ['spend', c.payments.map((p) => [p.to, p.asset, uintBytes(p.amount)])];
    case 'roster_add':
      return ['roster_add', c.organisation, c.operator, c.publicKey, c.blsPublicKey, c.proofOfPossession];
    case 'roster_remove':
      return ['roster_remove', c.address];
    case 'upgrade':
      return ['upgrade', c.name, c.height, c.info];
    case 'cancel_upgrade':
      return ['cancel_upgrade'];
  }
}

export function decodeContent(item: RlpItem): ProposalContent {
  const f = asList(item, 'content');
  const kind = asString(f[0], 'content kind', 16);
  switch (kind) {
    case 'text':
      decodeList(item, 1, 'text content');
      return { kind };
    case 'params': {
      const [, list] = decodeList(item, 2, 'params content');
      const changes = asList(list, 'changes').map((m) => {
        const [mod, values] = decodeList(m, 2, 'module change');
        const vals = asList(values, 'values').map((pair) => {
          const [k, v] = decodeList(pair, 2, 'parameter value');
          return [asString(k, 'parameter name', 64), asBigint(v, 'parameter value', 32)] as [string, bigint];
        });
        return { module: asString(mod, 'module', 32), values: vals };
      });
      return { kind, changes };
    }
    case 'spend': {
      const [, list] = decodeList(item, 2, 'spend content');
      const payments = asList(list, 'payments').map((p) => {
        const [to, asset, amt] = decodeList(p, 3, 'payment');
        return { to: copyBytes(asBytes(to, 'payment.to', ADDRESS_LENGTH)), asset: asString(asset, 'payment.asset', 8), amount: amount(amt, 'payment.amount') };
      });
      return { kind, payments };
    }
    case 'roster_add': {
      const [, org, operator, pk, bls, pop] = decodeList(item, 6, 'roster_add content');
      return {
        kind,
        organisation: asString(org, 'organisation', 64),
        operator: copyBytes(asBytes(operator, 'operator', ADDRESS_LENGTH)),
        publicKey: copyBytes(asBytes(pk, 'publicKey', ED25519_PUBLIC_KEY_LENGTH)),
        blsPublicKey: copyBytes(asBytes(bls, 'blsPublicKey', BLS_PUBLIC_KEY_LENGTH)),
        proofOfPossession: copyBytes(asBytes(pop, 'proofOfPossession', BLS_SIGNATURE_LENGTH)),
      };
    }
    case 'roster_remove': {
      const [, address] = decodeList(item, 2, 'roster_remove content');
      return { kind, address: copyBytes(asBytes(address, 'address', ADDRESS_LENGTH)) };
    }
    case 'upgrade': {
      const [, name, height, info] = decodeList(item, 4, 'upgrade content');
      return { kind, name: asString(name, 'upgrade name', 64), height: asSafeUint(height, 'upgrade height'), info: asString(info, 'upgrade info', MAX_UPGRADE_INFO) };
    }
    case 'cancel_upgrade':
      decodeList(item, 1, 'cancel_upgrade content');
      return { kind };
    default:
      throw new Error(`unknown proposal kind "${kind}" (kinds: text, params, spend, roster_add, roster_remove, upgrade, cancel_upgrade)`);
  }
}

/**
 * Payloads, RLP: propose [title, summary, content, emergency (0/1), deposit]; deposit [id, amount];
 * vote [id, option (1 yes, 2 abstain, 3 no, 4 veto)].
 */
export function encodeCourt(a: CourtArgs): Uint8Array {
  switch (a.method) {
    case 'propose':
      return rlpEncode([a.args.title, a.args.summary, encodeContent(a.args.content), a.args.emergency ? 1 : 0, uintBytes(a.args.deposit)]);
    case 'deposit':
      return rlpEncode([a.args.id, uintBytes(a.args.amount)]);
    case 'vote':
      return rlpEncode([a.args.id, VoteOption[a.args.option]]);
  }
}

export function decodeCourt(method: string, payload: Uint8Array): CourtArgs {
  const item = rlpDecode(payload, `court.${method} payload`);
  switch (method) {
    case 'propose': {
      const f = decodeList(item, 5, 'propose');
      const emergency = asSafeUint(f[3], 'emergency');
      if (emergency > 1) throw new Error('emergency must be 0 or 1');
      return { method, args: { title: asString(f[0], 'title', MAX_TITLE), summary: asString(f[1], 'summary', MAX_SUMMARY), content: decodeContent(f[2]), emergency: emergency === 1, deposit: amount(f[4], 'deposit') } };
    }
    case 'deposit': {
      const f = decodeList(item, 2, 'deposit');
      return { method, args: { id: asSafeUint(f[0], 'id'), amount: amount(f[1], 'amount') } };
    }
    case 'vote': {
      const f = decodeList(item, 2, 'vote');
      const n = asSafeUint(f[1], 'option');
      const option = voteOptionName(n);
      if (!option) throw new Error(`option must be 1 (yes), 2 (abstain), 3 (no) or 4 (veto), not ${n}`);
      return { method, args: { id: asSafeUint(f[0], 'id'), option } };
    }
    default:
      throw new Error(`court has no method "${method}"`);
  }
}
