import { resultJsonSchema } from '../client/schemas.js';
import { RpcErrorCode } from './errors.js';
import type { MethodSpec } from './method.js';

const commonErrors = [
  { code: RpcErrorCode.InvalidParams, message: 'invalid params: the message names the parameter and what it must be' },
  { code: RpcErrorCode.InternalError, message: 'internal error' },
];

/** The OpenRPC document, generated from the same specs the server dispatches on. */
export function openRpcDocument(methods: readonly MethodSpec[], version: string): Record<string, unknown> {
  return {
    openrpc: '1.2.6',
    info: {
      title: 'Metanode JSON-RPC',
      version,
      description:
        'Conventions: bytes and hashes are 0x-hex; addresses are bech32m "mn1…"; amounts and fees are decimal strings of base units; heights, indices, nonces and timestamps (ms) are JSON numbers. Unknown things are null. ' +
        'Transports: HTTP POST / and WebSocket on the same address (ws://host:port/), with the same methods; over WebSocket, subscribe/unsubscribe add notifications ' +
        '{"jsonrpc":"2.0","method":"subscription","params":{"subscription":id,"result":…}}. Lists (chain_getBlocks, chain_getAccountTransactions) are newest first, paged by passing `next` back as `before`.',
    },
    methods: methods.map((m) => ({
      name: m.name,
      summary: m.summary,
      paramStructure: 'either',
      params: m.params.map((p) => ({ name: p.name, required: p.required, description: p.description, schema: p.schema })),
      // The result's JSON Schema comes from the schemas the client library checks answers with (client/schemas.ts).
      result: { ...m.result, schema: resultJsonSchema(m.name) ?? m.result.schema },
      errors: [...(m.errors ?? []), ...commonErrors],
      examples: [
        {
          name: `${m.name} example`,
          params: m.example.params.map((value, i) => ({ name: m.params[i]?.name ?? `param${i}`, value })),
          result: { name: m.result.name, value: m.example.result },
        },
      ],
    })),
  };
}
