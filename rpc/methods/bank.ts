import type { MethodSpec } from '../method.js';

function query(path: string): MethodSpec['handler'] {
  return (b) => b.chain.stateMachine.registry.require('bank').query({ state: b.chain.state, height: b.chain.height }, path, undefined);
}

export const bankMethods: MethodSpec[] = [
  {
    name: 'bank_getAssets',
    summary: 'The four assets: symbol, decimals and total supply (base units).',
    params: [],
    result: { name: 'assets', description: 'GEN, NEX, FLX, AUR', schema: { type: 'array' } },
    example: { params: [], result: [{ symbol: 'NEX', decimals: 6, supply: '1000000000000' }] },
    handler: query('assets'),
  },
  {
    name: 'bank_getParams',
    summary: 'Bank parameters: the minimum transaction fee and the asset fees are paid in.',
    params: [],
    result: { name: 'params', description: 'minFee (base units) and feeAsset', schema: { type: 'object' } },
    example: { params: [], result: { minFee: '1000', feeAsset: 'NEX' } },
    handler: query('params'),
  },
];
