export * from './errors.js';
export * from './gossip.js';
export * from './keys.js';
export * from './libp2p.js';
export * from './network.js';
export * from './options.js';
export * from './reqresp.js';
