import { z } from 'zod';
import { ADDRESS_LENGTH, equalBytes, fromHex, isValidBlsPublicKey, parseAddress, addressFromPublicKey, verifyBlsPossession } from '../chain/index.js';

const hexOf = (bytes: number, what: string) =>
  z.string().regex(new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`), `${what} must be 0x + ${bytes * 2} lowercase hex digits`);

export const validatorSchema = z
  .object({
    name: z.string().min(1).max(64).optional(),
    address: z.string(),
    publicKey: hexOf(32, 'publicKey (Ed25519)'),
    blsPublicKey: hexOf(48, 'blsPublicKey (BLS12-381 G1, compressed)'),
    blsProofOfPossession: hexOf(96, 'blsProofOfPossession (BLS signature of the key over itself)'),
    power: z.string().regex(/^[1-9][0-9]{0,18}$/, 'power must be a positive decimal string'),
  })
  .strict()
  .superRefine((v, ctx) => {
    let addr: Uint8Array | undefined;
    try {
      addr = parseAddress(v.address);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: (e as Error).message });
    }
    if (addr && addr.length === ADDRESS_LENGTH && /^0x[0-9a-f]{64}$/.test(v.publicKey) && !equalBytes(addressFromPublicKey(fromHex(v.publicKey)), addr)) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'address does not belong to publicKey' });
    }
    if (/^0x[0-9a-f]{96}$/.test(v.blsPublicKey) && !isValidBlsPublicKey(fromHex(v.blsPublicKey))) {
      ctx.addIssue({ code: 'custom', path: ['blsPublicKey'], message: 'not a valid BLS12-381 public key' });
    } else if (/^0x[0-9a-f]{96}$/.test(v.blsPublicKey) && /^0x[0-9a-f]{192}$/.test(v.blsProofOfPossession) && !verifyBlsPossession(fromHex(v.blsPublicKey), fromHex(v.blsProofOfPossession))) {
      ctx.addIssue({ code: 'custom', path: ['blsProofOfPossession'], message: 'does not prove possession of blsPublicKey (sign it with that key: BlsKey.proofOfPossession)' });
    }
  });

export const genesisSchema = z
  .object({
    chainId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'chainId must be 1-63 lowercase letters, digits or dashes'),
    genesisTime: z.iso.datetime({ message: 'genesisTime must be an ISO-8601 UTC time, e.g. 2026-01-01T00:00:00Z' }),
    validators: z.array(validatorSchema).min(1, 'at least one validator is needed'),
    modules: z.record(z.string(), z.unknown()),
    /**
     * What the headers' state root commits to, for the chain's life: `entry-log` (QMDB-style,
     * docs/state-entry-log.md; proofs of format 2) or `sparse-merkle-tree` (proofs of format 1).
     * Absent: the sparse Merkle tree, which every chain made before the field existed uses.
     */
    stateCommitment: z.enum(['sparse-merkle-tree', 'entry-log'], { message: 'stateCommitment must be "entry-log" or "sparse-merkle-tree"' }).optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    const seen = new Set<string>();
    g.validators.forEach((v, i) => {
      // bech32m also accepts the all-uppercase spelling: compare addresses, not strings.
      const address = v.address.toLowerCase();
      if (seen.has(address)) ctx.addIssue({ code: 'custom', path: ['validators', i, 'address'], message: 'duplicate validator' });
      seen.add(address);
    });
  });

export type GenesisValidator = z.infer<typeof validatorSchema>;
export type GenesisDoc = z.infer<typeof genesisSchema>;
