import { ClientError, ClientErrorCode } from './errors.js';

/**
 * The one WebSocket WsTransport talks through. In Node.js it is the `ws` package's (it sends the
 * token header and says why an upgrade was refused: "HTTP 401 on the upgrade"); elsewhere (a
 * browser, the explorer's bundle) the platform's standard WebSocket, which can do neither.
 */
export interface Socket {
  readonly open: boolean;
  /** Sends a text frame; a failure is reported to `failed` (the connection then closes). */
  send(text: string, failed: (why: string) => void): void;
  /** Closes, waiting at most 2 s for the other side before dropping the connection. */
  close(): Promise<void>;
}

export interface SocketEvents {
  message(text: string): void;
  /** After the connection opened: it is gone. */
  close(): void;
}

export interface SocketOptions {
  token?: string;
  timeoutMs: number;
}

/** A timer that does not keep Node.js running (a browser's timers have no such notion). */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

const inNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Opens a connection to `url`; rejects with the reason it could not (a string, or a ClientError for a bad option). */
export function openSocket(url: string, o: SocketOptions, on: SocketEvents): Promise<Socket> {
  return inNode ? openWs(url, o, on) : openStandard(url, o, on);
}

async function openWs(url: string, o: SocketOptions, on: SocketEvents): Promise<Socket> {
  const { default: WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: o.token ? { authorization: `Bearer ${o.token}` } : {}, handshakeTimeout: o.timeoutMs });
    const failed = (e: Error) => reject((e as { code?: string }).code ?? e.message);
    ws.once('error', failed);
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(`HTTP ${res.statusCode} on the upgrade`);
    });
    ws.once('open', () => {
      ws.off('error', failed);
      ws.on('error', () => undefined); // 'close' follows and handles it
      ws.on('message', (data) => on.message(String(data)));
      ws.once('close', () => on.close());
      resolve({
        get open() {
          return ws.readyState === WebSocket.OPEN;
        },
        send: (text, failed) => ws.send(text, (e) => e && failed(e.message)),
        close: () =>
          ws.readyState === WebSocket.CLOSED
            ? Promise.resolve()
            : new Promise<void>((done) => {
                ws.once('close', () => done());
                ws.close();
                unref(setTimeout(() => (ws.terminate(), done()), 2000));
              }),
      });
    });
  });
}

function openStandard(url: string, o: SocketOptions, on: SocketEvents): Promise<Socket> {
  const Standard = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!Standard) return Promise.reject('this platform has no WebSocket');
  if (o.token) return Promise.reject(new ClientError(ClientErrorCode.BadArgument, "a browser's WebSocket cannot send a token: use an HTTP transport for calls, or a node that does not require one for subscriptions"));
  return new Promise((resolve, reject) => {
    const ws = new Standard(url);
    let opened = false;
    const timer = setTimeout(() => {
      ws.close();
      reject(`no answer to the upgrade within ${Math.round(o.timeoutMs / 1000)} s`);
    }, o.timeoutMs);
    ws.addEventListener('error', () => {
      if (!opened) reject('the connection failed'); // a browser says no more than this
    });
    ws.addEventListener('close', () => {
      clearTimeout(timer);
      if (opened) on.close();
      else reject('the connection was refused or closed before it opened');
    });
    ws.addEventListener('message', (ev) => on.message(String(ev.data)));
    ws.addEventListener('open', () => {
      clearTimeout(timer);
      opened = true;
      resolve({
        get open() {
          return ws.readyState === Standard.OPEN;
        },
        send: (text, failed) => {
          try {
            ws.send(text);
          } catch (e) {
            failed((e as Error).message);
          }
        },
        close: () =>
          ws.readyState === Standard.CLOSED
            ? Promise.resolve()
            : new Promise<void>((done) => {
                ws.addEventListener('close', () => done());
                ws.close();
                setTimeout(done, 2000);
              }),
      });
    });
  });
}
