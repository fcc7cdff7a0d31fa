import {
  formatAddress,
  formatAmount,
  toHex,
  type Block,
  type BlockHeader,
  type CommitCertificate,
  type Event,
  type Receipt,
  type Transaction,
  type ValidatorSet,
} from '../chain/index.js';
import type { ModuleRegistry } from '../vm/index.js';

/** Chain objects as JSON, following the conventions in chain/json.ts. */

export function headerToJson(h: BlockHeader) {
  return {
    hash: toHex(h.hash()),
    version: h.version,
    chainId: h.chainId,
    height: h.height,
    parentHash: toHex(h.parentHash),
    timestamp: h.timestamp,
    proposer: formatAddress(h.proposer),
    txRoot: toHex(h.txRoot),
    receiptsRoot: toHex(h.receiptsRoot),
    eventsRoot: toHex(h.eventsRoot),
    stateRoot: toHex(h.stateRoot),
    validatorsHash: toHex(h.validatorsHash),
    nextValidatorsHash: toHex(h.nextValidatorsHash),
    /** The previous block's certificate this block carries: who signed it (signer indices into that height's set). */
    lastCommit: h.lastCommit ? certificateToJson(h.lastCommit) : null,
  };
}

export function certificateToJson(c: CommitCertificate) {
  return { height: c.height, round: c.round, blockHash: toHex(c.blockHash), signers: c.signerIndices(), signersBitmap: toHex(c.signers), signature: toHex(c.signature) };
}

export interface TxLocationJson {
  blockHeight: number;
  blockHash: string;
  index: number;
}

export function txToJson(tx: Transaction, registry: ModuleRegistry, loc?: TxLocationJson) {
  const route = registry.route(tx.kind);
  return {
    hash: toHex(tx.hash()),
    chainId: tx.chainId,
    nonce: Number(tx.nonce),
    from: formatAddress(tx.from()),
    senderPublicKey: toHex(tx.sender),
    fee: formatAmount(tx.fee),
    kind: tx.kind,
    payload: toHex(tx.payload),
    args: route?.module.describePayload?.(route.method, tx.payload) ?? null,
    signature: toHex(tx.signature),
    size: tx.serialize().length,
    ...(loc ?? {}),
  };
}

export function receiptToJson(r: Receipt, loc: TxLocationJson) {
  return {
    txHash: toHex(r.txHash),
    ...loc,
    status: r.ok ? 'success' : 'failed',
    errorCode: r.errorCode || null,
    errorMessage: r.errorMessage || null,
    fee: formatAmount(r.fee),
    events: eventsToJson(r.events),
  };
}

export function blockToJson(b: Block, full: boolean, registry: ModuleRegistry) {
  const hash = toHex(b.hash());
  return {
    ...headerToJson(b.header),
    transactionCount: b.transactions.length,
    transactions: full
      ? b.transactions.map((t, index) => txToJson(t, registry, { blockHeight: b.height, blockHash: hash, index }))
      : b.transactions.map((t) => toHex(t.hash())),
    certificate: b.certificate ? certificateToJson(b.certificate) : null,
  };
}

export function validatorSetToJson(height: number, v: ValidatorSet) {
  return {
    height,
    hash: toHex(v.hash()),
    /** Voting power a certificate needs (⌈2T/3⌉ of the total), decimal like each validator's power. */
    quorum: v.quorumPower.toString(),
    totalPower: v.totalPower.toString(),
    validators: v.validators.map((x) => ({
      address: formatAddress(x.address),
      publicKey: toHex(x.publicKey),
      blsPublicKey: toHex(x.blsPublicKey),
      power: x.power.toString(),
    })),
  };
}

/** Events as JSON: attributes as an object (keys are unique within an event). */
export function eventsToJson(events: readonly Event[]): { module: string; type: string; attributes: Record<string, string> }[] {
  return events.map((e) => ({ module: e.module, type: e.type, attributes: Object.fromEntries(e.attributes) }));
}

/** A block's begin/end-block events (chain_getBlockEvents, the blockEvents subscription). */
export const blockEventsToJson = eventsToJson;
