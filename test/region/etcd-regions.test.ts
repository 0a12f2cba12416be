/**
 * Two regions whose control plane is etcd (`controlPlane.kind: "etcd"`), three etcd
 * members started here on loopback: the state comes from etcd, the writer admits under
 * its etcd lease, fence and failover move writes, and with etcd's majority gone writes
 * stop with 503 no_quorum.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { type EtcdCluster, etcdAvailable, startEtcdCluster } from '../helpers/etcd-cluster.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';

describe.skipIf(!etcdAvailable())('regions on an etcd control plane', () => {
  let etcd: EtcdCluster;
  let fx: Fixture;
  let admin: string;

  beforeAll(async () => {
    etcd = await startEtcdCluster({ members: 3, heartbeatMs: 50, electionMs: 500 });
    fx = await createFixture((c) => ({
      ...c,
      controlPlane: {
        ...c.controlPlane,
        kind: 'etcd',
        witnesses: [],
        etcd: { endpoints: etcd.endpoints, prefix: '/mraa-regions' },
        leaseMs: 2000,
      },
    }));
    await fx.start(P);
    await fx.start(S);
    admin = await fx.token('admin', 'admin');
  }, 60_000);
  afterAll(async () => {
    await fx?.close();
    await etcd?.close();
  });

  const comment = (region: string) =>
    call(fx.url(region), 'POST', '/users', {
      token: admin,
      json: { username: `u${Math.random().toString(36).slice(2, 9)}` },
    });

  it('takes the first record from etcd and admits writes in the primary only', async () => {
    const state = await call(fx.url(S), 'GET', '/state/photos');
    expect(state.body).toMatchObject({ state: 'active', activeRegion: P, epoch: 1, quorum: true });
    expect((await comment(P)).status).toBe(201);
    expect((await comment(S)).status).toBe(421);
  });

  it('fences and fails over through etcd, epochs from the register', async () => {
    const fenced = await call(fx.url(P), 'PUT', '/state/photos', { token: admin, json: { state: 'fenced' } });
    expect(fenced.status).toBe(200);
    expect(fenced.body).toMatchObject({ state: 'fenced', epoch: 2 });
    expect((await comment(P)).status).toBe(503);
    await waitFor('the fence to reach the secondary', async () => {
      const res = await call(fx.url(S), 'GET', `/replication/drain?from=${P}&epoch=2&waitMs=500`, { token: admin });
      return res.body.drained === true;
    });
    const over = await call(fx.url(S), 'PUT', '/state/photos', { token: admin, json: { state: 'failover' } });
    expect(over.status, JSON.stringify(over.body)).toBe(200);
    expect(over.body).toMatchObject({ state: 'failover', activeRegion: S, epoch: 3 });
    expect((await comment(S)).status).toBe(201);
    await waitFor(
      'the primary to follow',
      async () => (await call(fx.url(P), 'GET', '/state/photos')).body.epoch === 3,
    );
    expect((await comment(P)).status).toBe(421);
  });

  it('stops writes with 503 no_quorum when etcd loses its majority, and resumes when a member returns', async () => {
    await etcd.kill(0);
    await etcd.kill(1);
    await waitFor('writes to stop', async () => (await comment(S)).status === 503, { timeoutMs: 10_000 });
    const refused = await comment(S);
    expect(refused.body.error.code).toBe('no_quorum');
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect((await call(fx.url(S), 'GET', '/state/photos')).status).toBe(200);
    await etcd.restart(0);
    await waitFor('writes to resume', async () => (await comment(S)).status === 201, { timeoutMs: 20_000 });
  });
});
