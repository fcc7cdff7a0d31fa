/** What the benchmarks that run nodes as processes share: reading a process's memory and CPU, and waiting for nodes. */
import { readFileSync, readdirSync } from 'node:fs';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** CPU seconds per thread name (main thread, workers, libuv pool, V8 helpers, LevelDB) of a process. */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    }
  } catch {
    // the process has exited
  }
  return out;
}

export async function waitHealthy(url: string, timeoutMs = 30_000, node?: { exitCode: number | null }): Promise<void> {
  for (let i = 0; i < timeoutMs / 100; i++) {
    if (node && node.exitCode !== null) throw new Error(`the node for ${url} exited (code ${node.exitCode}) before it was healthy: see its output above`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // starting
    }
    await sleep(100);
  }
  throw new Error(`${url} did not become healthy`);
}

/** Every node connected to all the others and past height 2 (the timed window starts in steady state). */
export async function waitReady(urls: string[]): Promise<void> {
  const status = async (url: string) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'node_status', params: [] }) });
    return ((await res.json()) as { result: { peers: number; head: { height: number } } }).result;
  };
  for (let i = 0; i < 300; i++) {
    const all = await Promise.all(urls.map(status));
    if (all.every((st) => st.peers >= urls.length - 1 && st.head.height >= 2)) return;
    await sleep(100);
  }
  throw new Error(`the nodes did not all connect and reach height 2 within 30 s`);
}
