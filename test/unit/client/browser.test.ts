import { expect } from 'chai';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ed25519Key as BrowserKey } from '../../../client/browser/ed25519.js';
import { Ed25519Key } from '../../../chain/ed25519.js';

describe('client/browser: the browser bundle of metanode/client', () => {
  it("signs with @noble/curves exactly as the node's node:crypto does: same public keys, same signatures", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }), (secret, message) => {
        const node = Ed25519Key.fromSecret(secret);
        const browser = BrowserKey.fromSecret(secret);
        expect(browser.publicKey).to.deep.equal(node.publicKey);
        expect(browser.sign(message)).to.deep.equal(node.sign(message));
      }),
      { numRuns: 100 },
    );
  });

  it('is built by npm run build, and loads nothing a browser lacks (no native addon, no node: module, ws only inside Node.js)', async () => {
    const bundle = await readFile(fileURLToPath(new URL('../../../explorer/metanode-client.js', import.meta.url)), 'utf8');
    for (const nodeOnly of ['sodium-native', '@chainsafe/blst', 'node:crypto', 'node:fs', 'node:module', 'require(']) expect(bundle, nodeOnly).not.to.contain(nodeOnly);
    expect(bundle.match(/import\("[^"]*"\)/g)).to.deep.equal(['import("ws")']);
    expect(bundle).to.match(/export\s*\{[^}]*\bMetanodeClient\b/);
  });
});
