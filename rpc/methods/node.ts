import { formatAddress, toHex } from '../../chain/index.js';
import type { MethodSpec } from '../method.js';

export const nodeMethods: MethodSpec[] = [
  {
    name: 'node_status',
    summary: 'What this node is: version, chain, head, sync state, whether it validates, peers and mempool size.',
    params: [],
    result: { name: 'status', description: 'node status', schema: { type: 'object' } },
    example: {
      params: [],
      result: { version: '0.1.0', chainId: 'metanode-devnet', head: { height: 42, hash: '0x…', timestamp: 1764086400000 }, syncing: false, validator: 'mn1…', peers: 0, mempool: { size: 0, bytes: 0 } },
    },
    handler: (b) => {
      const head = b.chain.head;
      const net = b.network();
      return {
        version: b.version,
        chainId: b.chain.chainId,
        head: { height: head.height, hash: toHex(head.hash()), timestamp: head.timestamp },
        syncing: net.syncing,
        validator: b.validatorAddress ? formatAddress(b.validatorAddress) : null,
        validators: b.chain.validatorSet(head.height + 1).size,
        peers: net.peers,
        mempool: { size: b.mempool.size, bytes: b.mempool.sizeBytes },
      };
    },
  },
  {
    name: 'node_health',
    summary: 'Answers {ok: true} when the node is healthy, or {ok: false, reason} (e.g. it cannot write blocks to disk), as GET /health does with 200 or 503.',
    params: [],
    result: { name: 'health', description: '{ok: true}, or {ok: false, reason: "…"}', schema: { type: 'object' } },
    example: { params: [], result: { ok: true } },
    handler: (b) => b.health(),
  },
];
