import { decodeTransaction, toHex } from '../../chain/index.js';
import { MempoolError, RejectReason } from '../../consensus/index.js';
import { VmError, type InvalidTxFault } from '../../vm/index.js';
import type { RpcBackend } from '../backend.js';
import { receiptToJson } from '../format.js';
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
  {
    name: 'tx_simulate',
    summary:
      "A dry run: executes a transaction (RLP bytes as hex) on the head's state as the next block would deliver it, commits nothing, and answers the receipt it would get (status, errorCode, fee, events). A signature of 64 zero bytes simulates it unsigned; a nonce ahead of the account's is accepted (pending transactions would come first); begin- and end-block hooks do not run. Where no block could hold it (wrong chain, bad signature, nonce behind the account's, fee it cannot pay), -32001 with data.reason.",
    params: [P.bytes('raw', 'the transaction, RLP-encoded, as 0x-hex (signed, or with a signature of 64 zero bytes)')],
    result: {
      name: 'simulation',
      description: '{height (the head it ran on), signatureChecked, receipt: {txHash, status, errorCode, errorMessage, fee, events}}',
      schema: { type: 'object', required: ['height', 'signatureChecked', 'receipt'], properties: { height: { type: 'integer' }, signatureChecked: { type: 'boolean' }, receipt: { type: 'object' } } },
    },
    errors: [{ code: RpcErrorCode.TxRejected, message: 'no block could hold the transaction; error.data.reason says why (TX_WRONG_CHAIN, TX_BAD_SIGNATURE, TX_NONCE_TOO_LOW, TX_INSUFFICIENT_FEE_FUNDS, TX_MALFORMED, TX_TOO_LARGE)' }],
    example: {
      params: ['0xf8…'],
      result: { height: 42, signatureChecked: true, receipt: { txHash: '0x…', status: 'success', errorCode: null, errorMessage: null, fee: '1000', events: [{ module: 'bank', type: 'transfer', attributes: { from: 'mn1…', to: 'mn1…', asset: 'NEX', amount: '5' } }] } },
    },
    // A run of the module, as dear as what it may do: its bytes (a deploy compiles them) and,
    // for a DockLock run, the fuel it asks for (10 M fuel, the default cap, costs ~110 units).
    cost: (b, [raw]) => simulationCost(b, raw as Uint8Array),
    handler: (b, [raw]) => simulate(b, raw as Uint8Array),
  },
];

/** The fuel a transaction asks for, as its module describes the payload (a DockLock run's `fuel`), and its size. */
function simulationCost(b: RpcBackend, raw: Uint8Array): number {
  let fuel = 0;
  try {
    const tx = decodeTransaction(raw);
    const route = b.chain.stateMachine.registry.route(tx.kind);
    const f = Number(route?.module.describePayload?.(route.method, tx.payload)?.fuel ?? 0);
    if (Number.isSafeInteger(f) && f > 0) fuel = f;
  } catch {
    // Malformed: refused by the handler, at the base cost.
  }
  return 10 + Math.ceil(raw.length / 256) + Math.ceil(fuel / 100_000);
}

/** A signature of 64 zero bytes: the transaction is simulated unsigned. */
const isUnsigned = (signature: Uint8Array): boolean => signature.every((b) => b === 0);

/** Where a block could not hold the transaction, the mempool's reason for the same fault. */
function simulationRefused(e: VmError): RpcError {
  const c = e.context as { fault?: InvalidTxFault; why?: string };
  const reason = { chain: RejectReason.WrongChain, signature: RejectReason.BadSignature, nonce: RejectReason.NonceTooLow, fee: RejectReason.InsufficientFeeFunds }[c.fault ?? 'fee'];
  return new RpcError(RpcErrorCode.TxRejected, `the transaction cannot execute: it ${c.why ?? e.message}`, { reason });
}

function simulate(b: RpcBackend, raw: Uint8Array) {
  let tx;
  try {
    tx = b.mempool.decode(raw);
  } catch (e) {
    if (e instanceof MempoolError) throw rejected(e);
    throw e;
  }
  const head = b.chain.head;
  const unsigned = isUnsigned(tx.signature);
  const block = { chainId: b.chain.chainId, height: head.height + 1, timestamp: Math.max(head.timestamp + 1, Date.now()), proposer: b.validatorAddress ?? head.proposer };
  try {
    const receipt = b.chain.stateMachine.simulate(b.chain.state, block, tx, { verifySignature: !unsigned });
    const { blockHeight: _h, blockHash: _b, index: _i, ...rest } = receiptToJson(receipt, { blockHeight: 0, blockHash: '', index: 0 });
    return { height: head.height, signatureChecked: !unsigned, receipt: rest };
  } catch (e) {
    if (e instanceof VmError) throw simulationRefused(e);
    throw e;
  }
}

function rejected(e: MempoolError): RpcError {
  return new RpcError(RpcErrorCode.TxRejected, `transaction rejected: ${e.message}`, { reason: e.reason, ...serialisable(e.context) });
}

function serialisable(ctx: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(ctx).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
}
