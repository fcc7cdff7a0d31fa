/** metanode-cli enc … (execution nodes) and job … (clients): vm/cli.ts describes the shape. */
import { BlockHeader, CommitCertificate, ValidatorSet, formatAddress, fromHex, parseAddress, toHex, verifyMerkleProof, verifyVersionedStateProof, versionedProofFromJson } from '../../../chain/index.js';
import { DocklockError, LIMITS, decodeReceipt, loadProgram, outputHash, programId, verifyReceipt } from '../../../docklock/index.js';
import type { CliEnv, CliTx, ModuleCli } from '../../cli.js';
import { encodeDeploy } from '../docklock/codec.js';
import { encodeChallenge, encodeEmpty, encodeNodeTx, encodeSubmit } from './codec.js';
import { decodeHashes, decodeStoredReceipt } from './records.js';
import { USAGE_NAMES } from './reward.js';

function uint(text: string | undefined, what: string, env: CliEnv, min = 0): number {
  if (!text || !/^[0-9]{1,15}$/.test(text) || Number(text) < min) throw env.usage(`${what} must be an integer of at least ${min}, not "${text ?? ''}"`);
  return Number(text);
}
function baseUnits(text: string | undefined, what: string, env: CliEnv): bigint {
  if (!text || !/^(0|[1-9][0-9]{0,29})$/.test(text)) throw env.usage(`${what} must be a whole number of NEX base units, not "${text ?? ''}"`);
  return BigInt(text);
}
function jobId(text: string, env: CliEnv): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw env.usage(`the job id must be 0x and 64 hex digits (the submit transaction's hash), not "${text.slice(0, 80)}"`);
  return text.toLowerCase();
}

interface NodeJson {
  address: string;
  status: string;
  slots: number;
  slotsUsed: number;
  memoryKiB: number;
  memoryUsed: number;
  price: string;
  bond: string;
  reserve: string;
  done: number;
  missed: number;
  lied: number;
  slashed: string;
  jailedUntil: number;
  unbondAt: number;
}
interface JobJson {
  id: string;
  state: string;
  client: string;
  program: string;
  fuel: number;
  maxPrice: string;
  replicas: number;
  deadline: number;
  escrow: string;
  refunded: string;
  assignments: { node: string; state: string; price: string; leaseUntil: number; receipt: string | null; fuelUsed: number; paid: string; reward: string }[];
  disputes: { outcome: string; challenger: string | null; actual: string | null; verdicts: { node: string; lied: boolean; field: string | null; slashedGen: string }[] }[];
  settleAt: number;
  settledAt: number;
  input?: string;
}
interface ReceiptQueryJson {
  height: number;
  receipt: { bytes: string; hash: string; status: string; trap: string; fuelUsed: number; outputHash: string };
  output: string;
  stateKey: string;
  logBlock: { root: string; index: number; leaves: number; siblings: string[]; stateKey: string } | null;
}

const nodeText = (n: NodeJson) =>
  [
    `node      ${n.address}`,
    `status    ${n.status}${n.status === 'jailed' ? ` (until ${n.jailedUntil})` : n.status === 'unbonding' ? ` (until ${n.unbondAt})` : ''}`,
    `slots     ${n.slotsUsed} of ${n.slots} in use`,
    `memory    ${n.memoryUsed} of ${n.memoryKiB} KiB in use`,
    `price     ${n.price} NEX base units per unit of fuel`,
    `bond      ${n.bond} GEN base units (slashed ${n.slashed})`,
    `reserve   ${n.reserve} NEX base units`,
    `jobs      ${n.done} done, ${n.missed} missed, ${n.lied} lied`,
  ].join('\n');

const capacityOptions = [
  { flags: '--slots <n>', description: 'jobs it runs at once' },
  { flags: '--memory <KiB>', description: 'KiB of WebAssembly memory its jobs may hold together (a job holds its program’s declared maximum: 16 MiB for AssemblyScript)' },
  { flags: '--price <base-units>', description: 'NEX base units it asks per unit of fuel' },
];

export const encCli: ModuleCli = {
  group: 'enc',
  description: 'ENC: execution nodes (register, update, leave), their leases, challenges, and the proof-of-execution reward',
  commands: [
    {
      name: 'register',
      description: 'register the signing key as an execution node: capacity, price, and a GEN bond (slashable)',
      args: [],
      options: [...capacityOptions.map((o) => ({ ...o, required: true })), { flags: '--bond <GEN>', description: 'GEN bonded as collateral (at least the chain’s minBond)', required: true }],
      examples: ['metanode-cli enc register --slots 4 --memory 65536 --price 1 --bond 1000 --key executor1 --yes --wait'],
      tx: async (_a, o, env) => {
        const args = { slots: uint(o.slots, '--slots', env, 1), memoryKiB: uint(o.memory, '--memory', env, 64), price: baseUnits(o.price, '--price', env), bond: await env.amount(o.bond!, 'GEN', '--bond') };
        return {
          kind: 'enc.register',
          payload: encodeNodeTx(args),
          rows: [['slots', String(args.slots)], ['memory', `${args.memoryKiB} KiB`], ['price', `${args.price} NEX base units per fuel`], ['bond', `${o.bond} GEN`]],
          summary: { slots: args.slots, memoryKiB: args.memoryKiB, price: args.price.toString(), bond: args.bond.toString() },
          question: `Register as an execution node, bonding ${o.bond} GEN?`,
        };
      },
    },
    {
      name: 'update',
      description: 'change the node’s capacity or price, or add to its bond (what is not given stays)',
      args: [],
      options: [...capacityOptions, { flags: '--add-bond <GEN>', description: 'GEN added to the bond' }],
      tx: async (_a, o, env) => {
        const me = (await env.query('enc', 'node', { address: await env.sender() })) as NodeJson;
        const args = {
          slots: o.slots ? uint(o.slots, '--slots', env, 1) : me.slots,
          memoryKiB: o.memory ? uint(o.memory, '--memory', env, 64) : me.memoryKiB,
          price: o.price ? baseUnits(o.price, '--price', env) : BigInt(me.price),
          bond: o.addBond ? await env.amount(o.addBond, 'GEN', '--add-bond') : 0n,
        };
        return {
          kind: 'enc.update',
          payload: encodeNodeTx(args),
          rows: [['slots', String(args.slots)], ['memory', `${args.memoryKiB} KiB`], ['price', `${args.price}`], ['add bond', `${args.bond} GEN base units`]],
          summary: { slots: args.slots, memoryKiB: args.memoryKiB, price: args.price.toString(), addBond: args.bond.toString() },
          question: 'Update the execution node?',
        };
      },
    },
    {
      name: 'unregister',
      description: 'stop taking jobs; the bond and reserve return after the unbonding period (once its jobs are settled)',
      args: [],
      tx: async () => ({ kind: 'enc.unregister', payload: encodeEmpty(), rows: [], summary: {}, question: 'Unregister the execution node?' }),
    },
    {
      name: 'unjail',
      description: 'take jobs again after a jail term',
      args: [],
      tx: async () => ({ kind: 'enc.unjail', payload: encodeEmpty(), rows: [], summary: {}, question: 'Unjail the execution node?' }),
    },
    {
      name: 'challenge',
      description: 'dispute a node’s receipt inside the job’s challenge window, posting the challenge bond: the chain re-executes the job',
      args: [{ name: 'job', description: 'the job id (0x…)' }, { name: 'node', description: 'the node whose receipt is disputed (mn1… or a key name)' }],
      tx: async (a, _o, env) => {
        const job = jobId(a[0]!, env);
        const node = await env.address(a[1]!);
        const p = (await env.query('enc', 'params')) as { challengeBond: string };
        return {
          kind: 'enc.challenge',
          payload: encodeChallenge({ job: fromHex(job, 32), node }),
          rows: [['job', job], ['node', a[1]!], ['bond', `${p.challengeBond} NEX base units`]],
          summary: { job, node: a[1], bond: p.challengeBond },
          question: `Challenge this receipt, posting ${p.challengeBond} NEX base units (burned if the receipt is right)?`,
        };
      },
    },
    {
      name: 'nodes',
      description: 'list the registered execution nodes',
      args: [],
      read: async (_a, _o, env) => {
        const r = (await env.query('enc', 'nodes')) as { nodes: NodeJson[] };
        env.print(r, () => (r.nodes.length ? r.nodes.map((n) => `${n.address}  ${n.status.padEnd(9)} slots ${n.slotsUsed}/${n.slots}  price ${n.price}  bond ${n.bond}  done ${n.done} missed ${n.missed} lied ${n.lied}`).join('\n') : 'no execution nodes'));
      },
    },
    {
      name: 'node',
      description: 'show one execution node',
      args: [{ name: 'address', description: 'mn1… or a key name' }],
      read: async (a, _o, env) => {
        const n = (await env.query('enc', 'node', { address: formatAddress(await env.address(a[0]!)) })) as NodeJson;
        env.print(n, () => nodeText(n));
      },
    },
    {
      name: 'leases',
      description: 'the jobs running on a node now (what its executor must hand receipts in for), with their lease ends',
      args: [{ name: 'address', description: 'mn1… or a key name' }],
      read: async (a, _o, env) => {
        const r = (await env.query('enc', 'leases', { address: formatAddress(await env.address(a[0]!)) })) as { job: string; fuel: number; leaseUntil: number }[];
        env.print(r, () => (r.length ? r.map((l) => `${l.job}  fuel ${l.fuel}  lease until ${l.leaseUntil}`).join('\n') : 'no leases'));
      },
    },
    {
      name: 'reward',
      description: 'the proof-of-execution reward the chain mints for a usage (Φ = Σ wᵢ·uᵢ/sᵢ, Γ = Φ/(1+Φ), K·A·Γ NEX)',
      args: [],
      options: USAGE_NAMES.map((n) => ({ flags: `--${n} <n>`, description: `${n} (${{ cpu: 'kilo-fuel', memory: 'KiB', storage: 'KiB of input', egress: 'KiB of output', receipts: 'witness entries' }[n]}; default 0)` })),
      examples: ['metanode-cli enc reward --cpu 1000 --memory 1024 --storage 0 --egress 1 --receipts 3'],
      read: async (_a, o, env) => {
        const params = Object.fromEntries(USAGE_NAMES.filter((n) => o[n] !== undefined).map((n) => [n, o[n]]));
        const r = (await env.query('enc', 'reward', params)) as { phi: string; gamma: string; reward: string; rewardNex: string };
        env.print(r, () => [`Φ       ${r.phi}`, `Γ       ${r.gamma}`, `reward  ${r.rewardNex} NEX (${r.reward} base units)`].join('\n'));
      },
    },
    {
      name: 'pool',
      description: 'what ENC’s account holds (escrow, reserves, challenge bonds, bonds) and the NEX minted and burned',
      args: [],
      read: async (_a, _o, env) => {
        const r = (await env.query('enc', 'pool')) as Record<string, unknown>;
        env.print(r, () => Object.entries(r).map(([k, v]) => `${k.padEnd(15)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n'));
      },
    },
  ],
};


/** The checks of `job verify`, each with what it found. */
export interface VerifyCheck {
  check: string;
  ok: boolean;
  detail: string;
}

/** Checks a node's receipt for a job: re-execution here, its signature, the output, its state proof and its LogBlock proof. */
export async function verifyJob(env: CliEnv, job: string, nodeText: string, tamper?: (receiptBytes: Uint8Array) => Uint8Array): Promise<VerifyCheck[]> {
  const node = formatAddress(await env.address(nodeText));
  const j = (await env.query('enc', 'job', { id: job, input: 1 })) as JobJson;
  const r = (await env.query('enc', 'receipt', { job, node })) as ReceiptQueryJson;
  const bytes = tamper ? tamper(fromHex(r.receipt.bytes)) : fromHex(r.receipt.bytes);
  const claimed = decodeReceipt(bytes);
  const prog = (await env.query('docklock', 'program', { id: j.program, code: 1 })) as { code: string };
  const program = loadProgram(fromHex(prog.code), LIMITS.programBytes);
  const verdict = verifyReceipt(claimed, program, fromHex(j.input!));
  const checks: VerifyCheck[] = [
    { check: 're-execution', ok: verdict.differences.filter((d) => d.field !== 'signature').length === 0, detail: verdict.differences.length ? verdict.differences.map((d) => `${d.field}: receipt ${d.claimed}, here ${d.actual}`).join('; ') : `same result (${verdict.actual.toJson().status}, fuel ${verdict.actual.fuelUsed})` },
    { check: 'signature', ok: verdict.signature === 'valid' && toHex(claimed.executorAddress ?? new Uint8Array(0)) === toHex(parseAddress(node)), detail: `${verdict.signature}, by ${node}` },
    { check: 'output', ok: toHex(outputHash(fromHex(r.output))) === toHex(claimed.outputHash), detail: `${fromHex(r.output).length} bytes, hash ${toHex(claimed.outputHash)}` },
  ];
  // The receipt as the chain holds it, and its block's LogBlock record, both proven against the
  // state root of one head block (read again if the head moved between the two proofs)…
  type Proof = { height: number; stateRoot: string; value: string | null; proofFormat: number; proof: unknown };
  const lbKey = r.logBlock?.stateKey;
  let proof!: Proof;
  let lbProof: Proof | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    proof = (await env.call('state_getProof', [r.stateKey])) as Proof;
    lbProof = lbKey ? ((await env.call('state_getProof', [lbKey])) as Proof) : undefined;
    if (!lbProof || lbProof.height === proof.height) break;
  }
  const storedValue = proof.value ? fromHex(proof.value) : undefined;
  const provenBy = (p: Proof, key: string, value: Uint8Array): boolean => {
    try {
      return verifyVersionedStateProof(fromHex(p.stateRoot), fromHex(key), value, versionedProofFromJson(p.proofFormat, p.proof));
    } catch {
      return false; // a proof of a format this tool does not know, or malformed: not proven
    }
  };
  const proven = storedValue !== undefined && provenBy(proof, r.stateKey, storedValue);
  const sameReceipt = storedValue !== undefined && toHex(decodeStoredReceipt(storedValue).receipt) === toHex(bytes);
  checks.push({ check: 'state proof', ok: proven && sameReceipt, detail: `${proven ? 'proven' : 'not proven'} against state root ${proof.stateRoot} (block ${proof.height}); ${sameReceipt ? 'the chain holds this receipt' : 'the chain holds another receipt'}` });
  // …and that root is the one a quorum of the block's validator set committed to.
  checks.push(await certified(env, proof.height, proof.stateRoot));
  // …the receipt's hash is a leaf of the root that record holds.
  const lb = r.logBlock;
  const lbValue = lbProof?.value ? fromHex(lbProof.value) : undefined;
  const lbProven = lb !== null && lbProof !== undefined && lbValue !== undefined && lbProof.stateRoot === proof.stateRoot && provenBy(lbProof, lb.stateKey, lbValue);
  const provenRoot = lbValue ? toHex(decodeHashes(lbValue).hashes[0] ?? new Uint8Array(0)) : undefined;
  const inLog = lbProven && provenRoot === lb.root && verifyMerkleProof(fromHex(lb.root), claimed.hash(), { index: lb.index, total: lb.leaves, siblings: lb.siblings.map((s) => fromHex(s)) });
  checks.push({ check: 'logblock', ok: inLog, detail: lb ? `leaf ${lb.index} of ${lb.leaves} under root ${lb.root} (block ${r.height})${lbProven && provenRoot === lb.root ? ', the root proven in the state' : ', the root NOT proven in the state'}` : 'no LogBlock' });
  return checks;
}

interface BlockJson {
  hash: string;
  version: number;
  chainId: string;
  height: number;
  parentHash: string;
  timestamp: number;
  proposer: string;
  txRoot: string;
  receiptsRoot: string;
  eventsRoot: string;
  stateRoot: string;
  validatorsHash: string;
  nextValidatorsHash: string;
  lastCommit: CertJson | null;
  certificate: CertJson | null;
}
interface CertJson {
  height: number;
  round: number;
  blockHash: string;
  signersBitmap: string;
  signature: string;
}
const cert = (c: CertJson) => new CommitCertificate({ height: c.height, round: c.round, blockHash: fromHex(c.blockHash, 32), signers: fromHex(c.signersBitmap), signature: fromHex(c.signature) });

/**
 * Block `height`'s header, rebuilt from the node's JSON and hashed here, names `stateRoot`; its
 * validator set hashes to the header's validatorsHash; its commit certificate is a quorum of that
 * set's BLS signatures over that hash. What is still taken from the node is the set itself (a light
 * client following the chain's sets from genesis removes that trust: issue 20).
 */
async function certified(env: CliEnv, height: number, stateRoot: string): Promise<VerifyCheck> {
  const b = (await env.call('chain_getBlockByHeight', [height, false])) as BlockJson | null;
  if (!b) return { check: 'certificate', ok: false, detail: `the node has no block ${height}` };
  const header = new BlockHeader({
    version: b.version, chainId: b.chainId, height: b.height, parentHash: fromHex(b.parentHash, 32), timestamp: b.timestamp, proposer: parseAddress(b.proposer),
    txRoot: fromHex(b.txRoot, 32), receiptsRoot: fromHex(b.receiptsRoot, 32), eventsRoot: fromHex(b.eventsRoot, 32), stateRoot: fromHex(b.stateRoot, 32),
    validatorsHash: fromHex(b.validatorsHash, 32), nextValidatorsHash: fromHex(b.nextValidatorsHash, 32), ...(b.lastCommit ? { lastCommit: cert(b.lastCommit) } : {}),
  });
  const hash = header.hash();
  if (toHex(hash) !== b.hash) return { check: 'certificate', ok: false, detail: `block ${height}'s header hashes to ${toHex(hash)}, not the ${b.hash} the node says` };
  if (b.stateRoot !== stateRoot) return { check: 'certificate', ok: false, detail: `block ${height} names state root ${b.stateRoot}, not the proof's` };
  if (!b.certificate) return { check: 'certificate', ok: false, detail: `the node has no commit certificate for block ${height}` };
  const vs = (await env.call('chain_getValidators', [height])) as { validators: { address: string; publicKey: string; blsPublicKey: string; power: string }[] };
  const set = new ValidatorSet(vs.validators.map((v) => ({ address: parseAddress(v.address), publicKey: fromHex(v.publicKey, 32), blsPublicKey: fromHex(v.blsPublicKey), power: BigInt(v.power) })));
  if (toHex(set.hash()) !== b.validatorsHash) return { check: 'certificate', ok: false, detail: `the validator set the node gives for block ${height} is not the one its header names` };
  try {
    cert(b.certificate).verify(b.chainId, set, height, hash);
  } catch (e) {
    return { check: 'certificate', ok: false, detail: (e as Error).message };
  }
  return { check: 'certificate', ok: true, detail: `block ${height} (${b.hash}) is committed by ${cert(b.certificate).signerIndices().length} of ${set.size} validators, a quorum of its set ${b.validatorsHash}` };
}

export const jobCli: ModuleCli = {
  group: 'job',
  description: 'ENC jobs: submit a program and input to execution nodes, follow it, read its result, verify its receipts',
  commands: [
    {
      name: 'submit',
      description: 'submit a job (deploying its program first if the chain does not have it): its maximum cost, maxPrice × fuel × replicas, is escrowed',
      args: [{ name: 'program', description: 'the .wasm file (or a deployed program’s id, 0x…)' }],
      options: [
        { flags: '--input <bytes>', description: 'the input: 0x-hex or @file (default: empty)' },
        { flags: '--fuel <n>', description: 'the most fuel the job may burn', required: true },
        { flags: '--max-price <base-units>', description: 'the most NEX base units per unit of fuel it pays a node', required: true },
        { flags: '--replicas <n>', description: 'how many nodes run it (≥ 2: their receipts are compared)' },
        { flags: '--deadline <blocks>', description: 'blocks by which every receipt must be in (default 50)' },
      ],
      examples: ['metanode-cli job submit examples/jobs/sha256.wasm --input 0x616263 --fuel 100000 --max-price 1 --replicas 2 --deadline 50 --key alice --yes --wait'],
      tx: async (a, o, env) => {
        const text = a[0]!;
        const isId = /^0x[0-9a-fA-F]{64}$/.test(text);
        const code = isId ? undefined : await env.bytes(text, 'the program');
        const program = isId ? fromHex(text, 32) : programId(code!);
        const input = o.input ? await env.bytes(o.input, '--input') : new Uint8Array(0);
        const args = { program, input, fuel: uint(o.fuel, '--fuel', env, 1), maxPrice: baseUnits(o.maxPrice, '--max-price', env), replicas: uint(o.replicas ?? '1', '--replicas', env, 1), deadline: uint(o.deadline ?? '50', '--deadline', env, 1) };
        const txs: CliTx[] = [];
        const deployed = await env.query('docklock', 'program', { id: toHex(program) }).then(
          () => true,
          () => false,
        );
        if (!deployed) {
          if (!code) throw env.usage(`program ${text} is not deployed: give its .wasm file instead of its id`);
          try {
            loadProgram(code, LIMITS.programBytes);
          } catch (e) {
            if (e instanceof DocklockError) throw env.usage(`${text} is refused: ${e.message}`);
            throw e;
          }
          txs.push({ kind: 'docklock.deploy', payload: encodeDeploy({ code }), rows: [['program', toHex(program)], ['bytes', String(code.length)]], summary: { program: toHex(program), bytes: code.length }, question: `Deploy this ${code.length}-byte program first?` });
        }
        const escrow = args.maxPrice * BigInt(args.fuel) * BigInt(args.replicas);
        txs.push({
          kind: 'enc.submit',
          payload: encodeSubmit(args),
          rows: [['program', toHex(program)], ['input', `${input.length} bytes`], ['fuel', String(args.fuel)], ['max price', `${args.maxPrice} NEX base units per fuel`], ['replicas', String(args.replicas)], ['deadline', `${args.deadline} blocks`], ['escrow', `${escrow} NEX base units`]],
          summary: { program: toHex(program), inputBytes: input.length, fuel: args.fuel, maxPrice: args.maxPrice.toString(), replicas: args.replicas, deadline: args.deadline, escrow: escrow.toString() },
          question: `Submit this job, escrowing up to ${escrow} NEX base units?`,
        });
        return txs;
      },
    },
    {
      name: 'status',
      description: 'a job’s state: placement, receipts, disputes, settlement',
      args: [{ name: 'id', description: 'the job id: the submit transaction’s hash (0x…)' }],
      read: async (a, _o, env) => {
        const j = (await env.query('enc', 'job', { id: jobId(a[0]!, env) })) as JobJson;
        env.print(j, () =>
          [
            `job       ${j.id}`,
            `state     ${j.state}${j.state === 'executed' ? ` (settles at ${j.settleAt})` : j.settledAt ? ` (at ${j.settledAt})` : ''}`,
            `program   ${j.program}`,
            `fuel      ${j.fuel}, max price ${j.maxPrice}, ${j.replicas} replica(s), deadline ${j.deadline}`,
            `escrow    ${j.escrow} (refunded ${j.refunded})`,
            ...j.assignments.map((x) => `  ${x.node}  ${x.state.padEnd(9)} lease ${x.leaseUntil}  fuel ${x.fuelUsed}  paid ${x.paid}  reward ${x.reward}`),
            ...j.disputes.map((d) => `dispute   ${d.outcome}${d.challenger ? ` (challenged by ${d.challenger})` : ''}: ${d.verdicts.map((v) => `${v.node} ${v.lied ? `lied (${v.field}), slashed ${v.slashedGen} GEN base units` : 'honest'}`).join('; ')}`),
          ].join('\n'),
        );
      },
    },
    {
      name: 'result',
      description: 'a job’s output (from its first accepted receipt; with --node, that node’s)',
      args: [{ name: 'id', description: 'the job id (0x…)' }],
      options: [{ flags: '--node <address>', description: 'whose receipt' }],
      read: async (a, o, env) => {
        const id = jobId(a[0]!, env);
        const j = (await env.query('enc', 'job', { id })) as JobJson;
        const from = o.node ? formatAddress(await env.address(o.node)) : j.assignments.find((x) => x.receipt)?.node;
        if (!from) throw env.usage(`job ${id} has no receipt yet (it is ${j.state})`);
        const r = (await env.query('enc', 'receipt', { job: id, node: from })) as ReceiptQueryJson;
        const out = fromHex(r.output);
        const text = new TextDecoder('utf-8', { fatal: false }).decode(out);
        env.print({ job: id, node: from, status: r.receipt.status, trap: r.receipt.trap, output: r.output, receipt: r.receipt.hash }, () => (/^[\p{L}\p{N}\p{P}\p{S}\p{Zs}\n\r\t]*$/u.test(text) ? text : r.output));
      },
    },
    {
      name: 'verify',
      description: 'check a job’s receipts here: re-execute the job, check each signature and output, prove each receipt against the head block’s state root, that block’s commit certificate, and the receipt’s block’s LogBlock',
      args: [{ name: 'id', description: 'the job id (0x…)' }],
      options: [{ flags: '--node <address>', description: 'only this node’s receipt' }],
      read: async (a, o, env) => {
        const id = jobId(a[0]!, env);
        const j = (await env.query('enc', 'job', { id })) as JobJson;
        const nodes = o.node ? [o.node] : j.assignments.filter((x) => x.receipt).map((x) => x.node);
        if (nodes.length === 0) throw env.usage(`job ${id} has no receipt yet (it is ${j.state})`);
        const results: { node: string; checks: VerifyCheck[] }[] = [];
        for (const n of nodes) results.push({ node: n, checks: await verifyJob(env, id, n) });
        const ok = results.every((r) => r.checks.every((c) => c.ok));
        env.print({ job: id, ok, receipts: results }, () => [...results.flatMap((r) => [`${r.node}`, ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(13)} ${c.detail}`)]), ok ? 'verified' : 'NOT VERIFIED'].join('\n'));
        if (!ok) throw env.notVerified(`job ${id}: a receipt does not verify`);
      },
    },
    {
      name: 'list',
      description: 'jobs, newest first',
      args: [],
      read: async (_a, _o, env) => {
        const r = (await env.query('enc', 'jobs')) as { jobs: { id: string; state: string; replicas: number; fuel: number; submittedAt: number }[] };
        env.print(r, () => (r.jobs.length ? r.jobs.map((x) => `${x.id}  ${x.state.padEnd(10)} R=${x.replicas} fuel ${x.fuel} at ${x.submittedAt}`).join('\n') : 'no jobs'));
      },
    },
    {
      name: 'placement',
      description: 'why a job was placed where it was: candidates, scores, tie-breaks',
      args: [{ name: 'id', description: 'the job id (0x…)' }],
      read: async (a, _o, env) => {
        const r = (await env.query('enc', 'placement', { job: jobId(a[0]!, env) })) as { rule: string; rounds: { height: number; candidates: number; ranked: { node: string; score: string }[]; chosen: string[] }[] };
        env.print(r, () => [r.rule, ...r.rounds.flatMap((x) => [`height ${x.height}: ${x.candidates} candidate(s), chose ${x.chosen.join(', ') || 'none'}`, ...x.ranked.map((c) => `  ${c.node}  score ${c.score}`)])].join('\n'));
      },
    },
  ],
};
