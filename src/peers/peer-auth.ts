/**
 * @module Authentication of inter-region requests and their responses: HMAC-SHA256
 * with the shared replication key over method, path, timestamp, nonce, sending region
 * and the body's SHA-256. A request outside the time window, or whose nonce was seen
 * before, is refused: a captured request cannot be replayed. The answer to a verified
 * request is signed over its status and body digest, bound to the request's nonce, so
 * nobody on the path can forge it (an `applied` or `durable` figure the sender would
 * compact on) nor replay one answer onto another request.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../core/errors.js';

export const PEER_HEADERS = {
  timestamp: 'x-mraa-timestamp',
  nonce: 'x-mraa-nonce',
  region: 'x-mraa-region',
  contentSha256: 'x-mraa-content-sha256',
  signature: 'x-mraa-signature',
  /** On a response: the signature over the request's nonce, the status and the body's digest. */
  responseSignature: 'x-mraa-response-signature',
} as const;

/** How far a request's timestamp may be from the receiver's clock. */
export const PEER_WINDOW_MS = 30_000;

export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function canonical(
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  region: string,
  contentSha256: string,
): string {
  return [method.toUpperCase(), path, timestamp, nonce, region, contentSha256].join('\n');
}

/** A response's signed text: its own prefix, so no request signature can pass for one. */
function canonicalResponse(nonce: string, status: number, contentSha256: string): string {
  return ['RESPONSE', nonce, String(status), contentSha256].join('\n');
}

function mac(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/**
 * The replication keys in force: the first signs, every one verifies. Rotating the key
 * without downtime: add the new key to `secrets.previousReplicationKeys` on every host
 * (all accept it, all still sign with the old one), then make it `replicationKey` with
 * the old one in `previousReplicationKeys`, then drop the old one (docs/security.md).
 */
export type KeyRing = readonly [string, ...string[]];

export function keyRing(key: string | KeyRing): KeyRing {
  return typeof key === 'string' ? [key] : key;
}

/** The ring of a configuration's `secrets`. */
export function replicationKeys(secrets: {
  replicationKey: string;
  previousReplicationKeys?: readonly string[];
}): KeyRing {
  return [secrets.replicationKey, ...(secrets.previousReplicationKeys ?? [])];
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Headers for a signed request. `contentSha256` is the body's digest (EMPTY_SHA256 when none). */
export function signPeerRequest(
  key: string,
  req: { method: string; path: string; region: string; contentSha256: string },
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  const nonce = randomBytes(16).toString('hex');
  return {
    [PEER_HEADERS.timestamp]: timestamp,
    [PEER_HEADERS.nonce]: nonce,
    [PEER_HEADERS.region]: req.region,
    [PEER_HEADERS.contentSha256]: req.contentSha256,
    [PEER_HEADERS.signature]: mac(
      key,
      canonical(req.method, req.path, timestamp, nonce, req.region, req.contentSha256),
    ),
  };
}

/** The signature header of the answer to the request that carried `nonce`. */
export function signPeerResponse(key: string, nonce: string, status: number, body: string | Buffer): string {
  return mac(key, canonicalResponse(nonce, status, sha256Hex(body)));
}

/** Whether `signature` is a replication key's signature of this answer to the request that carried `nonce`. */
export function isPeerResponseSigned(
  key: string | KeyRing,
  nonce: string,
  status: number,
  body: string | Buffer,
  signature: string | undefined,
): boolean {
  if (!signature) return false;
  return keyRing(key).some((k) => equalHex(signature, signPeerResponse(k, nonce, status, body)));
}

export interface VerifiedPeer {
  region: string;
  /** The digest the signature covers; the route checks the body against it. */
  contentSha256: string;
  /** The request's nonce: the answer's signature is bound to it. */
  nonce: string;
  /** The key the request was signed with: the answer is signed with the same one. */
  key: string;
}

export class PeerVerifier {
  private readonly seen = new Map<string, number>();
  private prunedAt = 0;

  private readonly keys: KeyRing;

  constructor(
    key: string | KeyRing,
    private readonly knownRegions: ReadonlySet<string>,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = keyRing(key);
  }

  /**
   * Verify a request's signature, window and nonce. `rawBody`, when the body was
   * buffered, must hash to the signed digest; a streamed body is checked by its route.
   */
  verify(req: {
    method: string;
    path: string;
    headers: Record<string, string | string[] | undefined>;
    rawBody?: string | Buffer;
  }): VerifiedPeer {
    const h = (name: string) => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const timestamp = h(PEER_HEADERS.timestamp);
    const nonce = h(PEER_HEADERS.nonce);
    const region = h(PEER_HEADERS.region);
    const contentSha256 = h(PEER_HEADERS.contentSha256);
    const signature = h(PEER_HEADERS.signature);
    if (!timestamp || !nonce || !region || !contentSha256 || !signature) {
      throw new DomainError('unauthenticated', 'inter-region request without a signature');
    }
    const text = canonical(req.method, req.path, timestamp, nonce, region, contentSha256);
    const key = this.keys.find((k) => equalHex(signature, mac(k, text)));
    if (!key) throw new DomainError('unauthenticated', 'inter-region request with a bad signature');
    const now = this.now();
    const ts = Number(timestamp);
    if (!Number.isFinite(ts) || Math.abs(now - ts) > PEER_WINDOW_MS) {
      throw new DomainError('unauthenticated', 'inter-region request outside the time window (check the clocks)');
    }
    if (!this.knownRegions.has(region)) throw new DomainError('unauthenticated', `unknown region "${region}"`);
    if (req.rawBody !== undefined && sha256Hex(req.rawBody) !== contentSha256) {
      throw new DomainError('unauthenticated', 'inter-region request whose body does not match its signature');
    }
    this.prune(now);
    if (this.seen.has(nonce)) throw new DomainError('unauthenticated', 'inter-region request replayed');
    this.seen.set(nonce, ts + PEER_WINDOW_MS);
    return { region, contentSha256, nonce, key };
  }

  /** The signature header for the answer to a request this verifier accepted. */
  signResponse(peer: VerifiedPeer, status: number, body: string | Buffer): string {
    return signPeerResponse(peer.key, peer.nonce, status, body);
  }

  /** Forget nonces whose timestamp has left the window: a replay of them fails the window check. */
  private prune(now: number): void {
    if (now - this.prunedAt < 1000) return;
    this.prunedAt = now;
    for (const [nonce, expiry] of this.seen) if (expiry < now) this.seen.delete(nonce);
  }
}
