import { ADDRESS_LENGTH, BLS_PUBLIC_KEY_LENGTH, ED25519_PUBLIC_KEY_LENGTH, asBigint, asBytes, asList, asSafeUint, asString, decodeList, rlpDecode, rlpEncode, toKey, u64be, uintBytes, type RlpItem } from '../../../chain/index.js';

/**
 * Every staking record's key and encoding, built here and nowhere else. All under "staking/";
 * addresses and keys go into a key as their bytes (a latin1 key string, chain/bytes.ts toKey).
 * Amounts are GEN base units, rewards NEX base units; records are RLP lists of fixed fields.
 */
const P = 'staking/';
export const Keys = {
  /** Set once at genesis when the chain has a staking section: staking manages the set. */
  last: `${P}last`,
  /** Every registered validator's address, in address order. */
  candidates: `${P}vals`,
  /** GEN burned by slashes, in total. */
  burned: `${P}burned`,
  validator: (v: Uint8Array) => `${P}v/${toKey(v)}`,
  signing: (v: Uint8Array) => `${P}sig/${toKey(v)}`,
  /** Slots chunk·SIGNING_CHUNK_BITS … of a validator's window of missed blocks (absent: none missed). */
  signingChunk: (v: Uint8Array, chunk: number) => `${P}sigc/${toKey(v)}${toKey(u64be(chunk))}`,
  bls: (blsKey: Uint8Array) => `${P}bls/${toKey(blsKey)}`,
  delegation: (v: Uint8Array, d: Uint8Array) => `${P}d/${toKey(v)}${toKey(d)}`,
  delegations: (d: Uint8Array) => `${P}dl/${toKey(d)}`,
  unbondings: (v: Uint8Array) => `${P}ub/${toKey(v)}`,
  unbondingQueue: (height: number) => `${P}uq/${toKey(u64be(height))}`,
  redelegations: (src: Uint8Array) => `${P}rd/${toKey(src)}`,
  redelegationQueue: (height: number) => `${P}rq/${toKey(u64be(height))}`,
  evidence: (v: Uint8Array, height: number) => `${P}ev/${toKey(v)}${toKey(u64be(height))}`,
  /** Set once at genesis on a permissioned chain: only validators on the roster may bond. */
  permissioned: `${P}permissioned`,
  /** The roster of a permissioned chain: a validator's address → RosterEntry. */
  rosterEntry: (v: Uint8Array) => `${P}roster/${toKey(v)}`,
  roster: `${P}roster/`,
} as const;

/** The validator address in a `rosterEntry` key (its last 20 bytes). */
export const rosterKeyAddress = (key: string): Uint8Array => Uint8Array.from(key.slice(-ADDRESS_LENGTH), (c) => c.charCodeAt(0));

/** Longest organisation name on the roster. */
export const MAX_ORGANISATION = 64;

/**
 * An organisation admitted to a permissioned chain's validator set: the consensus keys its node
 * will sign with (the validator's address derives from the Ed25519 key) and the account that may
 * bond them (create_validator's sender).
 */
export interface RosterEntry {
  organisation: string;
  operator: Uint8Array;
  publicKey: Uint8Array;
  blsPublicKey: Uint8Array;
  /** The height it was added at (0: genesis). */
  addedHeight: number;
}

export const encodeRosterEntry = (r: RosterEntry): Uint8Array => rlpEncode([r.organisation, r.operator, r.publicKey, r.blsPublicKey, r.addedHeight]);
export function decodeRosterEntry(bytes: Uint8Array): RosterEntry {
  const f = decodeList(rlpDecode(bytes, 'roster entry'), 5, 'roster entry');
  return {
    organisation: asString(f[0], 'organisation', MAX_ORGANISATION),
    operator: asBytes(f[1], 'operator', ADDRESS_LENGTH),
    publicKey: asBytes(f[2], 'publicKey', ED25519_PUBLIC_KEY_LENGTH),
    blsPublicKey: asBytes(f[3], 'blsPublicKey', BLS_PUBLIC_KEY_LENGTH),
    addedHeight: asSafeUint(f[4], 'addedHeight'),
  };
}

/** Reward per share is kept scaled by this (integer arithmetic, rounded down: what is paid never exceeds what accrued). */
export const REWARD_SCALE = 10n ** 24n;

export type SlashKind = 'double_sign' | 'downtime';

export interface SlashRecord {
  height: number;
  kind: SlashKind;
  /** GEN burned, from the bond and the entries still slashable. */
  burned: bigint;
}

/** How many slashes a validator's record remembers (the newest). */
export const SLASH_HISTORY = 16;

export interface ValidatorRecord {
  /** The account that created it: its self-bond, its commission, the one that may unjail it. */
  operator: Uint8Array;
  /** Consensus Ed25519 key (the validator's address derives from it) and BLS key. */
  publicKey: Uint8Array;
  blsPublicKey: Uint8Array;
  moniker: string;
  /** Parts per million of the rewards it earns that go to the operator before delegators share the rest. */
  commissionPpm: bigint;
  /** GEN bonded to it (in the staking account), and the shares its delegators hold of it. */
  tokens: bigint;
  shares: bigint;
  /** Its consensus key has said (staking.ready) that its node is up: only then does it join the set. */
  ready: boolean;
  /** Jailed until this height (0: not jailed); it may unjail from then on. */
  jailedUntil: number;
  jailed: boolean;
  /** Double-signed: jailed for good. */
  tombstoned: boolean;
  /** NEX per share earned by its delegators so far, scaled by REWARD_SCALE. */
  rewardPerShare: bigint;
  /** Commission earned and not yet withdrawn by the operator (NEX). */
  commissionOwed: bigint;
  createdHeight: number;
  slashes: SlashRecord[];
}

const flag = (b: boolean) => (b ? 1 : 0);
const bool = (item: RlpItem | undefined, what: string) => asSafeUint(item, what) === 1;

export function encodeValidator(v: ValidatorRecord): Uint8Array {
  return rlpEncode([
    v.operator,
    v.publicKey,
    v.blsPublicKey,
    v.moniker,
    uintBytes(v.commissionPpm),
    uintBytes(v.tokens),
    uintBytes(v.shares),
    flag(v.ready),
    v.jailedUntil,
    flag(v.jailed),
    flag(v.tombstoned),
    uintBytes(v.rewardPerShare),
    uintBytes(v.commissionOwed),
    v.createdHeight,
    v.slashes.map((s) => [s.height, s.kind, uintBytes(s.burned)]),
  ]);
}

export function decodeValidator(bytes: Uint8Array): ValidatorRecord {
  const f = decodeList(rlpDecode(bytes, 'staking validator'), 15, 'staking validator');
  return {
    operator: asBytes(f[0], 'operator', ADDRESS_LENGTH),
    publicKey: asBytes(f[1], 'publicKey', ED25519_PUBLIC_KEY_LENGTH),
    blsPublicKey: asBytes(f[2], 'blsPublicKey', BLS_PUBLIC_KEY_LENGTH),
    moniker: asString(f[3], 'moniker', 64),
    commissionPpm: asBigint(f[4], 'commission'),
    tokens: asBigint(f[5], 'tokens'),
    shares: asBigint(f[6], 'shares'),
    ready: bool(f[7], 'ready'),
    jailedUntil: asSafeUint(f[8], 'jailedUntil'),
    jailed: bool(f[9], 'jailed'),
    tombstoned: bool(f[10], 'tombstoned'),
    rewardPerShare: asBigint(f[11], 'rewardPerShare'),
    commissionOwed: asBigint(f[12], 'commissionOwed'),
    createdHeight: asSafeUint(f[13], 'createdHeight'),
    slashes: asList(f[14], 'slashes').map((s) => {
      const g = decodeList(s, 3, 'slash');
      return { height: asSafeUint(g[0], 'slash.height'), kind: asString(g[1], 'slash.kind') as SlashKind, burned: asBigint(g[2], 'slash.burned') };
    }),
  };
}

/**
 * A validator's record of the last signedBlocksWindow blocks it should have signed. The block at
 * height h is slot (h − start) mod window; the slots' bits (1 = missed) are kept in chunks of
 * SIGNING_CHUNK_BITS, and a chunk or this record is written only when a bit or the count flips:
 * a validator that signs every block writes nothing, so an empty block keeps the state root.
 */
export interface SigningInfo {
  /** The first height tracked since it (re)joined the set. */
  start: number;
  /** The window the slots were laid out for (a changed parameter starts the record over). */
  window: number;
  missed: number;
}

export const SIGNING_CHUNK_BITS = 256;

export const encodeSigning = (s: SigningInfo): Uint8Array => rlpEncode([s.start, s.window, s.missed]);
export function decodeSigning(bytes: Uint8Array): SigningInfo {
  const f = decodeList(rlpDecode(bytes, 'signing info'), 3, 'signing info');
  return { start: asSafeUint(f[0], 'start'), window: asSafeUint(f[1], 'window'), missed: asSafeUint(f[2], 'missed') };
}

export interface Delegation {
  shares: bigint;
  /** The validator's rewardPerShare when its rewards were last settled into `owed`. */
  entry: bigint;
  /** NEX earned and not yet withdrawn. */
  owed: bigint;
}

export const encodeDelegation = (d: Delegation): Uint8Array => rlpEncode([uintBytes(d.shares), uintBytes(d.entry), uintBytes(d.owed)]);
export function decodeDelegation(bytes: Uint8Array): Delegation {
  const f = decodeList(rlpDecode(bytes, 'delegation'), 3, 'delegation');
  return { shares: asBigint(f[0], 'shares'), entry: asBigint(f[1], 'entry'), owed: asBigint(f[2], 'owed') };
}

/** GEN leaving a validator: paid out at `completion`, slashable for the validator's infractions from `creation` on. */
export interface UnbondingEntry {
  delegator: Uint8Array;
  amount: bigint;
  creation: number;
  completion: number;
}

/** Shares moved from a validator (the list's key) to `dst`: slashable for the source's infractions from `creation` until `completion`. */
export interface RedelegationEntry {
  delegator: Uint8Array;
  dst: Uint8Array;
  shares: bigint;
  creation: number;
  completion: number;
}

export const encodeUnbondings = (l: readonly UnbondingEntry[]): Uint8Array => rlpEncode(l.map((e) => [e.delegator, uintBytes(e.amount), e.creation, e.completion]));
export function decodeUnbondings(bytes: Uint8Array): UnbondingEntry[] {
  return asList(rlpDecode(bytes, 'unbondings'), 'unbondings').map((i) => {
    const f = decodeList(i, 4, 'unbonding');
    return { delegator: asBytes(f[0], 'delegator', ADDRESS_LENGTH), amount: asBigint(f[1], 'amount'), creation: asSafeUint(f[2], 'creation'), completion: asSafeUint(f[3], 'completion') };
  });
}

export const encodeRedelegations = (l: readonly RedelegationEntry[]): Uint8Array => rlpEncode(l.map((e) => [e.delegator, e.dst, uintBytes(e.shares), e.creation, e.completion]));
export function decodeRedelegations(bytes: Uint8Array): RedelegationEntry[] {
  return asList(rlpDecode(bytes, 'redelegations'), 'redelegations').map((i) => {
    const f = decodeList(i, 5, 'redelegation');
    return { delegator: asBytes(f[0], 'delegator', ADDRESS_LENGTH), dst: asBytes(f[1], 'dst', ADDRESS_LENGTH), shares: asBigint(f[2], 'shares'), creation: asSafeUint(f[3], 'creation'), completion: asSafeUint(f[4], 'completion') };
  });
}

/** A list of addresses (candidates, a delegator's validators, a queue slot). */
export const encodeAddresses = (l: readonly Uint8Array[]): Uint8Array => rlpEncode([...l]);
export const decodeAddresses = (bytes: Uint8Array, what: string): Uint8Array[] => asList(rlpDecode(bytes, what), what).map((i) => asBytes(i, what, ADDRESS_LENGTH));

/** The set staking last handed to consensus: [[address, power]...] in address order. */
export const encodePowers = (l: readonly { address: Uint8Array; power: bigint }[]): Uint8Array => rlpEncode(l.map((p) => [p.address, uintBytes(p.power)]));
export function decodePowers(bytes: Uint8Array): { address: Uint8Array; power: bigint }[] {
  return asList(rlpDecode(bytes, 'powers'), 'powers').map((i) => {
    const f = decodeList(i, 2, 'power');
    return { address: asBytes(f[0], 'address', ADDRESS_LENGTH), power: asBigint(f[1], 'power') };
  });
}
