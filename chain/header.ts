import { ADDRESS_LENGTH } from './address.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HASH_LENGTH, HashTag, taggedHash } from './hash.js';
import { certificateFromRlp, type CommitCertificate } from './certificate.js';
import { asBytes, asList, asSafeUint, asString, decodeList, rlpDecode, rlpEncode, type RlpInput, type RlpItem } from './rlp.js';

/** 2: eventsRoot (the block's begin/end-block events) after receiptsRoot; nextValidatorsHash and lastCommit last. */
export const HEADER_VERSION = 2;

export interface HeaderFields {
  version: number;
  chainId: string;
  height: number;
  parentHash: Uint8Array;
  /** Milliseconds since the Unix epoch, chosen by the proposer; strictly increasing. */
  timestamp: number;
  /** Address of the validator that proposed the block. */
  proposer: Uint8Array;
  txRoot: Uint8Array;
  receiptsRoot: Uint8Array;
  /** Merkle root of the events of the block's begin- and end-block hooks (chain/receipt.ts blockEventsRoot). */
  eventsRoot: Uint8Array;
  /** Root of the state after applying this block. */
  stateRoot: Uint8Array;
  /** Hash of the validator set that commits this block. */
  validatorsHash: Uint8Array;
  /**
   * Hash of the set that commits the next block (the set of a height is fixed two blocks before
   * it): a light client that trusts this block's certificate learns which set to trust next.
   */
  nextValidatorsHash: Uint8Array;
  /**
   * The commit certificate of the previous block that this block's proposer holds (CometBFT's
   * LastCommit; none for block 1): who signed is on chain, the same for every node, whichever
   * quorum each happened to assemble. Checked by every validator against the previous height's set.
   */
  lastCommit?: CommitCertificate;
}

/**
 * RLP: [version, chainId, height, parentHash, timestamp, proposer, txRoot, receiptsRoot,
 * eventsRoot, stateRoot, validatorsHash, nextValidatorsHash, lastCommit | []]. The commit certificate travels beside the header (in Block), so
 * the block hash is fixed before validators vote on it.
 */
export class BlockHeader implements HeaderFields {
  readonly version: number;
  readonly chainId: string;
  readonly height: number;
  readonly parentHash: Uint8Array;
  readonly timestamp: number;
  readonly proposer: Uint8Array;
  readonly txRoot: Uint8Array;
  readonly receiptsRoot: Uint8Array;
  readonly eventsRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
  readonly validatorsHash: Uint8Array;
  readonly nextValidatorsHash: Uint8Array;
  readonly lastCommit: CommitCertificate | undefined;
  private _bytes?: Uint8Array;
  private _hash?: Uint8Array;

  constructor(f: HeaderFields) {
    for (const [name, v] of [['parentHash', f.parentHash], ['txRoot', f.txRoot], ['receiptsRoot', f.receiptsRoot], ['eventsRoot', f.eventsRoot], ['stateRoot', f.stateRoot], ['validatorsHash', f.validatorsHash], ['nextValidatorsHash', f.nextValidatorsHash]] as const) {
      if (v.length !== HASH_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, `header.${name} must be ${HASH_LENGTH} bytes`);
    }
    if (f.proposer.length !== ADDRESS_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, `header.proposer must be ${ADDRESS_LENGTH} bytes`);
    if (!Number.isSafeInteger(f.height) || f.height < 0) throw new ChainError(ChainErrorCode.FieldValue, 'header.height must be a non-negative integer');
    if (!Number.isSafeInteger(f.timestamp) || f.timestamp < 0) throw new ChainError(ChainErrorCode.FieldValue, 'header.timestamp must be a non-negative integer');
    this.version = f.version;
    this.chainId = f.chainId;
    this.height = f.height;
    this.parentHash = f.parentHash;
    this.timestamp = f.timestamp;
    this.proposer = f.proposer;
    this.txRoot = f.txRoot;
    this.receiptsRoot = f.receiptsRoot;
    this.eventsRoot = f.eventsRoot;
    this.stateRoot = f.stateRoot;
    this.validatorsHash = f.validatorsHash;
    this.nextValidatorsHash = f.nextValidatorsHash;
    this.lastCommit = f.lastCommit;
    if (f.lastCommit && f.lastCommit.height !== f.height - 1) throw new ChainError(ChainErrorCode.FieldValue, `header.lastCommit is for height ${f.lastCommit.height}, not ${f.height - 1}`);
  }

  raw(): RlpInput[] {
    return [
      this.version,
      this.chainId,
      this.height,
      this.parentHash,
      this.timestamp,
      this.proposer,
      this.txRoot,
      this.receiptsRoot,
      this.eventsRoot,
      this.stateRoot,
      this.validatorsHash,
      this.nextValidatorsHash,
      this.lastCommit ? this.lastCommit.raw() : [],
    ];
  }

  serialize(): Uint8Array {
    return (this._bytes ??= rlpEncode(this.raw()));
  }

  hash(): Uint8Array {
    return (this._hash ??= taggedHash(HashTag.BlockHeader, this.serialize()));
  }
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  return headerFromRlp(rlpDecode(bytes, 'header'));
}

export function headerFromRlp(item: RlpItem): BlockHeader {
  const f = decodeList(item, 13, 'header');
  const version = asSafeUint(f[0], 'header.version');
  if (version !== HEADER_VERSION) throw new ChainError(ChainErrorCode.FieldValue, `unsupported header version ${version} (this build reads version ${HEADER_VERSION})`);
  return new BlockHeader({
    version,
    chainId: asString(f[1], 'header.chainId', 64),
    height: asSafeUint(f[2], 'header.height'),
    parentHash: asBytes(f[3], 'header.parentHash', HASH_LENGTH),
    timestamp: asSafeUint(f[4], 'header.timestamp'),
    proposer: asBytes(f[5], 'header.proposer', ADDRESS_LENGTH),
    txRoot: asBytes(f[6], 'header.txRoot', HASH_LENGTH),
    receiptsRoot: asBytes(f[7], 'header.receiptsRoot', HASH_LENGTH),
    eventsRoot: asBytes(f[8], 'header.eventsRoot', HASH_LENGTH),
    stateRoot: asBytes(f[9], 'header.stateRoot', HASH_LENGTH),
    validatorsHash: asBytes(f[10], 'header.validatorsHash', HASH_LENGTH),
    nextValidatorsHash: asBytes(f[11], 'header.nextValidatorsHash', HASH_LENGTH),
    lastCommit: lastCommitFromRlp(f[12]!),
  });
}

function lastCommitFromRlp(item: RlpItem): CommitCertificate | undefined {
  const list = asList(item, 'header.lastCommit') as RlpItem[];
  return list.length === 0 ? undefined : certificateFromRlp(list);
}
