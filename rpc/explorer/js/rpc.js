// The node's JSON-RPC, through metanode/client (its browser bundle, /js/metanode-client.js, which
// `npm run build` makes from client/browser/): calls and batches over HTTP (POST /), subscriptions
// over one WebSocket on the same port that reconnects and subscribes again by itself.
import { ClientErrorCode, MetanodeClient, RpcResponseError, WsTransport } from './metanode-client.js';

export { RpcResponseError };

export const client = new MetanodeClient({ url: location.origin });

/** One call; its result, or a thrown ClientError (RpcResponseError when the node refused it). */
export function call(method, ...params) {
  return client.call(method, params);
}

/** Several calls in one request: their results in order (a failed call's result is its RpcResponseError). */
export async function batch(calls) {
  const settled = await client.batch(calls.map(([method, ...params]) => ({ method, params })));
  return settled.map((s) => (s.ok ? s.result : s.error));
}

/**
 * Subscriptions for the pages: `subscribe` calls a handler for each notification and returns a
 * function that ends the subscription; `onStatus` hears 'connecting', 'live' and 'down', and
 * whether 'live' is a reconnection (notifications other than new heads sent meanwhile are lost).
 * A newHeads subscription is held for as long as the explorer is open, so the connection, and the
 * indicator that shows it, is kept on every page (made again if it ever ends; after a reconnect
 * it does not read the blocks it missed: the page is redrawn instead).
 */
export class Live {
  constructor() {
    this.ws = new WsTransport({ url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/` });
    this.status = 'connecting';
    this.listeners = new Set();
    this.ws.onStatus((s) => this.setStatus(s));
    this.keepAlive();
  }

  keepAlive() {
    this.subscribe('newHeads', null, () => undefined, { fillGaps: false, onEnd: () => setTimeout(() => this.keepAlive(), 1000) });
  }

  subscribe(kind, filter, handler, o = {}) {
    let ended = false;
    let sub;
    const run = async () => {
      // Until the first connection: a node that is away is tried again, as after a drop.
      for (let delay = 500; !ended && !sub; delay = Math.min(delay * 2, 10_000)) {
        try {
          sub = await this.ws.subscribe(kind, filter ?? undefined, o.fillGaps === undefined ? {} : { fillGaps: o.fillGaps });
        } catch (e) {
          if (e instanceof RpcResponseError) throw e; // refused (a limit): not worth retrying
          // Only a node that cannot be reached is "down" (a slow answer on an open connection is not).
          if (e.code === ClientErrorCode.Unreachable && !ended && this.status !== 'down') this.setStatus('down');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
      if (ended) return void sub?.close();
      for await (const value of sub) {
        try {
          handler(value);
        } catch (e) {
          console.warn(`a ${kind} handler failed: ${e.message}`);
        }
      }
    };
    run()
      .catch((e) => console.warn(`the ${kind} subscription ended: ${e.message}`))
      .finally(() => !ended && o.onEnd?.());
    return () => {
      ended = true;
      void sub?.close();
    };
  }

  onStatus(listener) {
    this.listeners.add(listener);
    listener(this.status, false);
    return () => this.listeners.delete(listener);
  }

  setStatus(status) {
    const reconnected = status === 'live' && this.status === 'down';
    this.status = status;
    for (const l of this.listeners) l(status, reconnected);
  }
}
