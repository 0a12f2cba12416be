/**
 * The replication endpoints of one region, driven by signed batches as a peer would
 * send them: what the applier records, answers and refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, signPeerRequest } from '../../src/peers/peer-auth.js';
import { BATCH_PATH } from '../../src/replication/wire.js';
import { call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';

describe('replication API of one region', () => {
  let fx: Fixture;
  let admin: string;

  beforeAll(async () => {
    fx = await createFixture();
    await fx.start(P);
    admin = await fx.token('admin', 'admin');
  });
  afterAll(async () => fx.close());

  async function batch(body: unknown) {
    const text = JSON.stringify(body);
    return call(fx.url(P), 'POST', BATCH_PATH, {
      body: text,
      headers: {
        'content-type': 'application/json',
        ...signPeerRequest(fx.config.secrets.replicationKey, {
          method: 'POST',
          path: BATCH_PATH,
          region: S,
          contentSha256: sha256Hex(text),
        }),
      },
    });
  }

  it('records a barrier that arrives in the first batch from an origin (issue 12, case 5)', async () => {
    const res = await batch({
      origin: S,
      originHead: 1,
      pendingSince: null,
      epoch: 1,
      entries: [{ seq: 1, createdAt: Date.now(), bytes: 40, change: { kind: 'barrier', appId: 'photos', epoch: 1 } }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.applied).toBe(1);
    const drain = await call(fx.url(P), 'GET', `/replication/drain?from=${S}&epoch=1`, { token: admin });
    expect(drain.body).toMatchObject({ drained: true, applied: 1 });
  });

  it('does not trust an inflated epoch in a batch: it only reads the register, and writes go on (issue 12, case 4)', async () => {
    const res = await batch({ origin: S, originHead: 1, pendingSince: null, epoch: 2 ** 52, entries: [] });
    expect(res.status).toBe(200);
    expect(res.body.epoch).toBe(1);
    for (let i = 0; i < 3; i++) {
      const write = await call(fx.url(P), 'POST', '/users', {
        token: admin,
        json: { username: `after-epoch-${i}`, password: 'a-password-long-enough' },
      });
      expect(write.status, JSON.stringify(write.body)).toBe(201);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await call(fx.url(P), 'GET', '/state/photos')).body).toMatchObject({ epoch: 1, activeRegion: P });
  });
});
