import { z } from 'zod';
import { parseAddress } from '../../../chain/index.js';

/** The four assets of Metanode, in this order everywhere. */
export const ASSETS = ['GEN', 'NEX', 'FLX', 'AUR'] as const;
export type Asset = (typeof ASSETS)[number];
export const FEE_ASSET: Asset = 'NEX';

const amount = z.string().regex(/^(0|[1-9][0-9]{0,37})$/, 'must be a decimal string of base units, e.g. "1000000"');
const address = z.string().refine((s) => {
  try {
    parseAddress(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid mn1… address (bech32m, checksum checked)');

/** One funded account: in `balances`, and each line of a bulk file. */
export const bankBalanceSchema = z
  .object({
    address,
    amounts: z.object(Object.fromEntries(ASSETS.map((a) => [a, amount.optional()])) as Record<Asset, z.ZodOptional<typeof amount>>).strict(),
  })
  .strict();

/**
 * A JSON Lines file of more balances, one `bankBalanceSchema` object a line, addresses strictly
 * ascending (by their bytes) and none of them in `balances` (genesis/bulk.ts; vm/module.ts
 * initGenesisBulk). Its balances are credited after every module's genesis, added to what those
 * credited: an account that a module's genesis must find funded goes in `balances`.
 */
export const bulkFileSchema = z
  .object({
    path: z.string().min(1, 'must name the file (relative to the genesis file)'),
    sha256: z.string().regex(/^0x[0-9a-f]{64}$/, "must be 0x + 64 lowercase hex digits: the sha256 of the file's bytes"),
  })
  .strict();

export const bankGenesisSchema = z
  .object({
    assets: z.object(
      Object.fromEntries(ASSETS.map((a) => [a, z.object({ decimals: z.number().int().min(0).max(18) }).strict()])) as Record<
        Asset,
        z.ZodObject<{ decimals: z.ZodNumber }>
      >,
    ).strict(),
    minFee: amount,
    balances: z.array(bankBalanceSchema),
    bulkFile: bulkFileSchema.optional(),
  })
  .strict()
  .superRefine((g, ctx) => {
    const seen = new Set<string>();
    g.balances.forEach((b, i) => {
      // bech32m also accepts the all-uppercase spelling: compare addresses, not strings.
      const address = b.address.toLowerCase();
      if (seen.has(address)) ctx.addIssue({ code: 'custom', path: ['balances', i, 'address'], message: `duplicate address ${b.address}` });
      seen.add(address);
    });
  });

export type BankGenesis = z.infer<typeof bankGenesisSchema>;

export type BankBalance = z.infer<typeof bankBalanceSchema>;
