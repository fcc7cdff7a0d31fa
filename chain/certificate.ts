import { BLS_SIGNATURE_LENGTH, blsAggregateSignatures, blsFastAggregateVerify } from './bls.js';
import { equalBytes } from './bytes.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { HASH_LENGTH, HashTag, taggedHash } from './hash.js';
import { asBytes, asSafeUint, decodeList, rlpDecode, rlpEncode, uintBytes, type RlpItem } from './rlp.js';
import type { ValidatorSet } from './validators.js';

/** What a validator's BLS COMMIT signature covers. */
export function commitVoteMessage(chainId: string, height: number, round: number, blockHash: Uint8Array): Uint8Array {
  return taggedHash(HashTag.CommitVote, rlpEncode([chainId, height, round, blockHash]));
}

export interface CommitCertificateFields {
  height: number;
  round: number;
  blockHash: Uint8Array;
  /** Bit i (LSB-first within each byte) set when validator i of the set signed. */
  signers: Uint8Array;
  /** BLS aggregate of the signers' COMMIT signatures. */
  signature: Uint8Array;
}

/** Proof that a quorum of the validator set committed a block. RLP: [height, round, blockHash, signers, signature]. */
export class CommitCertificate implements CommitCertificateFields {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signers: Uint8Array;
  readonly signature: Uint8Array;

  constructor(f: CommitCertificateFields) {
    if (f.blockHash.length !== HASH_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, 'certificate.blockHash must be 32 bytes');
    if (f.signature.length !== BLS_SIGNATURE_LENGTH) throw new ChainError(ChainErrorCode.FieldLength, `certificate.signature must be ${BLS_SIGNATURE_LENGTH} bytes`);
    this.height = f.height;
    this.round = f.round;
    this.blockHash = f.blockHash;
    this.signers = f.signers;
    this.signature = f.signature;
  }

  static aggregate(height: number, round: number, blockHash: Uint8Array, setSize: number, votes: { index: number; signature: Uint8Array }[]): CommitCertificate {
    const signers = new Uint8Array(Math.ceil(setSize / 8));
    for (const v of votes) signers[v.index >> 3]! |= 1 << (v.index & 7);
    return new CommitCertificate({ height, round, blockHash, signers, signature: blsAggregateSignatures(votes.map((v) => v.signature)) });
  }

  signerIndices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.signers.length * 8; i++) if (this.signers[i >> 3]! & (1 << (i & 7))) out.push(i);
    return out;
  }

  raw(): RlpItem[] {
    return [uintBytes(this.height), uintBytes(this.round), this.blockHash, this.signers, this.signature];
  }

  serialize(): Uint8Array {
    return rlpEncode(this.raw());
  }

  /**
   * Throws unless this certifies `blockHash` at `height` with a quorum of `validators`.
   * Needs nothing but the validator set: a light client can run it.
   */
  verify(chainId: string, validators: ValidatorSet, height: number, blockHash: Uint8Array): void {
    const fail = (msg: string): never => {
      throw new ChainError(ChainErrorCode.InvalidCertificate, `commit certificate for height ${height}: ${msg}`, { height });
    };
    if (this.height !== height) fail(`is for height ${this.height}`);
    if (!equalBytes(this.blockHash, blockHash)) fail('is for another block');
    if (this.signers.length !== Math.ceil(validators.size / 8)) fail('signer bitmap has the wrong length');
    const idx = this.signerIndices();
    if (idx.some((i) => i >= validators.size)) fail('signer bitmap names a validator outside the set');
    const power = idx.reduce((n, i) => n + validators.validators[i]!.power, 0n);
    if (power < validators.quorumPower) fail(`has ${idx.length} signers with power ${power}, quorum is ${validators.quorumPower} of ${validators.totalPower}`);
    const keys = idx.map((i) => validators.validators[i]!.blsPublicKey);
    if (!blsFastAggregateVerify(commitVoteMessage(chainId, height, this.round, blockHash), keys, this.signature)) {
      fail('aggregate signature does not verify');
    }
  }
}

export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  return certificateFromRlp(rlpDecode(bytes, 'certificate'));
}

export function certificateFromRlp(item: RlpItem): CommitCertificate {
  const f = decodeList(item, 5, 'certificate');
  return new CommitCertificate({
    height: asSafeUint(f[0], 'certificate.height'),
    round: asSafeUint(f[1], 'certificate.round'),
    blockHash: asBytes(f[2], 'certificate.blockHash', HASH_LENGTH),
    signers: asBytes(f[3], 'certificate.signers'),
    signature: asBytes(f[4], 'certificate.signature', BLS_SIGNATURE_LENGTH),
  });
}
