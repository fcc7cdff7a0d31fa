import { ADDRESS_LENGTH, asBigint, asBytes, asSafeUint, asString, decodeList, rlpDecode, rlpEncode, toKey, u64be, uintBytes } from '../../../chain/index.js';
import { MAX_SUMMARY, MAX_TITLE, decodeContent, encodeContent, type ProposalContent } from './codec.js';
import type { Tally } from './tally.js';

/**
 * Every court record's key and encoding, built here and nowhere else. All under "court/"; ids and
 * heights go into keys as 8 bytes big-endian, so that a scan lists them in order.
 */
const P = 'court/';
const id8 = (id: number) => toKey(u64be(id));
export const Keys = {
  /** The next proposal id (ids start at 1). */
  next: `${P}next`,
  /** How many proposals are in their deposit or voting period. */
  active: `${P}active`,
  proposal: (id: number) => `${P}p/${id8(id)}`,
  proposals: `${P}p/`,
  deposit: (id: number, depositor: Uint8Array) => `${P}dep/${id8(id)}${toKey(depositor)}`,
  deposits: (id: number) => `${P}dep/${id8(id)}`,
  vote: (id: number, voter: Uint8Array) => `${P}vote/${id8(id)}${toKey(voter)}`,
  votes: (id: number) => `${P}vote/${id8(id)}`,
  /** Proposals whose deposit or voting period ends at `height` (keys; the value is empty). */
  queueEntry: (height: number, id: number) => `${P}q/${id8(height)}${id8(id)}`,
  queue: (height: number) => `${P}q/${id8(height)}`,
  /** The software upgrade plan (at most one). */
  plan: `${P}plan`,
  /** Set when the upgrade of this name ran (its value: the height, 8 bytes). */
  upgradeDone: (name: string) => `${P}upgraded/${name}`,
} as const;

/** A software upgrade plan: nodes halt before `height` unless their binary knows `name`. */
export interface UpgradePlan {
  name: string;
  height: number;
  info: string;
}

export const encodePlan = (p: UpgradePlan): Uint8Array => rlpEncode([p.name, p.height, p.info]);
export function decodePlan(bytes: Uint8Array): UpgradePlan {
  const f = decodeList(rlpDecode(bytes, 'upgrade plan'), 3, 'upgrade plan');
  return { name: asString(f[0], 'name', 64), height: asSafeUint(f[1], 'height'), info: asString(f[2], 'info', 4000) };
}

/** The id of a `queueEntry` key (its last 8 bytes). */
export const queueEntryId = (key: string): number => Number(u64FromKey(key.slice(-8)));
/** The address of a `deposit` or `vote` key (its last 20 bytes). */
export const keyAddress = (key: string): Uint8Array => Uint8Array.from(key.slice(-ADDRESS_LENGTH), (c) => c.charCodeAt(0));

function u64FromKey(s: string): bigint {
  let v = 0n;
  for (let i = 0; i < s.length; i++) v = (v << 8n) | BigInt(s.charCodeAt(i));
  return v;
}

/** Where a proposal is: collecting deposits, being voted on, or done (how). */
export type ProposalStatus = 'deposit' | 'voting' | 'passed' | 'rejected' | 'vetoed' | 'failed' | 'expired';
const STATUSES: ProposalStatus[] = ['deposit', 'voting', 'passed', 'rejected', 'vetoed', 'failed', 'expired'];

export interface ProposalRecord {
  id: number;
  proposer: Uint8Array;
  title: string;
  summary: string;
  content: ProposalContent;
  emergency: boolean;
  status: ProposalStatus;
  submitHeight: number;
  /** The last height of the deposit period. */
  depositEnd: number;
  /** Voting runs from votingStart to votingEnd inclusive (0 before it starts). */
  votingStart: number;
  votingEnd: number;
  totalDeposit: bigint;
  depositors: number;
  voters: number;
  /** The final tally (zeros until the voting period ends). */
  tally: Tally;
  /** Why it did not pass, or why its execution failed ('' otherwise). */
  reason: string;
  /** The height at which it ended (0 while open). */
  endHeight: number;
}

export function encodeProposal(p: ProposalRecord): Uint8Array {
  const t = p.tally;
  return rlpEncode([
    p.id,
    p.proposer,
    p.title,
    p.summary,
    encodeContent(p.content),
    p.emergency ? 1 : 0,
    STATUSES.indexOf(p.status),
    p.submitHeight,
    p.depositEnd,
    p.votingStart,
    p.votingEnd,
    uintBytes(p.totalDeposit),
    p.depositors,
    p.voters,
    [uintBytes(t.yes), uintBytes(t.abstain), uintBytes(t.no), uintBytes(t.veto), uintBytes(t.bonded)],
    p.reason,
    p.endHeight,
  ]);
}

export function decodeProposal(bytes: Uint8Array): ProposalRecord {
  const f = decodeList(rlpDecode(bytes, 'proposal'), 17, 'proposal');
  const t = decodeList(f[14]!, 5, 'tally');
  const status = STATUSES[asSafeUint(f[6], 'status')];
  if (!status) throw new Error('proposal: bad status');
  return {
    id: asSafeUint(f[0], 'id'),
    proposer: asBytes(f[1], 'proposer', ADDRESS_LENGTH),
    title: asString(f[2], 'title', MAX_TITLE),
    summary: asString(f[3], 'summary', MAX_SUMMARY),
    content: decodeContent(f[4]!),
    emergency: asSafeUint(f[5], 'emergency') === 1,
    status,
    submitHeight: asSafeUint(f[7], 'submitHeight'),
    depositEnd: asSafeUint(f[8], 'depositEnd'),
    votingStart: asSafeUint(f[9], 'votingStart'),
    votingEnd: asSafeUint(f[10], 'votingEnd'),
    totalDeposit: asBigint(f[11], 'totalDeposit'),
    depositors: asSafeUint(f[12], 'depositors'),
    voters: asSafeUint(f[13], 'voters'),
    tally: { yes: asBigint(t[0], 'yes'), abstain: asBigint(t[1], 'abstain'), no: asBigint(t[2], 'no'), veto: asBigint(t[3], 'veto'), bonded: asBigint(t[4], 'bonded') },
    reason: asString(f[15], 'reason', 1024),
    endHeight: asSafeUint(f[16], 'endHeight'),
  };
}
