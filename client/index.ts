/**
 * metanode/client: a typed JSON-RPC client, signers, transaction builders and a light client
 * for programs that use a Metanode node (docs/client.md).
 */
export { MetanodeClient, type HeightArg, type SendOptions } from './client.js';
export { ClientError, ClientErrorCode, RpcResponseError, VerificationError } from './errors.js';
export { LightClient, type LightClientOptions, type TrustAnchor, type VerifiedHeader, type VerifiedState, type VerifiedTransaction } from './light.js';
export * from './schemas.js';
export { signerFromKeyFile, signerFromMnemonic, signerFromSecret, type Signer } from './signer.js';
export { metanodeKeyPath, newMnemonic, isValidMnemonic } from '../chain/mnemonic.js';
export { HttpTransport, type Call, type HttpTransportOptions, type Settled, type Transport } from './transport.js';
export { Subscription, WsTransport, type ConnectionStatus, type SubscribeOptions, type SubscriptionFilter, type SubscriptionKind, type WsTransportOptions } from './ws.js';
export { addressArg, bank, baseUnits, court, docklock, enc, staking, type TxIntent } from './tx.js';
export { formatAddress, parseAddress, toHex, fromHex, Transaction, decodeTransaction } from '../chain/index.js';
