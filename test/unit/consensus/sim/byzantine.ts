import { commitVoteMessage, toHex, type Block } from '../../../../chain/index.js';
import { MsgType, SignedMessage, decodeEnvelope, encodeEnvelope, type Envelope, type MessageBody } from '../../../../consensus/ibft/index.js';
import { Topic } from '../../../../p2p/network.js';
import type { Interceptor } from './network.js';
import type { SimNode } from './node.js';
import type { Prng } from './prng.js';

/** What the coalition agreed on for one (height, round): who is lied to, and with what. */
interface Split {
  /** Honest nodes that get the conflicting version of every coalition message of this round. */
  misled: Set<string>;
  /** Honest nodes that get nothing from the coalition this round. */
  ignored: Set<string>;
  /** Honest nodes that get both versions, the conflicting one first. */
  both: Set<string>;
  /** The conflicting block (when a coalition member proposes) or digest everyone in it votes for. */
  altBlock?: Block;
  altDigest: Uint8Array;
}

export interface EquivocationStats {
  proposals: number;
  prepares: number;
  commits: number;
  roundChanges: number;
}

/**
 * A coalition of byzantine validators (at most f) that run the real engine but equivocate on the
 * wire: for each (height, round) the honest nodes are split in four. One part gets, signed with
 * the member's real keys, a conflicting PROPOSAL (another valid block), PREPAREs and COMMITs (with
 * real BLS seals) for that other block, and ROUND-CHANGEs that hide the member's prepared
 * certificate; one part gets the honest messages; one part gets both (conflicting first); one
 * part gets nothing.
 */
export class ByzantineCoalition {
  private readonly splits = new Map<string, Split>();
  private readonly forged = new Map<string, Uint8Array>();
  readonly stats: EquivocationStats = { proposals: 0, prepares: 0, commits: 0, roundChanges: 0 };

  constructor(
    private readonly members: readonly SimNode[],
    private readonly honest: readonly string[],
    private readonly prng: Prng,
    private readonly chainId: string,
  ) {}

  has(id: string): boolean {
    return this.members.some((m) => m.id === id);
  }

  interceptor(member: SimNode): Interceptor {
    return (topic, data, to) => {
      if (topic !== Topic.Consensus || !this.honest.includes(to)) return [data];
      const env = decodeEnvelope(data);
      const { height, round } = env.message.body;
      const split = this.split(height, round);
      if (split.ignored.has(to)) return [];
      if (!split.misled.has(to) && !split.both.has(to)) return [data];
      const key = `${toHex(data)}`;
      let alt = this.forged.get(key);
      if (!alt) {
        alt = this.conflicting(member, env, split);
        this.forged.set(key, alt);
      }
      return split.both.has(to) ? [alt, data] : [alt];
    };
  }

  private split(height: number, round: number): Split {
    const k = `${height}/${round}`;
    let s = this.splits.get(k);
    if (!s) {
      // Each honest node is told the truth (35%), lied to (35%), told both (15%) or ignored (15%) this round.
      const misled = new Set<string>();
      const ignored = new Set<string>();
      const both = new Set<string>();
      for (const id of this.honest) {
        const x = this.prng.next();
        if (x < 0.35) misled.add(id);
        else if (x < 0.5) both.add(id);
        else if (x < 0.65) ignored.add(id);
      }
      const altDigest = new Uint8Array(32);
      for (let i = 0; i < 32; i++) altDigest[i] = this.prng.int(0, 255);
      s = { misled, ignored, both, altDigest };
      this.splits.set(k, s);
    }
    return s;
  }

  /** The same message, re-signed by the member over the coalition's conflicting value. */
  private conflicting(member: SimNode, env: Envelope, split: Split): Uint8Array {
    const m = env.message.body;
    const { key } = member;
    const sign = (body: MessageBody) => SignedMessage.sign(this.chainId, body, key.address, key.ed25519);
    switch (m.type) {
      case MsgType.Proposal: {
        const chain = member.life?.chain;
        if (!env.block || !chain || chain.height + 1 !== m.height) return encodeEnvelope(env);
        if (!split.altBlock) {
          // Another valid child of the same parent: same transactions, a later timestamp.
          const { executed } = chain.build(key.address, env.block.transactions, env.block.header.timestamp + 1 + this.prng.int(0, 999));
          split.altBlock = executed.block;
          split.altDigest = executed.block.hash();
        }
        this.stats.proposals++;
        return encodeEnvelope({ ...env, message: sign({ ...m, digest: split.altDigest }), block: split.altBlock });
      }
      case MsgType.Prepare:
        this.stats.prepares++;
        return encodeEnvelope({ message: sign({ ...m, digest: split.altDigest }), roundChanges: [], prepares: [] });
      case MsgType.Commit: {
        this.stats.commits++;
        const seal = key.bls.sign(commitVoteMessage(this.chainId, m.height, m.round, split.altDigest));
        return encodeEnvelope({ message: sign({ ...m, digest: split.altDigest, seal }), roundChanges: [], prepares: [] });
      }
      case MsgType.RoundChange:
        if (!m.prepared) return encodeEnvelope(env);
        this.stats.roundChanges++;
        return encodeEnvelope({ message: sign({ type: m.type, height: m.height, round: m.round }), roundChanges: [], prepares: [] });
    }
  }
}
