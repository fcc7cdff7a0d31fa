import {
  BlockHeader,
  decodeCertificate,
  decodeHeader,
  decodeReceipt,
  decodeTransaction,
  decodeValidatorSet,
  equalBytes,
  fromHex,
  versionedProofFromJson,
  STATE_PROOF_FORMATS,
  toHex,
  verifyMerkleProof,
  verifyVersionedStateProof,
  asRlpUint,
  type MerkleProof,
  type Receipt,
  type Transaction,
  type ValidatorSet,
} from '../chain/index.js';
import { nonceKey } from '../vm/accounts.js';
import { ASSETS } from '../vm/modules/bank/genesis.js';
import { assetKey, balanceKey } from '../vm/modules/bank/keys.js';
import type { HeightArg, MetanodeClient } from './client.js';
import { ClientError, ClientErrorCode, VerificationError } from './errors.js';
import type { LightBlockJson } from './schemas.js';
import { addressArg } from './tx.js';

/** The header a light client starts from, learned out of band (docs/client.md "The trust model"). */
export interface TrustAnchor {
  /** 0 for genesis. */
  height: number;
  /** The block's hash, 0x-hex or bytes. */
  hash: string | Uint8Array;
}

export interface LightClientOptions {
  trust: TrustAnchor;
  /**
   * How long a verified header may vouch for later ones by the one-third rule (skipping
   * verification), counted from its timestamp; default 14 days. Past it, the client verifies
   * every header in turn (sequential verification). Keep it below the time a validator that
   * leaves the set stays accountable for what it signed.
   */
  trustingPeriodMs?: number;
  /**
   * What to do when the newest trusted header below a target is older than the trusting period:
   * 'refuse' (the default, as CometBFT does) fails with VerificationError "trust expired" — give a
   * newer trusted header; 'sequential' verifies every later header in turn, each by the set its
   * predecessor names, which a coalition of validators that has since left could still forge (a
   * long-range attack): opt into it only where that risk is accepted.
   */
  onExpired?: 'refuse' | 'sequential';
  /** How far a header's timestamp may run ahead of this machine's clock; default 60 s. */
  maxClockDriftMs?: number;
  /** The client's clock (milliseconds since the epoch); default Date.now. */
  now?: () => number;
  /** Light blocks fetched per batch in sequential verification; default 50. */
  batchSize?: number;
}

/** A header this client verified, with the validator set that committed it. */
export interface VerifiedHeader {
  readonly header: BlockHeader;
  readonly hash: Uint8Array;
  readonly validators: ValidatorSet;
}

/** A state record proved against a verified header: its value, or undefined where the key is absent. */
export interface VerifiedState {
  readonly header: VerifiedHeader;
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

/** A committed transaction and its receipt, both proved against their verified header. */
export interface VerifiedTransaction {
  readonly header: VerifiedHeader;
  /** (Its position in the block is the node's word: a header commits to the transactions, not to their count.) */
  readonly transaction: Transaction;
  readonly receipt: Receipt;
}

const DAY_MS = 86_400_000;

/** A light block decoded and checked on its own (hash, set, certificate), not yet linked to a trusted one. */
interface Candidate extends VerifiedHeader {
  readonly certificateSigners: number[];
}

/**
 * A light client (docs/client.md): from a trusted header (genesis, usually) it follows the chain
 * through commit certificates and validator-set changes, and checks what a node says — state
 * records, transactions, receipts — against headers it verified, never against the node's word.
 * Every check that fails is a VerificationError naming it; nothing unverified is returned.
 *
 * Headers are verified forward by bisection (CometBFT's skipping verification): a header whose
 * certificate is signed by more than a third of the power of a trusted set, inside the trusting
 * period, is trusted; otherwise the client verifies a header halfway and tries again. Adjacent
 * headers are linked by parent hash and by the set the earlier one names for the next. Headers
 * below a trusted one are linked backwards by parent hash alone.
 */
export class LightClient {
  private readonly trustingPeriodMs: number;
  private readonly maxClockDriftMs: number;
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly onExpired: 'refuse' | 'sequential';
  private readonly anchor: { height: number; hash: Uint8Array };
  /** Verified headers by height. */
  private readonly verified = new Map<number, VerifiedHeader>();
  /** Light blocks checked on their own during one header() call (bisection comes back to them). */
  private readonly candidates = new Map<number, Candidate>();
  private chainId?: string;

  constructor(
    readonly rpc: MetanodeClient,
    opts: LightClientOptions,
  ) {
    const h = opts.trust.height;
    if (!Number.isSafeInteger(h) || h < 0) throw new ClientError(ClientErrorCode.BadArgument, 'the trusted height must be a non-negative integer');
    let hash: Uint8Array;
    try {
      hash = typeof opts.trust.hash === 'string' ? fromHex(opts.trust.hash, 32, 'trusted hash') : opts.trust.hash;
    } catch {
      throw new ClientError(ClientErrorCode.BadArgument, 'the trusted hash is 0x followed by 64 hex digits');
    }
    if (hash.length !== 32) throw new ClientError(ClientErrorCode.BadArgument, 'the trusted hash is 32 bytes');
    this.anchor = { height: h, hash };
    this.trustingPeriodMs = opts.trustingPeriodMs ?? 14 * DAY_MS;
    this.maxClockDriftMs = opts.maxClockDriftMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.batchSize = Math.max(1, opts.batchSize ?? 50);
    this.onExpired = opts.onExpired ?? 'refuse';
  }

  /** The highest verified header (after `init`, at least the anchor). */
  get latestVerified(): VerifiedHeader | undefined {
    const top = this.heights().at(-1);
    return top === undefined ? undefined : this.verified.get(top);
  }

  /** Fetches the anchor's block and checks that its hash is the trusted one. Called by every read; idempotent. */
  async init(): Promise<VerifiedHeader> {
    const known = this.verified.get(this.anchor.height);
    if (known && equalBytes(known.hash, this.anchor.hash)) return known;
    const lb = await this.fetch(this.anchor.height);
    const header = this.decodeHeader(lb);
    if (!equalBytes(header.hash(), this.anchor.hash)) {
      throw new VerificationError('trust anchor', `block ${this.anchor.height} has hash ${toHex(header.hash())}, not the trusted ${toHex(this.anchor.hash)}: this node is on another chain`, { height: this.anchor.height });
    }
    const validators = this.decodeSet(lb, header);
    this.chainId = header.chainId;
    const v: VerifiedHeader = { header, hash: header.hash(), validators };
    this.verified.set(header.height, v);
    return v;
  }

  /** Verifies the node's head and returns it. */
  async sync(): Promise<VerifiedHeader> {
    await this.init();
    return this.header((await this.rpc.head()).height);
  }

  /** The verified header at `height` ("latest": the node's head). */
  async header(height: HeightArg): Promise<VerifiedHeader> {
    if (height === 'latest') return this.sync();
    if (!Number.isSafeInteger(height) || height < 0) throw new ClientError(ClientErrorCode.BadArgument, 'a height is a non-negative integer or "latest"');
    await this.init();
    const known = this.verified.get(height);
    if (known) return known;
    const hs = this.heights();
    const below = hs.filter((h) => h < height).at(-1);
    try {
      if (below !== undefined) return await this.forward(this.verified.get(below)!, height);
      return await this.backward(this.verified.get(hs[0]!)!, height);
    } finally {
      this.candidates.clear();
    }
  }

  /** The value of a state key at `height`, proved against that height's verified header (VerificationError if the proof fails). */
  async state(key: Uint8Array | string, height: HeightArg = 'latest'): Promise<VerifiedState> {
    let k: Uint8Array;
    try {
      k = typeof key === 'string' ? fromHex(key, undefined, 'state key') : key;
    } catch {
      throw new ClientError(ClientErrorCode.BadArgument, 'a state key is bytes or 0x-hex');
    }
    // "latest" is the head this client verifies, not whichever height the node would pick.
    const at = height === 'latest' ? (await this.sync()).header.height : height;
    await this.init();
    const answer = await this.rpc.stateProof(k, at);
    if (answer.height !== at) throw new VerificationError('state proof', `asked for height ${at}, the node answered for ${answer.height}`);
    const header = await this.header(at);
    if (!STATE_PROOF_FORMATS.includes(answer.proofFormat)) throw new VerificationError('state proof', `proof format ${answer.proofFormat} is not one this client verifies (${STATE_PROOF_FORMATS.join(', ')})`);
    const got = this.hex(answer.key, 'state proof', 'key');
    if (!equalBytes(got, k)) throw new VerificationError('state proof', 'the node answered for another key');
    const value = answer.value === null ? undefined : this.hex(answer.value, 'state proof', 'value');
    let ok: boolean;
    try {
      ok = verifyVersionedStateProof(header.header.stateRoot, k, value, versionedProofFromJson(answer.proofFormat, answer.proof));
    } catch (e) {
      throw new VerificationError('state proof', `the proof is malformed: ${(e as Error).message}`, { height: answer.height });
    }
    if (!ok) {
      throw new VerificationError('state proof', `the proof that key ${toHex(k)} ${value === undefined ? 'is absent' : 'holds ' + toHex(value)} does not verify against the state root of verified block ${answer.height}`, { height: answer.height });
    }
    return { header, key: k, value };
  }

  /** An account's balance in `asset` (base units), proved. */
  async balance(address: Uint8Array | string, asset: string, height: HeightArg = 'latest'): Promise<bigint> {
    const { value } = await this.state(balanceKey(addressArg(address, 'address'), asset), height);
    return value === undefined ? 0n : this.uint(value, 'balance');
  }

  /**
   * The chain's assets (the bank's four, vm/modules/bank/genesis.ts) with their decimals, each
   * proved from its `bank/asset/` record at one height: a node cannot add, drop or re-scale one.
   */
  async assets(height: HeightArg = 'latest'): Promise<{ symbol: string; decimals: number }[]> {
    const at = height === 'latest' ? (await this.sync()).header.height : height;
    return Promise.all(
      ASSETS.map(async (symbol) => {
        const { value } = await this.state(assetKey(symbol), at);
        if (value === undefined) throw new VerificationError('state proof', `the proof says the chain has no asset ${symbol} at height ${at}, which every Metanode chain has from genesis`);
        const decimals = this.uint(value, `${symbol} decimals`);
        if (decimals > 36n) throw new VerificationError('state proof', `the proved decimals of ${symbol} (${decimals}) are more than any asset has`);
        return { symbol, decimals: Number(decimals) };
      }),
    );
  }

  /** An account's next nonce, proved. */
  async nonce(address: Uint8Array | string, height: HeightArg = 'latest'): Promise<bigint> {
    const { value } = await this.state(nonceKey(addressArg(address, 'address')), height);
    return value === undefined ? 0n : this.uint(value, 'nonce');
  }

  /** A committed transaction and its receipt, proved by Merkle proofs against its verified header; null if the node says it is not committed. */
  async transaction(hash: string | Uint8Array): Promise<VerifiedTransaction | null> {
    let h: Uint8Array;
    try {
      h = typeof hash === 'string' ? fromHex(hash, 32, 'transaction hash') : hash;
    } catch {
      throw new ClientError(ClientErrorCode.BadArgument, 'a transaction hash is 0x followed by 64 hex digits');
    }
    await this.init();
    const p = await this.rpc.transactionProof(toHex(h));
    if (!p) return null;
    const header = await this.header(p.blockHeight);
    if (!equalBytes(this.hex(p.blockHash, 'transaction', 'blockHash'), header.hash)) throw new VerificationError('transaction', `the node placed the transaction in block ${p.blockHash}, not the verified block ${p.blockHeight}`);
    let transaction: Transaction;
    let receipt: Receipt;
    const receiptBytes = this.hex(p.receipt, 'receipt', 'receipt');
    try {
      transaction = decodeTransaction(this.hex(p.transaction, 'transaction', 'transaction'));
      receipt = decodeReceipt(receiptBytes);
    } catch (e) {
      throw new VerificationError('transaction', `the node's transaction or receipt does not decode: ${(e as Error).message}`);
    }
    if (!equalBytes(transaction.hash(), h)) throw new VerificationError('transaction', 'the node answered with another transaction');
    if (!equalBytes(receipt.txHash, h)) throw new VerificationError('receipt', "the node answered with another transaction's receipt");
    if (p.txProof.index !== p.receiptProof.index || p.txProof.total !== p.receiptProof.total) throw new VerificationError('transaction', 'the transaction and receipt proofs are for different positions in the block');
    if (!verifyMerkleProof(header.header.txRoot, h, this.merkle(p.txProof))) {
      throw new VerificationError('transaction', `the transaction is not in the txRoot of verified block ${p.blockHeight}`, { height: p.blockHeight });
    }
    if (!verifyMerkleProof(header.header.receiptsRoot, receiptBytes, this.merkle(p.receiptProof))) {
      throw new VerificationError('receipt', `the receipt is not in the receiptsRoot of verified block ${p.blockHeight}`, { height: p.blockHeight });
    }
    return { header, transaction, receipt };
  }

  // --- header verification -------------------------------------------------------------

  private heights(): number[] {
    return [...this.verified.keys()].sort((a, b) => a - b);
  }

  private trust(v: VerifiedHeader): VerifiedHeader {
    this.verified.set(v.header.height, v);
    return v;
  }

  private async forward(from: VerifiedHeader, target: number): Promise<VerifiedHeader> {
    const withinPeriod = this.now() - from.header.timestamp < this.trustingPeriodMs;
    if (!withinPeriod) {
      if (this.onExpired === 'sequential') return this.sequential(from, target);
      throw new VerificationError(
        'trust expired',
        `the newest trusted header below block ${target} (block ${from.header.height}, ${new Date(from.header.timestamp).toISOString()}) is older than the trusting period of ${Math.round(this.trustingPeriodMs / 3_600_000)} h: trust a newer header (its height and hash from someone you trust), or opt into onExpired: 'sequential'`,
        { height: from.header.height },
      );
    }
    let candidate = this.candidates.get(target);
    if (!candidate) this.candidates.set(target, (candidate = this.candidate(await this.fetch(target), target)));
    if (target === from.header.height + 1) return this.trust(this.linkAdjacent(from, candidate));
    this.checkLater(from, candidate);
    if (this.signedByTrusted(from, candidate)) return this.trust(candidate);
    // Not enough of the trusted set signed: verify a header halfway, then go on from it.
    const pivot = from.header.height + Math.floor((target - from.header.height) / 2);
    const mid = await this.forward(from, pivot);
    return this.forward(mid, target);
  }

  /** Every header from `from` up to `target`, each by the set its predecessor names. */
  private async sequential(from: VerifiedHeader, target: number): Promise<VerifiedHeader> {
    let prev = from;
    for (let h = from.header.height + 1; h <= target; h += this.batchSize) {
      const heights = Array.from({ length: Math.min(this.batchSize, target - h + 1) }, (_, i) => h + i);
      for (const [i, lb] of (await this.fetchMany(heights)).entries()) prev = this.linkAdjacent(prev, this.candidate(lb, heights[i]!));
      // Kept: the last header of each batch, not every one (memory stays bounded on a long chain).
      this.trust(prev);
    }
    return prev;
  }

  /** Headers below a verified one, linked by parent hash: each is the one its successor names. */
  private async backward(from: VerifiedHeader, target: number): Promise<VerifiedHeader> {
    let next = from;
    for (let h = from.header.height - 1; h >= target; h -= this.batchSize) {
      const heights = Array.from({ length: Math.min(this.batchSize, h - target + 1) }, (_, i) => h - i);
      for (const [i, lb] of (await this.fetchMany(heights)).entries()) {
        const header = this.decodeHeader(lb, heights[i]!);
        if (!equalBytes(header.hash(), next.header.parentHash)) {
          throw new VerificationError('header', `block ${header.height} is not the parent of verified block ${next.header.height}`, { height: header.height });
        }
        next = this.trust({ header, hash: header.hash(), validators: this.decodeSet(lb, header) });
      }
    }
    return next;
  }

  /** A light block checked on its own: a header of this chain and height, its set, and a certificate by a quorum of that set. */
  private candidate(lb: LightBlockJson, height: number): Candidate {
    const header = this.decodeHeader(lb, height);
    const validators = this.decodeSet(lb, header);
    if (this.chainId !== undefined && header.chainId !== this.chainId) throw new VerificationError('header', `block ${height} is of chain ${header.chainId}, not ${this.chainId}`, { height });
    if (header.timestamp > this.now() + this.maxClockDriftMs) throw new VerificationError('header', `block ${height} has a timestamp in the future (${new Date(header.timestamp).toISOString()})`, { height });
    if (lb.certificate === null) throw new VerificationError('certificate', `block ${height} comes without a commit certificate`, { height });
    let certificate;
    try {
      certificate = decodeCertificate(fromHex(lb.certificate));
      certificate.verify(header.chainId, validators, height, header.hash());
    } catch (e) {
      throw new VerificationError('certificate', `block ${height}: ${(e as Error).message}`, { height });
    }
    return { header, hash: header.hash(), validators, certificateSigners: certificate.signerIndices() };
  }

  private linkAdjacent(prev: VerifiedHeader, c: Candidate): VerifiedHeader {
    const h = c.header.height;
    if (!equalBytes(c.header.parentHash, prev.hash)) throw new VerificationError('header', `block ${h} does not follow verified block ${h - 1} (parent hash)`, { height: h });
    if (!equalBytes(c.header.validatorsHash, prev.header.nextValidatorsHash)) {
      throw new VerificationError('validators', `block ${h} is committed by a set other than the one verified block ${h - 1} names for it`, { height: h });
    }
    if (c.header.timestamp <= prev.header.timestamp) throw new VerificationError('header', `block ${h}'s timestamp is not after block ${h - 1}'s`, { height: h });
    return { header: c.header, hash: c.hash, validators: c.validators };
  }

  private checkLater(from: VerifiedHeader, c: Candidate): void {
    if (c.header.timestamp <= from.header.timestamp) {
      throw new VerificationError('header', `block ${c.header.height}'s timestamp is not after verified block ${from.header.height}'s`, { height: c.header.height });
    }
  }

  /**
   * Whether the candidate's certificate may be trusted on the trusted set's word: every signer is a
   * member of the trusted set (the same address and BLS key), and together they hold more than a
   * third of its power, so an honest member of it signed. Every signer must be known: the
   * aggregate signature is checked against the keys the node served, and a key the chain never
   * saw prove its possession could cancel the others out (a rogue-key forgery). A signer the
   * trusted set does not know sends the client to bisection, which ends in adjacent steps, where
   * each set is the one a verified header named.
   */
  private signedByTrusted(from: VerifiedHeader, c: Candidate): boolean {
    let power = 0n;
    for (const i of c.certificateSigners) {
      const v = c.validators.validators[i]!;
      const j = from.validators.indexOf(v.address);
      if (j < 0 || !equalBytes(from.validators.validators[j]!.blsPublicKey, v.blsPublicKey)) return false;
      power += from.validators.validators[j]!.power;
    }
    return 3n * power > from.validators.totalPower;
  }

  // --- fetching and decoding -----------------------------------------------------------

  private async fetch(height: number): Promise<LightBlockJson> {
    const lb = await this.rpc.lightBlock(height);
    if (!lb) throw new VerificationError('header', `the node has no block ${height}`, { height });
    return lb;
  }

  private async fetchMany(heights: number[]): Promise<LightBlockJson[]> {
    const settled = await this.rpc.batch(heights.map((h) => ({ method: 'chain_getLightBlock', params: [h] })));
    return settled.map((s, i) => {
      if (!s.ok) throw s.error;
      const lb = this.rpc.checkLightBlock(s.result);
      if (!lb) throw new VerificationError('header', `the node has no block ${heights[i]}`, { height: heights[i] });
      return lb;
    });
  }

  private decodeHeader(lb: LightBlockJson, height = this.anchor.height): BlockHeader {
    let header: BlockHeader;
    try {
      header = decodeHeader(fromHex(lb.header));
    } catch (e) {
      throw new VerificationError('header', `block ${height}'s header does not decode: ${(e as Error).message}`, { height });
    }
    if (header.height !== height) throw new VerificationError('header', `asked for block ${height}, the node answered with block ${header.height}`, { height });
    return header;
  }

  private decodeSet(lb: LightBlockJson, header: BlockHeader): ValidatorSet {
    let set: ValidatorSet;
    try {
      set = decodeValidatorSet(fromHex(lb.validators));
    } catch (e) {
      throw new VerificationError('validators', `block ${header.height}'s validator set does not decode: ${(e as Error).message}`, { height: header.height });
    }
    if (!equalBytes(set.hash(), header.validatorsHash)) throw new VerificationError('validators', `the validator set given for block ${header.height} is not the one its header names`, { height: header.height });
    return set;
  }

  private merkle(p: { index: number; total: number; siblings: string[] }): MerkleProof {
    return { index: p.index, total: p.total, siblings: p.siblings.map((s) => this.hex(s, 'transaction', 'proof', 32)) };
  }

  /** The node's hex as bytes; malformed hex is a VerificationError (a broken or lying node), never a crash. */
  private hex(text: string, what: string, field: string, length?: number): Uint8Array {
    try {
      return fromHex(text, length, field);
    } catch (e) {
      throw new VerificationError(what, `the node's ${field} is not valid hex: ${(e as Error).message}`);
    }
  }

  private uint(value: Uint8Array, what: string): bigint {
    try {
      return asRlpUint(value, what);
    } catch (e) {
      throw new VerificationError('state proof', `the proved ${what} is not an integer: ${(e as Error).message}`);
    }
  }
}
