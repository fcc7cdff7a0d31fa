/**
 * Wire format of the request/response protocols. Every message is one length-prefixed frame.
 *
 * blocks/1  request:  RLP [from, to]                      (inclusive range, at most maxBlocksPerRequest)
 *           response: RLP [status, count], then `count` frames, each one encoded block, in order
 * status/1  request:  nothing (opening the stream asks)
 *           response: RLP [height, chainId]
 */
import type { Stream } from '@libp2p/interface';
import { lpStream } from 'it-length-prefixed-stream';
import type { Logger } from 'pino';
import { asSafeUint, asString, decodeList, rlpDecode, rlpEncode, uintBytes, utf8 } from '../chain/index.js';
import { P2PError, P2PErrorCode } from './errors.js';
import type { BlockRangeProvider, StatusProvider } from './network.js';

export const BlocksStatus = { Ok: 0, BadRequest: 1, Unavailable: 2 } as const;

const MAX_REQUEST_BYTES = 64;
const MAX_HEADER_BYTES = 64;
const MAX_STATUS_BYTES = 1024;

export interface ReqRespLimits {
  maxBlocksPerRequest: number;
  maxResponseBytes: number;
  requestTimeoutMs: number;
}

export function encodeRangeRequest(from: number, to: number): Uint8Array {
  return rlpEncode([uintBytes(from), uintBytes(to)]);
}

export function decodeRangeRequest(bytes: Uint8Array): { from: number; to: number } {
  const [f, t] = decodeList(rlpDecode(bytes, 'block range request'), 2, 'block range request');
  return { from: asSafeUint(f, 'from'), to: asSafeUint(t, 'to') };
}

export function encodeStatus(s: { height: number; chainId: string }): Uint8Array {
  return rlpEncode([uintBytes(s.height), utf8(s.chainId)]);
}

export function decodeStatus(bytes: Uint8Array): { height: number; chainId: string } {
  const [h, c] = decodeList(rlpDecode(bytes, 'status'), 2, 'status');
  return { height: asSafeUint(h, 'height'), chainId: asString(c, 'chainId', 64) };
}

/** `p`, or a rejection when `signal` fires first (so a stuck provider cannot pin a stream open). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Why a block range is not acceptable, or undefined if it is. */
export function rangeProblem(from: number, to: number, max: number): string | undefined {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0) return 'from and to must be non-negative integers';
  if (to < from) return `to (${to}) is below from (${from})`;
  if (to - from + 1 > max) return `range of ${to - from + 1} blocks exceeds the limit of ${max}`;
  return undefined;
}

/** Answers one block range request; a malformed request gets the stream reset, never a throw. */
export async function serveBlocks(stream: Stream, provider: BlockRangeProvider | undefined, lim: ReqRespLimits, log: Logger): Promise<void> {
  const signal = AbortSignal.timeout(lim.requestTimeoutMs);
  const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES });
  try {
    let req: { from: number; to: number };
    try {
      req = decodeRangeRequest((await lp.read({ signal })).subarray());
    } catch (e) {
      log.debug({ err: (e as Error).message }, 'malformed block range request; resetting stream');
      stream.abort(e as Error);
      return;
    }
    const header = (status: number, count: number) => rlpEncode([uintBytes(status), uintBytes(count)]);
    if (rangeProblem(req.from, req.to, lim.maxBlocksPerRequest) !== undefined || provider === undefined) {
      await lp.write(header(provider === undefined ? BlocksStatus.Unavailable : BlocksStatus.BadRequest, 0), { signal });
      await stream.close({ signal });
      return;
    }
    let blocks: Uint8Array[];
    try {
      blocks = await untilAborted(provider(req.from, req.to), signal);
    } catch (e) {
      log.warn({ err: (e as Error).message, ...req }, 'block range provider failed');
      await lp.write(header(BlocksStatus.Unavailable, 0), { signal });
      await stream.close({ signal });
      return;
    }
    let count = 0;
    let total = 0;
    for (const b of blocks.slice(0, req.to - req.from + 1)) {
      if (total + b.length > lim.maxResponseBytes) break;
      total += b.length;
      count++;
    }
    await lp.writeV([header(BlocksStatus.Ok, count), ...blocks.slice(0, count)], { signal });
    await stream.close({ signal });
  } catch (e) {
    log.debug({ err: (e as Error).message }, 'block range response failed');
    stream.abort(e as Error);
  }
}

export async function serveStatus(stream: Stream, provider: StatusProvider | undefined, lim: ReqRespLimits, log: Logger): Promise<void> {
  const signal = AbortSignal.timeout(lim.requestTimeoutMs);
  try {
    if (provider === undefined) throw new P2PError(P2PErrorCode.RequestFailed, 'this node does not serve status');
    await lpStream(stream).write(encodeStatus(provider()), { signal });
    await stream.close({ signal });
  } catch (e) {
    log.debug({ err: (e as Error).message }, 'status response failed');
    stream.abort(e as Error);
  }
}

/** Turns a stream failure into a P2PError: Timeout if `signal` fired, BadResponse for protocol errors, else RequestFailed. */
export function requestError(e: unknown, signal: AbortSignal, peer: string, what: string): P2PError {
  if (e instanceof P2PError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if (signal.aborted) return new P2PError(P2PErrorCode.Timeout, `${what} to ${peer} timed out`, { peer });
  const name = (e as Error)?.name ?? '';
  if (/InvalidDataLength|InvalidMessageLength|ChainError/.test(name)) return new P2PError(P2PErrorCode.BadResponse, `${what} to ${peer}: malformed or oversized answer (${msg})`, { peer });
  return new P2PError(P2PErrorCode.RequestFailed, `${what} to ${peer} failed: ${msg}`, { peer });
}

/** Reads a block range response from `stream` (the request already written); checks count and size. */
export async function readBlocks(stream: Stream, from: number, to: number, lim: ReqRespLimits, signal: AbortSignal, peer: string): Promise<Uint8Array[]> {
  const lp = lpStream(stream, { maxDataLength: lim.maxResponseBytes });
  await lp.write(encodeRangeRequest(from, to), { signal });
  const headerBytes = (await lp.read({ signal })).subarray();
  if (headerBytes.length > MAX_HEADER_BYTES) throw new P2PError(P2PErrorCode.BadResponse, `block range response from ${peer} has an oversized header`, { peer });
  const [s, c] = decodeList(rlpDecode(headerBytes, 'block range header'), 2, 'block range header');
  const status = asSafeUint(s, 'status');
  const count = asSafeUint(c, 'count');
  if (status !== BlocksStatus.Ok) {
    const why = status === BlocksStatus.BadRequest ? 'refused the range as invalid' : 'cannot serve blocks';
    throw new P2PError(P2PErrorCode.RequestFailed, `peer ${peer} ${why} (status ${status}) for [${from}, ${to}]`, { peer, from, to, status });
  }
  if (count > to - from + 1) throw new P2PError(P2PErrorCode.BadResponse, `peer ${peer} announced ${count} blocks for a range of ${to - from + 1}`, { peer, count });
  const blocks: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const b = (await lp.read({ signal })).subarray();
    total += b.length;
    if (total > lim.maxResponseBytes) throw new P2PError(P2PErrorCode.BadResponse, `block range response from ${peer} exceeds ${lim.maxResponseBytes} bytes`, { peer, total });
    blocks.push(b);
  }
  await stream.close({ signal });
  return blocks;
}

export async function readStatus(stream: Stream, signal: AbortSignal): Promise<{ height: number; chainId: string }> {
  const status = decodeStatus((await lpStream(stream, { maxDataLength: MAX_STATUS_BYTES }).read({ signal })).subarray());
  await stream.close({ signal });
  return status;
}
