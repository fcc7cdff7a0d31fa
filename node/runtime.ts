/**
 * Node.js flags a node process runs with (bin/metanode's shebang carries the same; launchers that
 * start `metanode start` through process.execPath pass these), measured in docs/performance.md:
 * - a young generation of at most 2 × 16 MiB: V8 would otherwise grow it to 128 MiB under load, a
 *   third of a validator's memory, and measured no faster (8 MiB: ~15% slower with 4 validators);
 * - an old generation allowed to grow by 30% of what survived the last full collection before the
 *   next one (V8 picks up to 4× at a high allocation rate): a loaded validator's live heap is
 *   ~60–100 MB, and this keeps its resident memory at ~280–335 MiB instead of ~410–630.
 */
export const NODE_RUNTIME_FLAGS: readonly string[] = ['--max-semi-space-size=16', '--heap-growing-percent=30'];

/**
 * Environment a node process runs with (bin/metanode's shebang sets the same), measured in
 * docs/performance.md:
 * - at most two glibc malloc arenas. Each thread that allocates (libuv's pool running LevelDB, V8's
 *   helpers, the verifier) otherwise gets its own arena, each holding freed memory of its own:
 *   ~15–20 MiB less resident per loaded validator, at no measured cost;
 * - allocations of 128 KiB or more mapped on their own, and so given back when freed. glibc
 *   otherwise raises that threshold to the largest block freed so far (up to 32 MiB), and a
 *   block's LevelDB batch and memtables then come from the arenas, which keep the freed memory:
 *   ~35–70 MiB less resident at the peak of a node with a million accounts, at no measured cost.
 */
export const NODE_RUNTIME_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };
