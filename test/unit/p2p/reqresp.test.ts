import { expect } from 'chai';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { lpStream } from 'it-length-prefixed-stream';
import { createLibp2p } from 'libp2p';
import { blocksProtocol, P2PError, P2PErrorCode, type P2PNetwork } from '../../../p2p/index.js';
import { CHAIN, connectedTo, makeNode, waitFor } from './helpers.js';

const KiB = 1024;
const block = (h: number, size = 8) => new Uint8Array(size).fill(h & 0xff);

async function failure(p: Promise<unknown>): Promise<P2PError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a P2PError').to.be.instanceOf(P2PError);
  return e as P2PError;
}

describe('p2p request/response', function () {
  this.timeout(30_000);
  // a: serves heights 0..100 (blocks of 8 bytes, or 600 KiB at heights >= 1000); answers at most 1 MiB.
  // b: asks for up to 128 blocks per request; accepts answers up to 16 MiB; short timeout.
  let a: P2PNetwork;
  let b: P2PNetwork;
  let raw: Libp2p | undefined;

  before(async () => {
    a = await makeNode({ maxResponseBytes: 1024 * KiB });
    await a.start();
    b = await makeNode({ bootstrap: a.addresses(), maxBlocksPerRequest: 128, requestTimeoutMs: 1_000 });
    await b.start();
    const provider = async (from: number, to: number) => {
      if (from === 666) throw new Error('disk on fire');
      if (from === 777) return new Promise<Uint8Array[]>(() => undefined);
      const out: Uint8Array[] = [];
      for (let h = from; h <= to && (h <= 100 || h >= 1000); h++) out.push(block(h, h >= 1000 ? 600 * KiB : 8));
      return out;
    };
    a.serveBlocks(provider);
    b.serveBlocks(provider);
    a.serveStatus(() => ({ height: 42, chainId: CHAIN }));
    await waitFor(() => connectedTo(b, a), 'b connected to a');
  });

  after(async () => {
    await raw?.stop();
    await Promise.all([a.stop(), b.stop()]);
  });

  it('serves a block range in order', async () => {
    const blocks = await b.requestBlocks(a.peerId, 5, 9);
    expect(blocks.map((x) => x[0])).to.deep.equal([5, 6, 7, 8, 9]);
    expect(blocks.every((x) => x.length === 8)).to.equal(true);
  });

  it('returns only the blocks the peer has', async () => {
    const blocks = await b.requestBlocks(a.peerId, 98, 110);
    expect(blocks.map((x) => x[0])).to.deep.equal([98, 99, 100]);
  });

  it('refuses reversed, negative and over-long ranges before asking', async () => {
    expect((await failure(b.requestBlocks(a.peerId, 9, 5))).code).to.equal(P2PErrorCode.InvalidRange);
    expect((await failure(b.requestBlocks(a.peerId, -1, 5))).code).to.equal(P2PErrorCode.InvalidRange);
    expect((await failure(a.requestBlocks(b.peerId, 0, 64))).code).to.equal(P2PErrorCode.InvalidRange);
  });

  it('gets a refusal from a server whose range limit is lower', async () => {
    const e = await failure(b.requestBlocks(a.peerId, 0, 99));
    expect(e.code).to.equal(P2PErrorCode.RequestFailed);
    expect(e.message).to.match(/refused the range/);
  });

  it('truncates answers at the server size cap, and rejects answers above the client cap', async () => {
    // a's cap is 1 MiB: of three 600 KiB blocks it sends one.
    const served = await b.requestBlocks(a.peerId, 1000, 1002);
    expect(served.map((x) => x.length)).to.deep.equal([600 * KiB]);
    // b sends all three (1.8 MiB < 16 MiB); a refuses to take more than 1 MiB.
    const e = await failure(a.requestBlocks(b.peerId, 1000, 1002));
    expect(e.code).to.equal(P2PErrorCode.BadResponse);
  });

  it('reports provider failures and timeouts', async () => {
    expect((await failure(b.requestBlocks(a.peerId, 666, 667))).code).to.equal(P2PErrorCode.RequestFailed);
    const started = Date.now();
    expect((await failure(b.requestBlocks(a.peerId, 777, 778))).code).to.equal(P2PErrorCode.Timeout);
    expect(Date.now() - started).to.be.within(900, 2_000);
  });

  it('answers status requests and records the height on the peer list', async () => {
    expect(await b.requestStatus(a.peerId)).to.deep.equal({ height: 42, chainId: CHAIN });
    expect(b.peers().find((p) => p.id === a.peerId)?.height).to.equal(42);
    // b serves no status: the stream is reset.
    expect((await failure(a.requestStatus(b.peerId))).code).to.equal(P2PErrorCode.RequestFailed);
  });

  it('rejects bad peer ids', async () => {
    expect((await failure(b.requestStatus('not-a-peer'))).code).to.equal(P2PErrorCode.BadPeerId);
  });

  it('resets the stream on a malformed or oversized request and keeps serving', async () => {
    raw = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    const target = multiaddr(a.addresses()[0]!);
    for (const payload of [new Uint8Array([0xff, 0x00]), new Uint8Array([0xc2, 0x05]), new Uint8Array(1000).fill(0xc0)]) {
      const stream = await raw.dialProtocol(target, blocksProtocol(CHAIN));
      const lp = lpStream(stream);
      await lp.write(payload);
      const err = await lp.read({ signal: AbortSignal.timeout(2_000) }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, `answer to ${Buffer.from(payload.subarray(0, 4)).toString('hex')}`).to.be.instanceOf(Error);
      expect(err!.name).to.not.equal('TimeoutError');
    }
    expect((await b.requestBlocks(a.peerId, 1, 2)).map((x) => x[0])).to.deep.equal([1, 2]);
  });
});
