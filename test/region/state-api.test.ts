/**
 * The routing layer's HTTP API in one region: reads, transitions and their refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';

describe('state API', () => {
  let fx: Fixture;
  let primary: string;
  let admin: string;
  let user: string;

  beforeAll(async () => {
    fx = await createFixture();
    await fx.start('us-east-1');
    primary = fx.url('us-east-1');
    admin = await fx.token('admin', 'admin');
    user = await fx.token('alice', 'user');
  });
  afterAll(async () => fx.close());

  it('serves the state record with the answering region', async () => {
    const res = await call(primary, 'GET', '/state/photos');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      appId: 'photos',
      state: 'active',
      activeRegion: 'us-east-1',
      epoch: 1,
      region: 'us-east-1',
    });
  });

  it('answers 404 app_not_found for an unknown app', async () => {
    const res = await call(primary, 'GET', '/state/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('app_not_found');
  });

  it('refuses a transition without a token (401) and from a non-admin (403)', async () => {
    const anon = await call(primary, 'PUT', '/state/photos', { json: { state: 'fenced' } });
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe('unauthenticated');
    const forged = await call(primary, 'PUT', '/state/photos', {
      json: { state: 'fenced' },
      token: `${admin.slice(0, -4)}AAAA`,
    });
    expect(forged.status).toBe(401);
    const notAdmin = await call(primary, 'PUT', '/state/photos', { json: { state: 'fenced' }, token: user });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.code).toBe('forbidden');
    expect((await call(primary, 'GET', '/state/photos')).body.state).toBe('active');
  });

  it('refuses an invalid state with 400 naming the valid ones', async () => {
    const res = await call(primary, 'PUT', '/state/photos', { json: { state: 'paused' }, token: admin });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    for (const s of ['active', 'fenced', 'failover']) expect(res.body.error.message).toContain(s);
  });

  it('refuses malformed JSON, unknown fields and wrong types with 400', async () => {
    const bad = await call(primary, 'PUT', '/state/photos', {
      body: '{"state":',
      headers: { 'content-type': 'application/json' },
      token: admin,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const extra = await call(primary, 'PUT', '/state/photos', { json: { state: 'fenced', evil: 1 }, token: admin });
    expect(extra.status).toBe(400);
    const wrongType = await call(primary, 'PUT', '/state/photos', {
      json: { state: 'fenced', force: 'yes' },
      token: admin,
    });
    expect(wrongType.status).toBe(400);
  });

  it('fences, refuses a second fence with 409, lifts, and bumps the epoch each time', async () => {
    const fenced = await call(primary, 'PUT', '/state/photos', {
      json: { state: 'fenced', reason: 'test' },
      token: admin,
    });
    expect(fenced.status).toBe(200);
    expect(fenced.body).toMatchObject({ state: 'fenced', activeRegion: 'us-east-1', epoch: 2, reason: 'test' });
    const again = await call(primary, 'PUT', '/state/photos', { json: { state: 'fenced' }, token: admin });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('illegal_transition');
    const lifted = await call(primary, 'PUT', '/state/photos', { json: { state: 'active' }, token: admin });
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({ state: 'active', epoch: 3 });
  });

  it('refuses active → failover without force (409 illegal_transition)', async () => {
    const res = await call(primary, 'PUT', '/state/photos', { json: { state: 'failover' }, token: admin });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('illegal_transition');
  });

  it('refuses a graceful switch the target has not drained (409 not_drained)', async () => {
    await call(primary, 'PUT', '/state/photos', { json: { state: 'fenced' }, token: admin });
    const res = await call(primary, 'PUT', '/state/photos', { json: { state: 'failover' }, token: admin });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_drained');
    expect(res.body.error).toHaveProperty('backlog');
    await call(primary, 'PUT', '/state/photos', { json: { state: 'active' }, token: admin });
  });

  it('serves liveness, readiness and metrics (loopback)', async () => {
    expect((await call(primary, 'GET', '/healthz')).body).toEqual({ status: 'ok', region: 'us-east-1' });
    expect((await call(primary, 'GET', '/readyz')).status).toBe(200);
    const metrics = await fetch(new URL('/metrics', primary));
    const text = await metrics.text();
    expect(text).toContain('mraa_state_epoch');
    expect(text).toContain('mraa_http_request_duration_seconds');
  });

  it('answers an unknown route with a 404 error body', async () => {
    const res = await call(primary, 'GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
