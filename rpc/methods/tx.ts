import { toHex } from '../../chain/index.js';
import { MempoolError } from '../../consensus/index.js';
import { RpcError, RpcErrorCode } from '../errors.js';
import type { MethodSpec } from '../method.js';
import { P } from '../params.js';

export const txMethods: MethodSpec[] = [
  {
    name: 'tx_send',
    summary: 'Submits a signed transaction (RLP bytes as hex) to the mempool. Returns its hash once admitted; poll chain_getReceipt for the outcome.',
    params: [P.bytes('raw', 'the signed transaction, RLP-encoded, as 0x-hex')],
    result: { name: 'result', description: '{hash}', schema: { type: 'object', properties: { hash: { type: 'string' } } } },
    group: 'write',
    audit: (calls) => ({ detail: { transactions: calls.length }, result: { accepted: calls.map((c) => (c.result as { hash: string }).hash) } }),
    errors: [{ code: RpcErrorCode.TxRejected, message: 'transaction rejected; error.data.reason says why (TX_BAD_SIGNATURE, TX_NONCE_TOO_LOW, …)' }],
    example: { params: ['0xf8…'], result: { hash: '0x5e0a9bd43b1c07cdb1f1e0c0e34f5a8b5b1d7b3c9a2f0e1d2c3b4a5968778695' } },
    handler: async (b, [raw]) => {
      try {
        const tx = await b.submitTransaction(raw as Uint8Array);
        return { hash: toHex(tx.hash()) };
      } catch (e) {
        if (e instanceof MempoolError) throw rejected(e);
        throw e;
      }
    },
    batchHandler: async (b, argsList) => {
      const results = await b.submitTransactions(argsList.map(([raw]) => raw as Uint8Array));
      return results.map((r) => (r instanceof MempoolError ? { error: rejected(r) } : { result: { hash: toHex(r.hash()) } }));
    },
  },
];

function rejected(e: MempoolError): RpcError {
  return new RpcError(RpcErrorCode.TxRejected, `transaction rejected: ${e.message}`, { reason: e.reason, ...serialisable(e.context) });
}

function serialisable(ctx: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(ctx).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
}
