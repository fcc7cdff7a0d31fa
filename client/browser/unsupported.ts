/** What a browser bundle's stand-in for a Node.js-only part throws. */
export function notInBrowser(what: string): never {
  throw new Error(`${what} is not in the browser bundle of metanode/client: run metanode/client in Node.js for it (docs/client.md "In a browser")`);
}
