import { toHex } from '../../chain/index.js';
import { VmError } from '../../vm/index.js';
import { invalidParams, RpcError, RpcErrorCode } from '../errors.js';
import type { MethodSpec } from '../method.js';
import { P } from '../params.js';

const USAGE = ['cpu', 'memory', 'storage', 'egress', 'receipts'] as const;

/** The ENC module's query, at the head; a query error is the caller's (invalid params). */
function encQuery(b: Parameters<MethodSpec['handler']>[0], path: string, params: Record<string, unknown>): unknown {
  const m = b.chain.stateMachine.registry.get('enc');
  if (!m) throw new RpcError(RpcErrorCode.MethodNotFound, 'this chain has no ENC module');
  try {
    return m.query({ state: b.chain.state, height: b.chain.height }, path, params);
  } catch (e) {
    if (e instanceof VmError) throw new RpcError(RpcErrorCode.InvalidParams, `invalid params: ${e.message}`);
    throw e;
  }
}

export const encMethods: MethodSpec[] = [
  {
    name: 'enc_estimateReward',
    summary:
      'The proof-of-execution reward the chain mints for a usage u = (cpu kilo-fuel, memory KiB, storage KiB, egress KiB, receipts = witness entries): Φ = Σ wᵢ·uᵢ/sᵢ, Γ = Φ/(1+Φ), reward = K·A·Γ NEX, in fixed point (18 decimals, each step rounded down) with the chain’s parameters at the head.',
    params: [
      {
        name: 'usage',
        required: true,
        description: 'the five usage figures: numbers or decimal strings with at most 6 decimals (absent: 0)',
        schema: { type: 'object', properties: Object.fromEntries(USAGE.map((n) => [n, { oneOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: '^[0-9]+(\\.[0-9]{1,6})?$' }] }])), additionalProperties: false },
        parse: (v: unknown) => {
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParams('usage', 'must be an object {cpu, memory, storage, egress, receipts}');
          const out: Record<string, string> = {};
          for (const [k, x] of Object.entries(v)) {
            if (!(USAGE as readonly string[]).includes(k)) throw invalidParams(`usage.${k.slice(0, 32)}`, `is not a usage figure (they are ${USAGE.join(', ')})`);
            if (typeof x === 'number' && Number.isFinite(x) && x >= 0) out[k] = String(x);
            else if (typeof x === 'string') out[k] = x;
            else throw invalidParams(`usage.${k}`, 'must be a non-negative number or decimal string');
          }
          return out;
        },
      },
    ],
    result: { name: 'reward', description: 'usage (as read), phi and gamma (18 decimals), reward (NEX base units), rewardNex, and the weights, scales, K and A used', schema: { type: 'object', properties: { phi: { type: 'string' }, gamma: { type: 'string' }, reward: { type: 'string' }, rewardNex: { type: 'string' } }, required: ['phi', 'gamma', 'reward'] } },
    example: { params: [{ cpu: 1000, memory: 1000, storage: 1, egress: 10, receipts: 100 }], result: { phi: '1.000000000000000000', gamma: '0.500000000000000000', reward: '500000000', rewardNex: '500.000000' } },
    handler: (b, [usage]) => encQuery(b, 'reward', usage as Record<string, string>),
  },
  {
    name: 'enc_explainPlacement',
    summary: "Why a job was placed where it was: each placement round's eligible candidates, their integer scores and tie-break hashes, and the nodes chosen; with the rule, and the scores of the registry now.",
    params: [P.hash('job', 'the job id: the enc.submit transaction’s hash')],
    result: { name: 'placement', description: 'job, rule, rounds [{height, candidates, ranked [{node, score, tiebreak}], chosen}], now', schema: { type: 'object', properties: { rounds: { type: 'array' } }, required: ['job', 'rule', 'rounds'] } },
    example: { params: ['0x…'], result: { job: '0x…', rule: '…', rounds: [{ height: 12, candidates: 3, ranked: [{ node: 'mn1…', score: '9000000', tiebreak: '0x…' }], chosen: ['mn1…'] }] } },
    handler: (b, [job]) => encQuery(b, 'placement', { job: toHex(job as Uint8Array) }),
  },
];
