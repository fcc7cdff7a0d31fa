import { expect } from 'chai';
import { ExitCode } from '../../../bin/cli/errors.js';
import { RpcClient, rpcErrorToCli } from '../../../bin/cli/rpc-client.js';
import { rejectsWith } from './helpers.js';

const URL_ = 'http://127.0.0.1:1';

/** A fetch that answers every call with `body` (or throws `fail`), recording the requests. */
function fakeFetch(body: unknown, fail?: Error): { fetch: typeof fetch; requests: unknown[] } {
  const requests: unknown[] = [];
  const f = (async (_url: unknown, init?: RequestInit) => {
    requests.push(JSON.parse(String(init?.body)));
    if (fail) throw fail;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: 200 });
  }) as typeof fetch;
  return { fetch: f, requests };
}

const client = (f: typeof fetch): RpcClient => new RpcClient({ url: URL_, timeoutMs: 1000 }, { fetch: f });

describe('cli/rpc-client', () => {
  it('sends JSON-RPC 2.0 and returns the checked result', async () => {
    const f = fakeFetch({ jsonrpc: '2.0', id: 1, result: { minFee: '1000', feeAsset: 'NEX' } });
    expect(await client(f.fetch).bankParams()).to.deep.equal({ minFee: '1000', feeAsset: 'NEX' });
    expect(f.requests[0]).to.deep.equal({ jsonrpc: '2.0', id: 1, method: 'bank_getParams', params: [] });
  });

  it('sends --rpc-token as a bearer token, and says what to do when the node refuses the call (-32006)', async () => {
    const headers: Headers[] = [];
    const f = (async (_url: unknown, init?: RequestInit) => {
      headers.push(new Headers(init?.headers));
      return new Response(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32006, message: 'unauthorized: tx_send (a write method) needs a bearer token' } }), { status: 401 });
    }) as typeof fetch;
    const e = await rejectsWith(new RpcClient({ url: URL_, timeoutMs: 1000, token: 'a.b.c' }, { fetch: f }).sendRaw('0x00'), ExitCode.NodeError);
    expect(headers[0]!.get('authorization')).to.equal('Bearer a.b.c');
    expect(e.message).to.match(/needs a bearer token; pass a token that grants it with --rpc-token/);
    await rejectsWith(client(f).sendRaw('0x00'), ExitCode.NodeError);
  });

  it('says the node cannot be reached, and what to do (10)', async () => {
    const e = await rejectsWith(client(fakeFetch(null, new TypeError('fetch failed')).fetch).chainId(), ExitCode.NodeUnreachable);
    expect(e.message).to.equal(`cannot reach the node at ${URL_}: is it running? start it with npm start or pass --rpc`);
  });

  it('reaches nothing on a closed port (10), with the real fetch', async () => {
    await rejectsWith(new RpcClient({ url: 'http://127.0.0.1:9', timeoutMs: 2000 }).chainId(), ExitCode.NodeUnreachable);
  });

  it('turns a timeout into an unreachable node (10)', async () => {
    const timeout = new DOMException('timed out', 'TimeoutError');
    const e = await rejectsWith(client(fakeFetch(null, timeout).fetch).chainId(), ExitCode.NodeUnreachable);
    expect(e.message).to.match(/did not answer within 1s/);
  });

  it('rejects an answer that is not JSON-RPC, or a result of the wrong shape (11)', async () => {
    await rejectsWith(client(fakeFetch('<html>').fetch).chainId(), ExitCode.NodeError);
    const e = await rejectsWith(client(fakeFetch({ jsonrpc: '2.0', id: 1, result: { nonce: -1 } }).fetch).account('mn1x'), ExitCode.NodeError);
    expect(e.message).to.match(/unexpected result/);
  });

  it('refuses a --rpc that is not an http URL (2)', () => {
    expect(() => new RpcClient({ url: 'localhost:8545', timeoutMs: 1 })).to.throw().with.property('exitCode', ExitCode.Usage);
    expect(() => new RpcClient({ url: 'not a url', timeoutMs: 1 })).to.throw().with.property('exitCode', ExitCode.Usage);
  });

  it('maps mempool rejections by data.reason, keeping the reason in the message', async () => {
    const err = (reason: string) => ({ code: -32001, message: 'rejected', data: { reason } });
    expect(rpcErrorToCli('tx_send', err('TX_NONCE_TOO_LOW')).exitCode).to.equal(ExitCode.BadNonce);
    expect(rpcErrorToCli('tx_send', err('TX_NONCE_TOO_HIGH')).exitCode).to.equal(ExitCode.BadNonce);
    expect(rpcErrorToCli('tx_send', err('TX_INSUFFICIENT_FEE_FUNDS')).exitCode).to.equal(ExitCode.InsufficientFunds);
    const other = rpcErrorToCli('tx_send', err('TX_BAD_SIGNATURE'));
    expect(other.exitCode).to.equal(ExitCode.TxRejected);
    expect(other.message).to.equal('the node rejected the transaction: TX_BAD_SIGNATURE: rejected');
    expect(rpcErrorToCli('tx_send', err('TX_NONCE_TOO_LOW')).message).to.include('TX_NONCE_TOO_LOW');
    const f = fakeFetch({ jsonrpc: '2.0', id: 1, error: err('TX_WRONG_CHAIN') });
    const e = await rejectsWith(client(f.fetch).sendRaw('0x00'), ExitCode.TxRejected);
    expect(e.message).to.include('TX_WRONG_CHAIN');
  });

  it('maps other node errors', () => {
    expect(rpcErrorToCli('x', { code: -32003, message: 'starting', data: { reason: 'NODE_NOT_READY' } }).exitCode).to.equal(ExitCode.NodeError);
    expect(rpcErrorToCli('x', { code: -32002, message: 'pruned' }).exitCode).to.equal(ExitCode.NotFound);
    expect(rpcErrorToCli('x', { code: -32601, message: 'nope' }).message).to.match(/does not support x/);
  });
});
