import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errors as joseErrors, jwtVerify } from 'jose';
import { RpcError, RpcErrorCode } from './errors.js';
import type { MethodGroup } from './options.js';

/** What a verified token lets its bearer call. */
export interface Grant {
  /** The token's `sub` claim (who), for the audit log. */
  subject: string;
  /** `*` (everything), a group (`admin`, `write`, …), `group:*`, or a method name. */
  permissions: ReadonlySet<string>;
}

/** The JWS algorithm a public key verifies: the key decides it, never the token's header. */
function algorithmOf(key: KeyObject, file: string): string {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa') return 'RS256';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(`${file} holds a ${type ?? 'unknown'} key; JSON-RPC tokens are verified with an Ed25519, P-256 or RSA public key`);
}

/**
 * JSON-RPC bearer tokens (Besu's JWT authentication is the anchor): a JWT signed by the
 * operator's private key, verified with the configured public key, whose `permissions` claim
 * names what it may call and whose `exp` (required) bounds its life. Verified tokens are
 * remembered until they expire, so a client sending the same token each time costs one
 * signature check.
 */
export class JwtAuth {
  private readonly verified = new Map<string, { grant: Grant; expiresAt: number }>();

  private constructor(
    private readonly key: KeyObject,
    private readonly algorithm: string,
    private readonly cacheSize = 1024,
  ) {}

  static async load(publicKeyFile: string): Promise<JwtAuth> {
    let key: KeyObject;
    try {
      key = createPublicKey(await readFile(publicKeyFile, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read the JSON-RPC token public key ${publicKeyFile}: ${(e as Error).message}`);
    }
    return new JwtAuth(key, algorithmOf(key, publicKeyFile));
  }

  /** The grant of a valid token; throws RpcError(Unauthorized) saying what is wrong with it. */
  async verify(token: string, nowMs = Date.now()): Promise<Grant> {
    const hit = this.verified.get(token);
    if (hit && hit.expiresAt > nowMs) return hit.grant;
    if (hit) this.verified.delete(token);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: [this.algorithm], requiredClaims: ['exp'], currentDate: new Date(nowMs) }));
    } catch (e) {
      const why =
        e instanceof joseErrors.JWTExpired
          ? 'it has expired'
          : e instanceof joseErrors.JWTClaimValidationFailed
            ? `claim ${e.claim} ${e.reason === 'missing' ? 'is missing' : 'is not valid now'}`
            : e instanceof joseErrors.JOSEAlgNotAllowed
              ? `it must be signed with ${this.algorithm}`
              : e instanceof joseErrors.JWSSignatureVerificationFailed
                ? 'its signature does not verify with the configured public key'
                : 'it is not a well-formed JWT';
      throw new RpcError(RpcErrorCode.Unauthorized, `unauthorized: the bearer token was refused (${why})`);
    }
    const perms = payload.permissions;
    if (!Array.isArray(perms) || !perms.every((p) => typeof p === 'string')) {
      throw new RpcError(RpcErrorCode.Unauthorized, 'unauthorized: the bearer token has no "permissions" claim (an array of strings such as ["write", "admin"])');
    }
    const grant: Grant = { subject: typeof payload.sub === 'string' ? payload.sub : '', permissions: new Set(perms as string[]) };
    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { grant, expiresAt: (payload.exp as number) * 1000 });
    return grant;
  }
}

/** Whether `grant` may call `method` of `group`. */
export function grants(grant: Grant, group: MethodGroup, method: string): boolean {
  const p = grant.permissions;
  return p.has('*') || p.has('*:*') || p.has(group) || p.has(`${group}:*`) || p.has(method);
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
