import { merkleProof, toHex } from '../../chain/index.js';
import type { RpcBackend } from '../backend.js';
import type { MethodSpec } from '../method.js';
import { P } from '../params.js';

/**
 * What a light client needs to check a node instead of trusting it (client/light.ts): the header
 * and its commit certificate as the bytes that were hashed and signed, with the validator set
 * that signed them; and a transaction's and its receipt's Merkle proofs against a header's roots.
 * Bytes, not JSON: a verifier recomputes every hash from them.
 */

const H = '0x5e0a9bd43b1c07cdb1f1e0c0e34f5a8b5b1d7b3c9a2f0e1d2c3b4a5968778695';

const hex = { type: 'string', pattern: '^0x[0-9a-f]*$' };
const merkleProofSchema = {
  type: 'object',
  required: ['index', 'total', 'siblings'],
  properties: { index: { type: 'integer', minimum: 0 }, total: { type: 'integer', minimum: 1 }, siblings: { type: 'array', items: hex } },
};

async function lightBlock(b: RpcBackend, height: number) {
  if (height > b.chain.height) return null;
  const [header, certificate] = await Promise.all([b.chain.blocks.header(height), b.chain.blocks.certificate(height)]);
  if (!header) return null;
  return {
    height,
    hash: toHex(header.hash()),
    header: toHex(header.serialize()),
    certificate: certificate ? toHex(certificate.serialize()) : null,
    validators: toHex(b.chain.validatorSet(height).serialize()),
  };
}

async function transactionProof(b: RpcBackend, hash: Uint8Array) {
  const loc = await b.chain.blocks.txLocation(hash);
  if (!loc) return null;
  const [header, txs, receipts] = await Promise.all([b.chain.blocks.header(loc.height), b.chain.blocks.transactions(loc.height), b.chain.blocks.receipts(loc.height)]);
  if (!header || !txs || !receipts) return null;
  const json = (p: { index: number; total: number; siblings: Uint8Array[] }) => ({ index: p.index, total: p.total, siblings: p.siblings.map(toHex) });
  return {
    blockHeight: loc.height,
    blockHash: toHex(header.hash()),
    index: loc.index,
    transaction: toHex(txs[loc.index]!.serialize()),
    receipt: toHex(receipts[loc.index]!.serialize()),
    // header.txRoot is over the transactions' hashes, header.receiptsRoot over the receipts' encodings.
    txProof: json(merkleProof(txs.map((t) => t.hash()), loc.index)),
    receiptProof: json(merkleProof(receipts.map((r) => r.serialize()), loc.index)),
  };
}

export const lightMethods: MethodSpec[] = [
  {
    name: 'chain_getLightBlock',
    summary:
      'What a light client verifies a block with: the header and its commit certificate as RLP bytes (hash the header, check the certificate against the set), and the validator set of that height as RLP bytes (its hash is the header\'s validatorsHash). certificate is null for genesis; null above the head.',
    params: [P.height('height', 'block height or "latest"')],
    result: {
      name: 'lightBlock',
      description: '{height, hash, header, certificate, validators}, or null',
      schema: {
        type: ['object', 'null'],
        required: ['height', 'hash', 'header', 'certificate', 'validators'],
        properties: { height: { type: 'integer', minimum: 0 }, hash: hex, header: hex, certificate: { oneOf: [hex, { type: 'null' }] }, validators: hex },
      },
    },
    example: { params: [7], result: { height: 7, hash: H, header: '0xf9…', certificate: '0xf8…', validators: '0xf8…' } },
    cost: () => 2,
    handler: (b, [height]) => lightBlock(b, height === 'latest' ? b.chain.height : (height as number)),
  },
  {
    name: 'chain_getTransactionProof',
    summary:
      "A committed transaction and its receipt as RLP bytes, with Merkle proofs (chain/merkle.ts) that the transaction's hash is in its block's txRoot and the receipt's encoding in its receiptsRoot; null if not committed.",
    params: [P.hash('hash', 'transaction hash')],
    result: {
      name: 'proof',
      description: '{blockHeight, blockHash, index, transaction, receipt, txProof, receiptProof}, or null',
      schema: {
        type: ['object', 'null'],
        required: ['blockHeight', 'blockHash', 'index', 'transaction', 'receipt', 'txProof', 'receiptProof'],
        properties: { blockHeight: { type: 'integer', minimum: 0 }, blockHash: hex, index: { type: 'integer', minimum: 0 }, transaction: hex, receipt: hex, txProof: merkleProofSchema, receiptProof: merkleProofSchema },
      },
    },
    example: { params: [H], result: { blockHeight: 3, blockHash: H, index: 0, transaction: '0xf8…', receipt: '0xf8…', txProof: { index: 0, total: 1, siblings: [] }, receiptProof: { index: 0, total: 1, siblings: [] } } },
    // The block's transactions and receipts are read whole: as dear as the block with its transactions.
    cost: async (b, [hash]) => {
      const loc = await b.chain.blocks.txLocation(hash as Uint8Array);
      const count = loc ? ((await b.chain.blocks.transactionCount(loc.height)) ?? 0) : 0;
      return 2 + Math.ceil((count * 300) / 1024);
    },
    handler: (b, [hash]) => transactionProof(b, hash as Uint8Array),
  },
];
