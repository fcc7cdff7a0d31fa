export * from './core.js';
export * from './engine.js';
export * from './messages.js';
export * from './options.js';
export * from './signlog.js';
export * from './justification.js';
