import { gossipsub, type GossipsubOpts } from '@chainsafe/libp2p-gossipsub';
import { createTopicScoreParams, type TopicScoreParams } from '@chainsafe/libp2p-gossipsub/score';
import { StrictNoSign, type Message } from '@libp2p/interface';
import { createHash } from 'node:crypto';
import { Topic } from './network.js';
import type { P2POptions } from './options.js';

/** Gossipsub topic of `topic` on chain `chainId`: /metanode/<chainId>/<topic>/1. */
export function topicName(chainId: string, topic: Topic): string {
  return `/metanode/${chainId}/${topic}/1`;
}

export function blocksProtocol(chainId: string): string {
  return `/metanode/${chainId}/blocks/1`;
}

export function statusProtocol(chainId: string): string {
  return `/metanode/${chainId}/status/1`;
}

/**
 * Message id = sha256(topic || 0x00 || data): messages are content-addressed (not signed by the
 * libp2p key; consensus messages carry their own validator signatures), so the same bytes
 * published by two nodes are one message.
 */
export function messageId(msg: Message): Uint8Array {
  // node:crypto: messages run to megabytes (proposals carry their block), where native SHA-256 is
  // an order of magnitude faster than a JavaScript one.
  return new Uint8Array(createHash('sha256').update(msg.topic).update(ZERO).update(msg.data).digest());
}
const ZERO = Uint8Array.of(0);

/**
 * Gossipsub tuned for a small, fully connected validator set: flood publishing, no eager
 * forwarding by default (see P2POptions.meshD), lazy gossip to repair what a broken link lost,
 * and scoring that only punishes invalid messages and protocol misbehaviour (no
 * delivery-rate penalties, which misfire when traffic is sparse; no IP colocation penalty, since
 * validators may share a NAT or, in tests, a host).
 */
export function gossipsubService(o: P2POptions) {
  const topics: Record<string, TopicScoreParams> = {};
  for (const t of Object.values(Topic)) {
    topics[topicName(o.chainId, t)] = createTopicScoreParams({
      topicWeight: 1,
      timeInMeshWeight: 0.01,
      timeInMeshQuantum: 1_000,
      timeInMeshCap: 300,
      firstMessageDeliveriesWeight: 0.5,
      firstMessageDeliveriesDecay: 0.9,
      firstMessageDeliveriesCap: 10,
      meshMessageDeliveriesWeight: 0,
      meshFailurePenaltyWeight: 0,
      invalidMessageDeliveriesWeight: o.invalidMessageWeight,
      invalidMessageDeliveriesDecay: 0.9,
    });
  }
  const maxTopicBytes = Math.max(...Object.values(o.topicMaxBytes));
  const init: Partial<GossipsubOpts> = {
    emitSelf: false,
    globalSignaturePolicy: StrictNoSign,
    msgIdFn: messageId,
    floodPublish: true,
    fallbackToFloodsub: false,
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    doPX: false,
    D: o.meshD,
    Dlo: o.meshDlo,
    Dhi: o.meshDhi,
    Dout: Math.min(2, Math.floor(o.meshD / 2)),
    Dlazy: o.lazyPeers,
    heartbeatInterval: o.heartbeatIntervalMs,
    allowedTopics: Object.values(Topic).map((t) => topicName(o.chainId, t)),
    maxInboundDataLength: maxTopicBytes + 64 * 1024,
    scoreParams: {
      topics,
      topicScoreCap: 10,
      IPColocationFactorWeight: 0,
      behaviourPenaltyWeight: -1,
      behaviourPenaltyDecay: 0.9,
      decayInterval: 1_000,
      retainScore: 10 * 60_000,
    },
    scoreThresholds: { gossipThreshold: o.gossipThreshold, publishThreshold: o.publishThreshold, graylistThreshold: o.graylistThreshold },
  };
  return gossipsub(init);
}
