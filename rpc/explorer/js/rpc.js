// The node's JSON-RPC: calls over HTTP (POST /), subscriptions over a WebSocket on the same port.

let nextId = 1;

export class RpcError extends Error {
  constructor(method, error) {
    super(`${method}: ${error.message}`);
    this.code = error.code;
    this.data = error.data;
  }
}

async function post(body) {
  const res = await fetch('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`the node answered HTTP ${res.status}`);
  return res.json();
}

/** One call; its result, or a thrown RpcError. */
export async function call(method, ...params) {
  const r = await post({ jsonrpc: '2.0', id: nextId++, method, params });
  if (r.error) throw new RpcError(method, r.error);
  return r.result;
}

/** Several calls in one request: their results in order (a failed call's result is its error). */
export async function batch(calls) {
  if (calls.length === 0) return [];
  const first = nextId;
  nextId += calls.length;
  const out = await post(calls.map(([method, ...params], i) => ({ jsonrpc: '2.0', id: first + i, method, params })));
  const byId = new Map(out.map((r) => [r.id, r]));
  return calls.map(([method], i) => {
    const r = byId.get(first + i);
    return r && !r.error ? r.result : new RpcError(method, r ? r.error : { message: 'no answer' });
  });
}

/**
 * A WebSocket that keeps itself connected and re-subscribes after a reconnect. `subscribe`
 * returns a function that ends the subscription; `onStatus` hears 'live' and 'down'.
 */
export class Live {
  constructor() {
    this.subs = new Set();
    this.byServerId = new Map();
    this.pending = new Map();
    this.statusListeners = new Set();
    this.status = 'connecting';
    this.retryMs = 500;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.byServerId.clear();
      for (const s of this.subs) this.sendSubscribe(s);
      this.setStatus('live');
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.setStatus('down');
      for (const s of this.subs) s.serverId = undefined;
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  onMessage(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.method === 'subscription') {
      const s = this.byServerId.get(m.params.subscription);
      if (s) s.handler(m.params.result);
      return;
    }
    const done = this.pending.get(m.id);
    if (done) {
      this.pending.delete(m.id);
      done(m);
    }
  }

  request(method, params, done) {
    const id = nextId++;
    this.pending.set(id, done);
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  }

  sendSubscribe(s) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.request('subscribe', s.filter ? [s.kind, s.filter] : [s.kind], (m) => {
      if (m.error || !this.subs.has(s)) return;
      s.serverId = m.result;
      this.byServerId.set(m.result, s);
    });
  }

  subscribe(kind, filter, handler) {
    const s = { kind, filter, handler, serverId: undefined };
    this.subs.add(s);
    this.sendSubscribe(s);
    return () => {
      this.subs.delete(s);
      if (s.serverId && this.ws.readyState === WebSocket.OPEN) {
        this.byServerId.delete(s.serverId);
        this.request('unsubscribe', [s.serverId], () => undefined);
      }
    };
  }

  onStatus(listener) {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  setStatus(status) {
    const reconnected = status === 'live' && this.status === 'down';
    this.status = status;
    for (const l of this.statusListeners) l(status, reconnected);
  }
}
