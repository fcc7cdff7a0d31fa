import { RpcError, RpcErrorCode } from '../errors.js';
import type { MethodSpec } from '../method.js';
import { P } from '../params.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{46,60}$/;

/** What the admin methods operate on: the node composes it. */
export interface AdminBackend {
  /** This node: peer id, listen and announced addresses, version, chain, validator, what it serves. */
  nodeInfo(): Record<string, unknown>;
  /** Connected peers with what the node knows of each. */
  peers(): Record<string, unknown>[];
  /** Dials `multiaddr` (…/p2p/<peer id>) and keeps it connected; the peer is admitted though not on the allowlist. */
  addPeer(multiaddr: string): Promise<{ peerId: string; connected: boolean }>;
  /** Hangs up on the peer and stops redialling it; false if it was neither connected nor kept. */
  removePeer(peerId: string): Promise<boolean>;
  logLevel(): string;
  setLogLevel(level: LogLevel): void;
}

function admin(b: { admin?: AdminBackend }): AdminBackend {
  if (!b.admin) throw new RpcError(RpcErrorCode.MethodNotFound, 'admin methods are not available on this node');
  return b.admin;
}

/** Operators' methods: authenticated (or loopback-only without authentication), audited. */
export const adminMethods: MethodSpec[] = [
  {
    name: 'admin_nodeInfo',
    group: 'admin',
    summary: 'Admin. This node: peer id, p2p addresses, version, chain id, validator address, log level.',
    params: [],
    result: { name: 'info', description: 'node information', schema: { type: 'object' } },
    example: { params: [], result: { peerId: '12D3KooW…', addresses: ['/ip4/127.0.0.1/tcp/26656/p2p/12D3KooW…'], version: '0.1.0', chainId: 'metanode-devnet', validator: 'mn1…', height: 42, logLevel: 'info' } },
    handler: (b) => admin(b).nodeInfo(),
    audit: () => ({}),
  },
  {
    name: 'admin_peers',
    group: 'admin',
    summary: 'Admin. Connected peers: peer id, addresses, direction, gossip score, reported height, and why each is admitted.',
    params: [],
    result: { name: 'peers', description: 'connected peers', schema: { type: 'array' } },
    example: { params: [], result: [{ id: '12D3KooW…', addresses: ['/ip4/127.0.0.1/tcp/26657'], direction: 'outbound', score: 0, height: 42, validator: true, allowlisted: false, bootstrap: true, added: false }] },
    handler: (b) => admin(b).peers(),
    audit: (calls) => ({ result: { peers: (calls[0]?.result as unknown[] | undefined)?.length ?? 0 } }),
  },
  {
    name: 'admin_addPeer',
    group: 'admin',
    summary: 'Admin. Dials a peer by multiaddr (ending in /p2p/<peer id>) and keeps it connected, redialling with backoff; the peer is admitted even on a permissioned network.',
    params: [P.text('multiaddr', 'the peer, e.g. /ip4/10.0.0.5/tcp/26656/p2p/12D3KooW…', { pattern: /^\/.+\/p2p\/[1-9A-HJ-NP-Za-km-z]{46,60}$/, maxLength: 512, what: 'a multiaddr ending in /p2p/<peer id>' })],
    result: { name: 'added', description: '{peerId, connected}', schema: { type: 'object' } },
    example: { params: ['/ip4/10.0.0.5/tcp/26656/p2p/12D3KooW…'], result: { peerId: '12D3KooW…', connected: true } },
    handler: (b, [addr]) => admin(b).addPeer(addr as string),
    audit: (calls) => ({ detail: calls.map((c) => c.args[0]), result: calls.map((c) => c.result) }),
  },
  {
    name: 'admin_removePeer',
    group: 'admin',
    summary: 'Admin. Hangs up on a peer and stops redialling it (it may connect again if it is admitted); false if it was neither connected nor kept.',
    params: [P.text('peerId', 'the peer id', { pattern: PEER_ID, maxLength: 60, what: 'a libp2p peer id (12D3KooW…)' })],
    result: { name: 'removed', description: 'whether the peer was connected or kept', schema: { type: 'boolean' } },
    example: { params: ['12D3KooW…'], result: true },
    handler: (b, [id]) => admin(b).removePeer(id as string),
    audit: (calls) => ({ detail: calls.map((c) => c.args[0]), result: calls.map((c) => c.result) }),
  },
  {
    name: 'admin_setLogLevel',
    group: 'admin',
    summary: 'Admin. Changes the log level of the running node (until it restarts); returns the previous level.',
    params: [P.oneOf('level', 'trace, debug, info, warn, error, fatal or silent', LOG_LEVELS)],
    result: { name: 'previous', description: 'the level before', schema: { type: 'string' } },
    example: { params: ['debug'], result: 'info' },
    handler: (b, [level]) => {
      const a = admin(b);
      const previous = a.logLevel();
      a.setLogLevel(level as LogLevel);
      return previous;
    },
    audit: (calls) => ({ detail: calls.map((c) => c.args[0]), result: calls.map((c) => c.result) }),
  },
];
