import { describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.js';
import {
  isPeerResponseSigned,
  PEER_HEADERS,
  PEER_WINDOW_MS,
  PeerVerifier,
  replicationKeys,
  sha256Hex,
  signPeerRequest,
  signPeerResponse,
} from './peer-auth.js';

const KEY = 'k'.repeat(43);
const regions = new Set(['us-east-1', 'ap-northeast-1']);

function signed(body = '{"a":1}', now = 1_000_000, key = KEY) {
  const headers = signPeerRequest(
    key,
    { method: 'POST', path: '/internal/x', region: 'us-east-1', contentSha256: sha256Hex(body) },
    now,
  );
  return { method: 'POST', path: '/internal/x', headers, rawBody: body };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return err instanceof DomainError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('inter-region request signatures', () => {
  it('accepts a correctly signed request once', () => {
    const v = new PeerVerifier(KEY, regions, () => 1_000_000);
    const req = signed();
    expect(v.verify(req)).toEqual({
      region: 'us-east-1',
      contentSha256: sha256Hex('{"a":1}'),
      nonce: req.headers[PEER_HEADERS.nonce],
      key: KEY,
    });
    expect(refusal(() => v.verify(req))).toMatch(/^unauthenticated: .*replayed/);
  });

  it('refuses a request signed with another key', () => {
    const v = new PeerVerifier(KEY, regions, () => 1_000_000);
    expect(refusal(() => v.verify(signed('{}', 1_000_000, 'x'.repeat(43))))).toMatch(/bad signature/);
  });

  it('refuses a request without a signature', () => {
    const v = new PeerVerifier(KEY, regions, () => 1_000_000);
    expect(refusal(() => v.verify({ method: 'GET', path: '/internal/x', headers: {} }))).toMatch(/without a signature/);
  });

  it('refuses a stale or future timestamp', () => {
    const v = new PeerVerifier(KEY, regions, () => 1_000_000 + PEER_WINDOW_MS + 1);
    expect(refusal(() => v.verify(signed('{}', 1_000_000)))).toMatch(/time window/);
    const early = new PeerVerifier(KEY, regions, () => 1_000_000 - PEER_WINDOW_MS - 1);
    expect(refusal(() => early.verify(signed('{}', 1_000_000)))).toMatch(/time window/);
  });

  it('refuses a body swapped after signing, a changed path or method', () => {
    const v = new PeerVerifier(KEY, regions, () => 1_000_000);
    expect(refusal(() => v.verify({ ...signed(), rawBody: '{"a":2}' }))).toMatch(/does not match/);
    expect(refusal(() => v.verify({ ...signed(), path: '/internal/y' }))).toMatch(/bad signature/);
    expect(refusal(() => v.verify({ ...signed(), method: 'PUT' }))).toMatch(/bad signature/);
  });

  it('refuses a forged region name', () => {
    const v = new PeerVerifier(KEY, regions, () => 1_000_000);
    const req = signed();
    expect(
      refusal(() => v.verify({ ...req, headers: { ...req.headers, [PEER_HEADERS.region]: 'ap-northeast-1' } })),
    ).toMatch(/bad signature/);
  });

  it('refuses an unknown region even with the right key', () => {
    const v = new PeerVerifier(KEY, new Set(['ap-northeast-1']), () => 1_000_000);
    expect(refusal(() => v.verify(signed()))).toMatch(/unknown region/);
  });
});

describe('inter-region response signatures', () => {
  const body = '{"applied":5,"durable":5}';

  it('accepts the answer signed for the request that carried the nonce', () => {
    const signature = signPeerResponse(KEY, 'n1', 200, body);
    expect(isPeerResponseSigned(KEY, 'n1', 200, body, signature)).toBe(true);
  });

  it('refuses a forged body, status, nonce (an answer replayed onto another request), key or no signature', () => {
    const signature = signPeerResponse(KEY, 'n1', 200, body);
    expect(isPeerResponseSigned(KEY, 'n1', 200, '{"applied":9,"durable":9}', signature)).toBe(false);
    expect(isPeerResponseSigned(KEY, 'n1', 201, body, signature)).toBe(false);
    expect(isPeerResponseSigned(KEY, 'n2', 200, body, signature)).toBe(false);
    expect(isPeerResponseSigned('x'.repeat(43), 'n1', 200, body, signature)).toBe(false);
    expect(isPeerResponseSigned(KEY, 'n1', 200, body, undefined)).toBe(false);
  });

  it('is not a request signature: a signed request cannot pass for a signed answer', () => {
    const req = signed(body);
    const nonce = req.headers[PEER_HEADERS.nonce]!;
    expect(isPeerResponseSigned(KEY, nonce, 200, body, req.headers[PEER_HEADERS.signature])).toBe(false);
  });
});

describe('replication key rotation without downtime', () => {
  const OLD = 'o'.repeat(43);
  const NEW = 'n'.repeat(43);

  it('accepts requests signed with any key of the ring and answers with the key the request used', () => {
    const v = new PeerVerifier([NEW, OLD], regions, () => 1_000_000);
    const byOld = v.verify(signed('{}', 1_000_000, OLD));
    expect(byOld.key).toBe(OLD);
    const answer = v.signResponse(byOld, 200, '{"ok":true}');
    // A host still on the old key alone verifies that answer.
    expect(isPeerResponseSigned(OLD, byOld.nonce, 200, '{"ok":true}', answer)).toBe(true);
    expect(v.verify(signed('{}', 1_000_000, NEW)).key).toBe(NEW);
  });

  it('refuses a key outside the ring, and an answer signed by a key the client dropped', () => {
    const v = new PeerVerifier([NEW, OLD], regions, () => 1_000_000);
    expect(refusal(() => v.verify(signed('{}', 1_000_000, 'x'.repeat(43))))).toMatch(/bad signature/);
    const answer = signPeerResponse(OLD, 'n1', 200, '{}');
    expect(isPeerResponseSigned([NEW, OLD], 'n1', 200, '{}', answer)).toBe(true);
    expect(isPeerResponseSigned([NEW], 'n1', 200, '{}', answer)).toBe(false);
  });

  it('builds the ring from the configuration: the current key first', () => {
    expect(replicationKeys({ replicationKey: NEW, previousReplicationKeys: [OLD] })).toEqual([NEW, OLD]);
    expect(replicationKeys({ replicationKey: NEW })).toEqual([NEW]);
  });
});
