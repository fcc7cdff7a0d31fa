// Sends a transfer, after a dry run, and waits for its receipt.
//   METANODE_SECRET=0x… node examples/client/send-transfer.mjs mn1…recipient [amount] [asset]
// METANODE_SECRET: the sender's Ed25519 secret (a dev account's, as `npm start` prints them);
// METANODE_RPC: the node (default http://127.0.0.1:8545). Build first: npm run build.
import { MetanodeClient, bank, signerFromSecret } from 'metanode/client';

const [to, amount = '1000', asset = 'NEX'] = process.argv.slice(2);
if (!to || !process.env.METANODE_SECRET) {
  console.error('usage: METANODE_SECRET=0x… node examples/client/send-transfer.mjs RECIPIENT [AMOUNT] [ASSET]');
  process.exit(2);
}
const client = new MetanodeClient(process.env.METANODE_RPC ?? 'http://127.0.0.1:8545');
const signer = signerFromSecret(process.env.METANODE_SECRET);
const transfer = bank.transfer({ to, asset, amount: BigInt(amount) });

// What it would do, committing nothing (tx_simulate).
const dryRun = await client.simulate(signer, transfer);
console.log(`dry run: ${dryRun.receipt.status}, fee ${dryRun.receipt.fee}`);

const tx = await client.send(signer, transfer);
const receipt = await client.waitForReceipt(tx);
console.log(JSON.stringify({ hash: receipt.txHash, status: receipt.status, height: receipt.blockHeight, fee: receipt.fee }));
