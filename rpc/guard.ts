import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { RpcOptions } from './options.js';

/** Why a request is refused before it is read: HTTP status, message, and the limit counted. */
export interface Refusal {
  status: number;
  message: string;
  limit: string;
}

/** The client's address, IPv4-mapped IPv6 addresses written as IPv4. */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** The host name of a Host header (no port, no brackets), lower case. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * The DNS-rebinding defence (geth's --http.vhosts): a page on an attacker's domain that later
 * resolves to this machine sends that domain as Host. An IP address is always accepted (it is
 * no name an attacker controls); a name only if rpc.hosts lists it, or lists '*'.
 */
export function hostCheck(req: IncomingMessage, opts: RpcOptions): Refusal | undefined {
  const header = req.headers.host;
  if (header === undefined) return undefined; // HTTP/1.0 clients; browsers always send Host
  const name = hostName(header);
  if (isIP(name) !== 0 || opts.hosts.includes('*') || opts.hosts.some((h) => h.toLowerCase() === name)) return undefined;
  return { status: 403, message: `host name "${name.slice(0, 100)}" is not served here: add it to rpc.hosts in config.json (a defence against DNS rebinding)`, limit: 'hosts' };
}

/**
 * Browsers name the page that makes a request in Origin. No Origin: not a browser, allowed. The
 * node's own origin (its explorer) is allowed; another is allowed only if rpc.corsOrigins lists
 * it (or '*'), and then gets CORS headers. Anything else is refused, so a web page the user
 * opens cannot send transactions or admin calls to a node on their machine, even without
 * reading the answers (a "simple" POST needs no preflight).
 */
export function originCheck(req: IncomingMessage, opts: RpcOptions): { allow?: string; refusal?: Refusal } {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  const o = origin.toLowerCase();
  if (opts.corsOrigins.includes('*')) return { allow: '*' };
  if (opts.corsOrigins.some((a) => a.toLowerCase() === o)) return { allow: origin };
  const host = req.headers.host?.toLowerCase();
  if (host !== undefined && (o === `http://${host}` || o === `https://${host}`)) return {};
  return { refusal: { status: 403, message: `origin "${origin.slice(0, 200)}" may not call this node from a browser: list it in rpc.corsOrigins in config.json to allow it`, limit: 'origin' } };
}
