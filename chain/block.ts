import { certificateFromRlp, type CommitCertificate } from './certificate.js';
import { ChainError, ChainErrorCode } from './errors.js';
import { headerFromRlp, type BlockHeader } from './header.js';
import { merkleRoot } from './merkle.js';
import { asBytes, asList, decodeList, rlpDecode, rlpEncode, type RlpItem } from './rlp.js';
import { decodeTransaction, transactionHash, type Transaction } from './transaction.js';
import { toKey } from './bytes.js';

/** A block: header, transactions, and (once committed) the certificate. RLP: [header, [tx...], cert | []]. */
export class Block {
  readonly header: BlockHeader;
  readonly transactions: readonly Transaction[];
  readonly certificate: CommitCertificate | undefined;
  private _bytes?: Uint8Array;

  /** `bytes`: the block's canonical encoding, when the caller has it (decodeBlock). */
  constructor(header: BlockHeader, transactions: readonly Transaction[], certificate?: CommitCertificate, bytes?: Uint8Array) {
    this.header = header;
    this.transactions = transactions;
    this.certificate = certificate;
    this._bytes = bytes;
  }

  get height(): number {
    return this.header.height;
  }

  hash(): Uint8Array {
    return this.header.hash();
  }

  withCertificate(cert: CommitCertificate): Block {
    return new Block(this.header, this.transactions, cert);
  }

  serialize(): Uint8Array {
    return (this._bytes ??= rlpEncode([this.header.raw(), this.transactions.map((t) => t.serialize()), this.certificate ? this.certificate.raw() : []]));
  }
}

/** Root of a list of transactions: the Merkle root of their hashes. */
export function txRoot(txs: readonly Transaction[]): Uint8Array {
  return merkleRoot(txs.map((t) => t.hash()));
}

/**
 * `known`: transactions this node already holds, by hash key (Transaction.key). A transaction of
 * the block with the same hash — and so the same bytes — is taken from there instead of being
 * decoded again: validators receive most of a proposal's transactions before the proposal.
 */
export function decodeBlock(bytes: Uint8Array, known?: (hashKey: string) => Transaction | undefined): Block {
  const f = decodeList(rlpDecode(bytes, 'block'), 3, 'block');
  const header = headerFromRlp(f[0]!);
  const txs = asList(f[1], 'block.transactions').map((t, i) => {
    const raw = asBytes(t, `block.transactions[${i}]`);
    if (!known) return decodeTransaction(raw);
    const hash = transactionHash(raw);
    return known(toKey(hash)) ?? decodeTransaction(raw, hash);
  });
  const certItem = asList(f[2], 'block.certificate') as RlpItem[];
  const cert = certItem.length === 0 ? undefined : certificateFromRlp(certItem);
  const block = new Block(header, txs, cert, bytes);
  if (Buffer.compare(txRoot(txs), header.txRoot) !== 0) {
    throw new ChainError(ChainErrorCode.FieldValue, `block ${header.height}: transactions do not match header.txRoot`, { height: header.height });
  }
  if (cert && (cert.height !== header.height || Buffer.compare(cert.blockHash, header.hash()) !== 0)) {
    throw new ChainError(ChainErrorCode.FieldValue, `block ${header.height}: certificate is for another block`, { height: header.height });
  }
  return block;
}
