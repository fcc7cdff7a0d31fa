// Prints each new block as it is committed (a newHeads subscription over WebSocket).
//   node examples/client/follow-heads.mjs [count]
// METANODE_RPC: the node (default http://127.0.0.1:8545). Without a count it runs until Ctrl-C.
import { MetanodeClient } from 'metanode/client';

const count = Number(process.argv[2] ?? Infinity);
const client = new MetanodeClient(process.env.METANODE_RPC ?? 'http://127.0.0.1:8545');
let seen = 0;
for await (const head of await client.subscribe('newHeads')) {
  console.log(JSON.stringify({ height: head.height, hash: head.hash, transactions: head.transactionCount }));
  if (++seen >= count) break; // leaving the loop unsubscribes
}
await client.close();
