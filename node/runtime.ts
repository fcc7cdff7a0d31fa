/**
 * Node.js flags a node process runs with (bin/metanode's shebang carries the same; launchers that
 * start `metanode start` through process.execPath pass these). A young generation of at most
 * 2 × 16 MiB: V8 would otherwise grow it to 128 MiB under load, a third of a validator's memory,
 * and measured no faster (docs/performance.md).
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
