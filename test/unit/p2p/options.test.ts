import { expect } from 'chai';
import {
  BlocksStatus,
  blocksProtocol,
  decodeRangeRequest,
  decodeStatus,
  defaultP2POptions,
  encodeRangeRequest,
  encodeStatus,
  messageId,
  P2PError,
  P2PErrorCode,
  rangeProblem,
  resolveP2POptions,
  statusProtocol,
  Topic,
  topicName,
} from '../../../p2p/index.js';

const PEER = '12D3KooWDy6b1CoAKPJdkyktEDdFEEUqo86cURgLc8U7775rSGjS';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function badField(opts: Parameters<typeof resolveP2POptions>[0]): string | undefined {
  try {
    resolveP2POptions(opts);
    return undefined;
  } catch (e) {
    expect(e).to.be.instanceOf(P2PError);
    expect((e as P2PError).code).to.equal(P2PErrorCode.BadOptions);
    return (e as P2PError).context.field as string;
  }
}

describe('p2p options and wire format', () => {
  it('has the documented defaults and merges topic caps', () => {
    expect(defaultP2POptions.listen).to.deep.equal(['/ip4/0.0.0.0/tcp/26656']);
    expect(defaultP2POptions.maxConnections).to.equal(50);
    expect(defaultP2POptions.admission).to.equal('permissioned');
    expect(defaultP2POptions.allowPeers).to.deep.equal([]);
    const o = resolveP2POptions({ chainId: 'c', topicMaxBytes: { transactions: 1000 } });
    expect(o.topicMaxBytes).to.deep.equal({ transactions: 1000, consensus: 4 * 1024 * 1024, blocks: 16 * 1024 });
    expect(o.bootstrap).to.deep.equal([]);
  });

  it('refuses malformed options, naming the field', () => {
    expect(badField({ chainId: 'has space' })).to.equal('chainId');
    expect(badField({ chainId: 'c', listen: ['not-a-multiaddr'] })).to.equal('listen[0]');
    expect(badField({ chainId: 'c', bootstrap: ['/ip4/10.0.0.1/tcp/26656'] })).to.equal('bootstrap[0]');
    expect(badField({ chainId: 'c', bootstrap: [`/ip4/10.0.0.1/tcp/26656/p2p/${PEER}`, '/ip4/10.0.0.1/tcp/1/p2p/QmNotAPeer'] })).to.equal('bootstrap[1]');
    expect(badField({ chainId: 'c', maxConnections: 0 })).to.equal('maxConnections');
    expect(badField({ chainId: 'c', topicMaxBytes: { consensus: -1 } })).to.equal('topicMaxBytes.consensus');
    expect(badField({ chainId: 'c', graylistThreshold: 5 })).to.equal('graylistThreshold');
    expect(badField({ chainId: 'c', invalidMessageWeight: 1 })).to.equal('invalidMessageWeight');
    expect(badField({ chainId: 'c', bootstrap: [`/dns/val-2.example.org/tcp/26656/p2p/${PEER}`] })).to.equal(undefined);
    expect(badField({ chainId: 'c', admission: 'closed' as 'open' })).to.equal('admission');
    expect(badField({ chainId: 'c', allowPeers: [PEER, 'QmNotAPeer'] })).to.equal('allowPeers[1]');
    expect(badField({ chainId: 'c', admission: 'open', allowPeers: [PEER] })).to.equal(undefined);
  });

  it('namespaces topics and protocols by chain id', () => {
    expect(topicName('main-1', Topic.Consensus)).to.equal('/metanode/main-1/consensus/1');
    expect(blocksProtocol('main-1')).to.equal('/metanode/main-1/blocks/1');
    expect(statusProtocol('main-1')).to.equal('/metanode/main-1/status/1');
  });

  it('content-addresses messages per topic', () => {
    const m = (topic: string, data: number[]) => messageId({ type: 'unsigned', topic, data: new Uint8Array(data) });
    expect(hex(m('t', [1, 2]))).to.equal(hex(m('t', [1, 2])));
    expect(hex(m('t', [1, 2]))).to.not.equal(hex(m('u', [1, 2])));
    expect(hex(m('t', [1, 2]))).to.not.equal(hex(m('t', [1, 3])));
    expect(m('t', [])).to.have.length(32);
  });

  it('encodes requests and status as RLP (golden vectors) and decodes strictly', () => {
    expect(hex(encodeRangeRequest(1, 64))).to.equal('c20140');
    expect(hex(encodeRangeRequest(0, 300))).to.equal('c4' + '80' + '82012c');
    expect(decodeRangeRequest(Buffer.from('c48082012c', 'hex'))).to.deep.equal({ from: 0, to: 300 });
    expect(() => decodeRangeRequest(Buffer.from('c20001', 'hex'))).to.throw(); // non-canonical zero
    expect(() => decodeRangeRequest(Buffer.from('c3010203', 'hex'))).to.throw(); // three fields
    expect(hex(encodeStatus({ height: 42, chainId: 'ab' }))).to.equal('c42a826162');
    expect(decodeStatus(encodeStatus({ height: 7, chainId: 'main-1' }))).to.deep.equal({ height: 7, chainId: 'main-1' });
    expect(BlocksStatus).to.deep.equal({ Ok: 0, BadRequest: 1, Unavailable: 2 });
  });

  it('checks block ranges', () => {
    expect(rangeProblem(0, 63, 64)).to.equal(undefined);
    expect(rangeProblem(0, 64, 64)).to.match(/exceeds/);
    expect(rangeProblem(5, 4, 64)).to.match(/below/);
    expect(rangeProblem(-1, 4, 64)).to.match(/non-negative/);
    expect(rangeProblem(1.5, 4, 64)).to.match(/non-negative/);
  });
});
