/**
 * Inter-region endpoints of a real region process refuse unauthenticated, forged,
 * stale and replayed requests with 401, and none of them changes anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHlc } from '../../src/core/hlc.js';
import { PEER_HEADERS, sha256Hex, signPeerRequest } from '../../src/peers/peer-auth.js';
import { BATCH_PATH } from '../../src/ports/peer-transport.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const LOG_ID = 'ab'.repeat(16);

describe('inter-region authentication', { timeout: 60_000 }, () => {
  let d: LocalDeployment;
  let key: string;
  let body: string;

  beforeAll(async () => {
    d = await startDeployment();
    key = d.config.secrets.replicationKey;
    // A batch that would create a user "intruder" in the primary, as if from the secondary.
    // In the log id the primary follows, right after what it applied: it would apply if authenticated.
    const { logId, applied } = await waitFor('the primary to follow a log id of the secondary', async () => {
      const a = await appliedFromS();
      return a.logId ? a : undefined;
    });
    body = JSON.stringify({
      origin: S,
      logId,
      originHead: applied + 1,
      pendingSince: null,
      epoch: 1,
      entries: [
        {
          seq: applied + 1,
          createdAt: Date.now(),
          bytes: 10,
          change: {
            kind: 'item',
            table: 'users',
            key: 'intruder',
            item: { username: 'intruder', role: 'admin', passwordHash: 'x', createdAt: '' },
            version: { epoch: 99, hlc: formatHlc({ wall: Date.now(), logical: 0 }), region: S },
          },
        },
      ],
    });
  });
  afterAll(async () => d.close());

  async function appliedFromS(): Promise<{ logId: string; applied: number }> {
    const res = await fetch(`${d.url[P]}/status`, { headers: { authorization: `Bearer ${d.adminToken}` } });
    const s = (await res.json()) as { origins: Array<{ name: string; logId: string; appliedSeq: number }> };
    const o = s.origins.find((x) => x.name === S)!;
    return { logId: o.logId, applied: o.appliedSeq };
  }

  async function post(headers: Record<string, string>, payload = body) {
    return fetch(`${d.url[P]}${BATCH_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: payload,
    });
  }

  async function intruderExists(): Promise<boolean> {
    const info = await fetch(`${d.url[P]}/internal/digest/table/users`, {
      headers: signPeerRequest(key, {
        method: 'GET',
        path: '/internal/digest/table/users',
        region: S,
        contentSha256: sha256Hex(''),
      }),
    });
    return Object.keys(((await info.json()) as { keys: Record<string, string> }).keys).includes('intruder');
  }

  it('refuses a request without a signature', async () => {
    const res = await post({});
    expect(res.status).toBe(401);
  });

  it('refuses a request signed with another key', async () => {
    const res = await post(
      signPeerRequest('not-the-key'.repeat(4), {
        method: 'POST',
        path: BATCH_PATH,
        region: S,
        contentSha256: sha256Hex(body),
      }),
    );
    expect(res.status).toBe(401);
  });

  it('refuses a body that is not the one signed', async () => {
    const signed = signPeerRequest(key, {
      method: 'POST',
      path: BATCH_PATH,
      region: S,
      contentSha256: sha256Hex('{}'),
    });
    const res = await post(signed);
    expect(res.status).toBe(401);
  });

  it('refuses a stale request (outside the time window)', async () => {
    const res = await post(
      signPeerRequest(
        key,
        { method: 'POST', path: BATCH_PATH, region: S, contentSha256: sha256Hex(body) },
        Date.now() - 120_000,
      ),
    );
    expect(res.status).toBe(401);
  });

  it('refuses a replayed request', async () => {
    const heartbeat = JSON.stringify({
      origin: S,
      logId: LOG_ID,
      originHead: 0,
      pendingSince: null,
      epoch: 1,
      entries: [],
    });
    const headers = signPeerRequest(key, {
      method: 'POST',
      path: BATCH_PATH,
      region: S,
      contentSha256: sha256Hex(heartbeat),
    });
    expect((await post(headers, heartbeat)).status).toBe(200);
    const replay = await post(headers, heartbeat);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { message: string } }).error.message).toMatch(/replayed/);
  });

  it('refuses a signature whose region header was changed', async () => {
    const headers = signPeerRequest(key, {
      method: 'POST',
      path: BATCH_PATH,
      region: S,
      contentSha256: sha256Hex(body),
    });
    const res = await post({ ...headers, [PEER_HEADERS.region]: P });
    expect(res.status).toBe(401);
  });

  it('refuses a batch whose origin is not a peer region (the operator signs as "operator")', async () => {
    const fake = body.replaceAll(`"origin":"${S}"`, '"origin":"operator"');
    const res = await post(
      signPeerRequest(key, { method: 'POST', path: BATCH_PATH, region: 'operator', contentSha256: sha256Hex(fake) }),
      fake,
    );
    expect(res.status).toBe(403);
  });

  it('changed nothing', async () => {
    expect(await intruderExists()).toBe(false);
    const verify = await d.cli(['verify']);
    expect(verify.code, verify.stdout).toBe(0);
  });
});
