export * from './backend.js';
export * from './errors.js';
export * from './format.js';
export * from './method.js';
export * from './openrpc.js';
export * from './options.js';
export * from './server.js';
