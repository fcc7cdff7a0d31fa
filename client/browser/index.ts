/**
 * metanode/client for browsers: what runs without Node.js (docs/client.md "In a browser"). The
 * explorer loads its bundle (client/browser/build.ts). Left out: the light client (BLS through
 * a native addon) and signers from key files (node:fs). Signing is @noble/curves' Ed25519
 * (client/browser/ed25519.ts), which gives the same signatures as the node's.
 */
import * as z from 'zod';

// zod probes whether it may compile checks with `new Function`, which a page whose CSP forbids
// eval (the explorer's: script-src 'self') reports as a violation: it checks without compiling.
z.config({ jitless: true });

export { MetanodeClient, type HeightArg, type SendOptions } from '../client.js';
export { ClientError, ClientErrorCode, RpcResponseError, VerificationError } from '../errors.js';
export * from '../schemas.js';
export { signerFromMnemonic, signerFromSecret, type Signer } from '../signer.js';
export { metanodeKeyPath, newMnemonic, isValidMnemonic } from '../../chain/mnemonic.js';
export { HttpTransport, type Call, type HttpTransportOptions, type Settled, type Transport } from '../transport.js';
export { Subscription, WsTransport, type ConnectionStatus, type SubscribeOptions, type SubscriptionFilter, type SubscriptionKind, type WsTransportOptions } from '../ws.js';
export { addressArg, bank, baseUnits, court, docklock, enc, staking, type TxIntent } from '../tx.js';
export { addressFromPublicKey, formatAddress, parseAddress } from '../../chain/address.js';
export { fromHex, toHex } from '../../chain/bytes.js';
export { Transaction, decodeTransaction } from '../../chain/transaction.js';
