import { build, type Plugin } from 'esbuild';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bundles client/browser/index.ts (compiled, in dist/) and what it imports into one ES module
 * for browsers: dist/explorer/metanode-client.js, which the node serves to its explorer as
 * /js/metanode-client.js. chain/ed25519.js (node:crypto, libsodium) and chain/bls.js (blst) are
 * replaced by client/browser/'s; `ws` is never loaded outside Node.js (client/socket.ts).
 * Run by `npm run build` and `npm start` after tsc.
 */
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const BUNDLE = here('../../explorer/metanode-client.js');

/** chain/'s two native parts, and what stands in for them in a browser. */
const STAND_INS = new Map([
  [here('../../chain/ed25519.js'), here('./ed25519.js')],
  [here('../../chain/bls.js'), here('./bls.js')],
]);
const browserStandIns: Plugin = {
  name: 'metanode-browser-stand-ins',
  setup(b) {
    b.onResolve({ filter: /(ed25519|bls)\.js$/ }, (args) => {
      const standIn = STAND_INS.get(resolve(args.resolveDir, args.path));
      return standIn ? { path: standIn } : undefined;
    });
  },
};

export async function bundleBrowserClient(): Promise<void> {
  await build({
    entryPoints: [here('./index.js')],
    outfile: BUNDLE,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    external: ['ws', 'node:fs/promises'], // loaded only in Node.js (client/socket.ts, signerFromKeyFile)
    plugins: [browserStandIns],
    logLevel: 'warning',
    legalComments: 'eof',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundleBrowserClient();
