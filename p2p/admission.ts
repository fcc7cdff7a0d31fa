import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromEd25519PublicKey } from './keys.js';
import { AdmissionMode } from './options.js';

/** Why a peer may connect (several can hold at once). */
export interface PeerRoles {
  /** Its peer id is a validator's of the next height. */
  validator: boolean;
  /** In the configured `allowPeers`. */
  allowlisted: boolean;
  /** In the configured bootstrap list. */
  bootstrap: boolean;
  /** Added at runtime (addPeer), until removePeer. */
  added: boolean;
}

export interface AdmissionOptions {
  admission: AdmissionMode;
  allowPeers: readonly string[];
  bootstrap: readonly string[];
}

export interface AdmissionDeps {
  /**
   * Peer ids of the validator set at the node's next height, asked at every handshake (so the
   * admitted set follows validator set changes). Cheap: see validatorPeerIds.
   */
  validatorPeers?: () => ReadonlySet<string>;
}

/**
 * Who may be connected: in permissioned mode the validators (through deps), the configured
 * allowlist and bootstrap peers, and peers added at runtime; in open mode anyone.
 */
export class PeerAdmission {
  private readonly allowlist: ReadonlySet<string>;
  private readonly bootstrapIds: ReadonlySet<string>;
  private readonly added = new Set<string>();

  constructor(
    private readonly opts: AdmissionOptions,
    private readonly deps: AdmissionDeps = {},
  ) {
    this.allowlist = new Set(opts.allowPeers);
    this.bootstrapIds = new Set(opts.bootstrap.map((a) => multiaddr(a).getPeerId()).filter((id): id is string => id !== null));
  }

  get open(): boolean {
    return this.opts.admission === AdmissionMode.Open;
  }

  admits(peer: string): boolean {
    return this.open || this.bootstrapIds.has(peer) || this.allowlist.has(peer) || this.added.has(peer) || this.isValidator(peer);
  }

  roles(peer: string): PeerRoles {
    return { validator: this.isValidator(peer), allowlisted: this.allowlist.has(peer), bootstrap: this.bootstrapIds.has(peer), added: this.added.has(peer) };
  }

  /** Admits `peer` from now on (addPeer). */
  add(peer: string): void {
    this.added.add(peer);
  }

  /** Takes back a runtime admission; true if `peer` had one. */
  remove(peer: string): boolean {
    return this.added.delete(peer);
  }

  private isValidator(peer: string): boolean {
    const current = this.deps.validatorPeers;
    if (current === undefined) return false;
    try {
      return current().has(peer);
    } catch {
      return false; // the chain cannot say (closing): admit nobody on its account
    }
  }
}

/**
 * The peer ids of a validator set, as `validatorPeers` wants them: recomputed only when `current()`
 * returns another set object (the chain keeps one object per set), so a handshake costs a lookup.
 */
export function validatorPeerIds(current: () => { readonly validators: readonly { readonly publicKey: Uint8Array }[] }): () => ReadonlySet<string> {
  let last: object | undefined;
  let ids: ReadonlySet<string> = new Set();
  return () => {
    const set = current();
    if (set !== last) {
      ids = new Set(set.validators.map((v) => peerIdFromEd25519PublicKey(v.publicKey)));
      last = set;
    }
    return ids;
  };
}
