// Verifies a balance with the light client: from the trusted genesis hash, through the commit
// certificates to the node's head, then the balance's state proof against that head's state root.
//   METANODE_TRUSTED_HASH=0x… node examples/client/verify-balance.mjs mn1…address [asset]
// METANODE_TRUSTED_HASH: block 0's hash, learned from someone you trust (docs/client.md);
// METANODE_RPC: the node (default http://127.0.0.1:8545).
import { LightClient, MetanodeClient } from 'metanode/client';

const [address, asset = 'NEX'] = process.argv.slice(2);
if (!address || !process.env.METANODE_TRUSTED_HASH) {
  console.error('usage: METANODE_TRUSTED_HASH=0x… node examples/client/verify-balance.mjs ADDRESS [ASSET]');
  process.exit(2);
}
const client = new MetanodeClient(process.env.METANODE_RPC ?? 'http://127.0.0.1:8545');
const light = new LightClient(client, { trust: { height: 0, hash: process.env.METANODE_TRUSTED_HASH } });

const head = await light.sync();
const balance = await light.balance(address, asset, head.header.height);
console.log(JSON.stringify({ address, asset, balance: balance.toString(), height: head.header.height, verified: true }));
