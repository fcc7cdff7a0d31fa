import { readFile, readdir } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The block explorer's folder. The compiled server lives in dist/rpc/, the explorer's plain
 * files in rpc/explorer/ of the source tree (the build does not copy them): both are found
 * from here, so `npm start`, the tests and CI serve the same files.
 */
export const EXPLORER_DIR = fileURLToPath(new URL('../../rpc/explorer/', import.meta.url));

/**
 * Files the build makes for the explorer, served beside its own: the browser bundle of
 * metanode/client (client/browser/build.ts), which is the explorer's JSON-RPC client.
 */
export const EXPLORER_BUILT: Record<string, string> = {
  '/js/metanode-client.js': fileURLToPath(new URL('../explorer/metanode-client.js', import.meta.url)),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Everything the page may load comes from this node: no other origin, no inline script. */
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface StaticFile {
  body: Buffer;
  type: string;
}

/**
 * A folder of static files, read into memory once (it is small): requests can only name files
 * that were in it, so there is no path to traverse.
 */
export class StaticFiles {
  private constructor(
    private readonly files: Map<string, StaticFile>,
    /** Extra files that were not there (the build did not make them). */
    readonly missing: readonly string[] = [],
  ) {}

  static empty(): StaticFiles {
    return new StaticFiles(new Map());
  }

  /**
   * The files under `dir` (a missing folder is an error), and `extra` (a path to serve → the file);
   * a missing extra file is left out and named in `missing`.
   */
  static async load(dir: string, extra: Record<string, string> = {}): Promise<StaticFiles> {
    const files = new Map<string, StaticFile>();
    const missing: string[] = [];
    for (const [path, file] of Object.entries(extra)) {
      const type = TYPES[extname(file)];
      if (!type) continue;
      try {
        files.set(path, { body: await readFile(file), type });
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') throw e;
        missing.push(file);
      }
    }
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || e.name.startsWith('.')) continue;
      const type = TYPES[extname(e.name)];
      if (!type) continue;
      const full = join(e.parentPath, e.name);
      const rel = full.slice(dir.length).split(/[\\/]+/).filter(Boolean).join('/');
      files.set('/' + rel, { body: await readFile(full), type });
    }
    if (files.has('/index.html')) files.set('/', files.get('/index.html')!);
    return new StaticFiles(files, missing);
  }

  get size(): number {
    return this.files.size;
  }

  /** Answers GET `path` if it names one of the files; false otherwise. */
  serve(path: string, res: ServerResponse): boolean {
    const f = this.files.get(path);
    if (!f) return false;
    res.writeHead(200, {
      'content-type': f.type,
      'content-length': f.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CSP,
    });
    res.end(f.body);
    return true;
  }
}
