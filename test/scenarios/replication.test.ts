/**
 * Replication between real region processes: lag, crashes of either side mid-stream,
 * a partition by a fault-injecting proxy, conflicting writes under two epochs, and
 * forged inter-region requests. After each: `mraa verify` clean, every acknowledged
 * write present exactly once.
 */
import type { NonSharedBuffer } from 'node:buffer';
import { afterEach, describe, expect, it } from 'vitest';
import { image } from '../helpers/images.js';
import { allComments, checkExactlyOnce, postComments } from '../helpers/load.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';

async function uploadPhoto(
  url: string,
  token: string,
  body: NonSharedBuffer,
  type = 'image/png',
): Promise<{ status: number; photoId?: string }> {
  const res = await fetch(`${url}/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body,
  });
  const json = (await res.json()) as { photoId?: string };
  return { status: res.status, ...(json.photoId ? { photoId: json.photoId } : {}) };
}

async function status(d: LocalDeployment, region: string) {
  const res = await fetch(`${d.url[region]}/status`, { headers: { authorization: `Bearer ${d.adminToken}` } });
  return (await res.json()) as {
    log: { head: number; tail: number; entries: number };
    peers: Array<{ backlog: { entries: number }; ackedSeq: number; connected: boolean }>;
    origins: Array<{ name: string; appliedSeq: number }>;
  };
}

async function expectConverged(
  d: LocalDeployment,
  photoId: string,
  acked: Array<{ commentId: string; message: string }>,
) {
  const verify = await d.cli(['verify', '--wait', '60']);
  expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  expect(verify.stdout).toContain('Verified');
  for (const region of [P, S]) {
    const present = await allComments(d.url[region]!, d.adminToken, photoId);
    const { missing, duplicated } = checkExactlyOnce(present, acked);
    expect(missing, `${region} misses acknowledged writes`).toEqual([]);
    expect(duplicated, `${region} has duplicates`).toEqual([]);
  }
  // No gap: each region applied the other's whole log.
  for (const [from, to] of [
    [P, S],
    [S, P],
  ] as const) {
    const head = (await status(d, from)).log.head;
    const applied = (await status(d, to)).origins.find((o) => o.name === from)!.appliedSeq;
    expect(applied).toBe(head);
  }
}

describe('replication scenarios', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('makes a write in the primary readable in the secondary, and measures the lag', async () => {
    d = await startDeployment();
    const photo = await uploadPhoto(d.url[P]!, d.adminToken, await image('png', 32, 32));
    const lags: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [ack] = (
        await postComments(d.url[P]!, d.adminToken, photo.photoId!, 1, { concurrency: 1, prefix: `lag${i}` })
      ).acked;
      const acked = performance.now();
      await waitFor(
        'the write in the secondary',
        async () =>
          (await allComments(d!.url[S]!, d!.adminToken, photo.photoId!)).some((c) => c.commentId === ack!.commentId),
        {
          intervalMs: 1,
        },
      );
      lags.push(performance.now() - acked);
    }
    lags.sort((a, b) => a - b);
    console.log(
      `replication lag measured by polling the secondary (20 writes): median ${lags[10]!.toFixed(1)} ms, max ${lags[19]!.toFixed(1)} ms`,
    );
    expect(lags.length).toBe(20);
  });

  it('converges after the secondary is SIGKILLed while 1,000 writes and 20 objects stream in', async () => {
    d = await startDeployment();
    const dep = d;
    const photo = await uploadPhoto(dep.url[P]!, dep.adminToken, await image('png', 40, 40));
    const load = postComments(dep.url[P]!, dep.adminToken, photo.photoId!, 1000, { concurrency: 8 });
    const objects = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await uploadPhoto(dep.url[P]!, dep.adminToken, await image('png', 100 + i, 80 + i));
        if (r.photoId) ids.push(r.photoId);
      }
      return ids;
    })();
    await waitFor(
      'some writes to reach the secondary',
      async () => (await status(dep, S)).origins[0]!.appliedSeq > 100,
    );
    await dep.kill(S);
    const [result, photoIds] = await Promise.all([load, objects]);
    expect(result.acked.length).toBe(1000);
    expect(photoIds.length).toBe(20);
    expect((await status(dep, P)).peers[0]!.backlog.entries).toBeGreaterThan(0);
    await dep.restart(S);
    await expectConverged(dep, photo.photoId!, result.acked);
    for (const id of photoIds) {
      const res = await fetch(`${dep.url[S]}/photos/${id}/thumbnail`, {
        headers: { authorization: `Bearer ${dep.adminToken}` },
      });
      expect(res.status).toBe(200);
    }
  });

  it('converges with no duplicate and no gap after the primary is SIGKILLed while it ships a batch', async () => {
    d = await startDeployment();
    const dep = d;
    const photo = await uploadPhoto(dep.url[P]!, dep.adminToken, await image('png', 40, 40));
    let stop = false;
    const load = postComments(dep.url[P]!, dep.adminToken, photo.photoId!, 100_000, {
      concurrency: 8,
      stop: () => stop,
    });
    // Kill while the secondary is behind: a batch is in flight or about to be.
    await waitFor('a backlog to ship', async () => {
      const s = await status(dep, P);
      return s.log.head > 300 && s.peers[0]!.ackedSeq < s.log.head;
    });
    await dep.kill(P);
    stop = true;
    const result = await load;
    expect(result.acked.length).toBeGreaterThan(250);
    await dep.restart(P);
    await expectConverged(dep, photo.photoId!, result.acked);
  });

  it('converges after a partition that drops and delays traffic between the regions under writes', async () => {
    d = await startDeployment({ proxies: true });
    const dep = d;
    const photo = await uploadPhoto(dep.url[P]!, dep.adminToken, await image('png', 40, 40));
    let stop = false;
    const load = postComments(dep.url[P]!, dep.adminToken, photo.photoId!, 100_000, {
      concurrency: 4,
      stop: () => stop,
    });
    await waitFor('writes flowing', async () => (await status(dep, S)).origins[0]!.appliedSeq > 50);
    const toS = dep.proxies.get(S)!;
    const toP = dep.proxies.get(P)!;
    const partitionStart = Date.now();
    for (const [mode, delay] of [
      ['reset', 0],
      ['blackhole', 0],
      ['pass', 300],
      ['reset', 0],
      ['blackhole', 0],
    ] as const) {
      toS.set(mode, delay);
      toP.set(mode, delay);
      const until = Date.now() + 1200;
      await waitFor('this fault phase to pass', () => Date.now() >= until, { timeoutMs: 5000, intervalMs: 50 });
    }
    const during = await status(dep, P);
    expect(during.peers[0]!.backlog.entries).toBeGreaterThan(0);
    toS.set('pass', 0);
    toP.set('pass', 0);
    console.log(
      `partitioned for ${Date.now() - partitionStart} ms with ${during.peers[0]!.backlog.entries} entries waiting`,
    );
    stop = true;
    const result = await load;
    expect(result.failed).toBe(0);
    await expectConverged(dep, photo.photoId!, result.acked);
  });

  it('resolves the same item written in both regions under different epochs: the higher epoch wins everywhere, the loser is in conflicts', async () => {
    d = await startDeployment({ proxies: true });
    const dep = d;
    const admin = { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' };
    for (const p of dep.proxies.values()) p.set('reset');
    // In the primary (epoch 1) while cut off: zoe with one password.
    const inPrimary = await fetch(`${dep.url[P]}/users`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ username: 'zoe', password: 'primary-password' }),
    });
    expect(inPrimary.status).toBe(201);
    // The operator fails over by force to the secondary (epoch 2), which takes zoe too.
    const forced = await fetch(`${dep.url[S]}/state/photos`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ state: 'failover', force: true, reason: 'test' }),
    });
    expect(forced.status).toBe(200);
    const record = (await forced.json()) as { epoch: number };
    expect(record.epoch).toBe(2);
    const inSecondary = await fetch(`${dep.url[S]}/users`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ username: 'zoe', password: 'secondary-password' }),
    });
    expect(inSecondary.status).toBe(201);
    for (const p of dep.proxies.values()) p.set('pass');

    const verify = await dep.cli(['verify', '--wait', '60']);
    expect(verify.code, verify.stdout).toBe(0);
    for (const region of [P, S]) {
      const res = await fetch(`${dep.url[region]}/auth/signin`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ username: 'zoe', password: 'secondary-password' }),
      });
      expect(res.status, region).toBe(200);
      const state = (await (await fetch(`${dep.url[region]}/state/photos`)).json()) as {
        state: string;
        epoch: number;
        activeRegion: string;
      };
      expect(state).toMatchObject({ state: 'failover', epoch: 2, activeRegion: S });
    }
    // The old primary learned the higher epoch and refuses writes.
    const refused = await fetch(`${dep.url[P]}/users`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ username: 'yan' }),
    });
    expect(refused.status).toBe(421);
    const conflicts = await dep.cli(['conflicts', '--json']);
    const list = (
      JSON.parse(conflicts.stdout) as {
        conflicts: Array<{ name: string; key: string; loser: { version: { epoch: number; region: string } } }>;
      }
    ).conflicts;
    const zoe = list.filter((c) => c.name === 'users' && c.key === 'zoe');
    expect(zoe.length).toBeGreaterThan(0);
    expect(zoe[0]!.loser.version).toMatchObject({ epoch: 1, region: P });
  });

  it('keeps the change log bounded while every peer is up', async () => {
    d = await startDeployment();
    const photo = await uploadPhoto(d.url[P]!, d.adminToken, await image('png', 40, 40));
    const result = await postComments(d.url[P]!, d.adminToken, photo.photoId!, 3000, { concurrency: 8 });
    expect(result.acked.length).toBe(3000);
    const dep = d;
    // Once the secondary has acknowledged everything, the log is compacted to nothing.
    const s = await waitFor('the log to be compacted', async () => {
      const st = await status(dep, P);
      return st.log.entries === 0 ? st : undefined;
    });
    expect(s.log.head).toBeGreaterThan(3000);
    expect(s.log.tail).toBe(s.log.head + 1);
  });
});
