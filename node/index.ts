export * from './config.js';
export * from './errors.js';
export * from './home.js';
export * from './node.js';
export * from './version.js';
export * from './testnet.js';
export * from './runtime.js';
export * from './metrics-server.js';
