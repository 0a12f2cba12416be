/**
 * Failover and failback with real processes: planned under load with nothing lost,
 * ungraceful with stranded writes merged back, the drain check, and `mraa drill`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { image } from '../helpers/images.js';
import { allComments, checkExactlyOnce, postComments } from '../helpers/load.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';

async function newPhoto(d: LocalDeployment): Promise<string> {
  const res = await fetch(`${d.url[P]}/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'image/png' },
    body: await image('png', 48, 48),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { photoId: string }).photoId;
}

async function state(d: LocalDeployment, region: string) {
  return (await (await fetch(`${d.url[region]}/state/photos`)).json()) as {
    state: string;
    activeRegion: string;
    epoch: number;
  };
}

describe('failover scenarios', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('loses no acknowledged write in a planned failover and failback under a steady load', async () => {
    d = await startDeployment();
    const dep = d;
    const photoId = await newPhoto(dep);
    let stop = false;
    const load = postComments(dep.url[P]!, dep.adminToken, photoId, 1_000_000, {
      concurrency: 4,
      stop: () => stop,
      follow: true,
    });
    await waitFor('load', async () => (await allComments(dep.url[P]!, dep.adminToken, photoId)).length > 100);
    const over = await dep.cli(['failover']);
    expect(over.code, over.stdout + over.stderr).toBe(0);
    expect(await state(dep, S)).toMatchObject({ state: 'failover', activeRegion: S });
    await waitFor(
      'writes in the secondary',
      async () => (await allComments(dep.url[S]!, dep.adminToken, photoId)).length > 300,
    );
    const back = await dep.cli(['failback']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await state(dep, P)).toMatchObject({ state: 'active', activeRegion: P });
    await waitFor(
      'writes in the primary again',
      async () => (await allComments(dep.url[P]!, dep.adminToken, photoId)).length > 500,
    );
    stop = true;
    const result = await load;
    console.log(
      `planned failover + failback: ${result.acked.length} writes acknowledged, refused: ${JSON.stringify(Object.fromEntries(result.errors))}`,
    );
    // A steady load ran through both moves (how many depends on the machine's other load).
    expect(result.acked.length).toBeGreaterThan(300);
    // Refusals are only the ones a client is told to retry: no error of the server's own.
    for (const code of result.errors.keys()) expect(['fenced', 'not_active_region']).toContain(code);
    const verify = await dep.cli(['verify', '--wait', '60']);
    expect(verify.code, verify.stdout).toBe(0);
    for (const region of [P, S]) {
      const { missing, duplicated } = checkExactlyOnce(
        await allComments(dep.url[region]!, dep.adminToken, photoId),
        result.acked,
      );
      expect(missing, region).toEqual([]);
      expect(duplicated, region).toEqual([]);
    }
  });

  it('fails over ungracefully with the primary killed; the restarted primary refuses writes and its stranded writes arrive', async () => {
    d = await startDeployment({ proxies: true });
    const dep = d;
    const photoId = await newPhoto(dep);
    await waitFor(
      'the photo in the secondary',
      async () =>
        (await fetch(`${dep.url[S]}/photos/${photoId}`, { headers: { authorization: `Bearer ${dep.adminToken}` } })).ok,
    );
    // Cut replication, then write: these writes are acknowledged by the primary but not shipped.
    for (const p of dep.proxies.values()) p.set('reset');
    const stranded = await postComments(dep.url[P]!, dep.adminToken, photoId, 50, { prefix: 'stranded' });
    expect(stranded.acked.length).toBe(50);
    await dep.kill(P);
    const over = await dep.cli(['failover', '--ungraceful']);
    expect(over.code, over.stdout + over.stderr).toBe(0);
    expect(over.stdout).toContain('Possible loss');
    const after = await postComments(dep.url[S]!, dep.adminToken, photoId, 50, { prefix: 'after' });
    expect(after.acked.length).toBe(50);

    for (const p of dep.proxies.values()) p.set('pass');
    await dep.restart(P);
    const refused = await fetch(`${dep.url[P]}/comments/${photoId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'to the old primary' }),
    });
    expect(refused.status).toBe(421);
    expect(((await refused.json()) as { error: { activeRegion: string } }).error.activeRegion).toBe(S);

    const verify = await dep.cli(['verify', '--wait', '60']);
    expect(verify.code, verify.stdout).toBe(0);
    const inSecondary = await allComments(dep.url[S]!, dep.adminToken, photoId);
    const { missing, duplicated } = checkExactlyOnce(inSecondary, [...stranded.acked, ...after.acked]);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
  });

  it('refuses fenced → failover with 409 not_drained while the target lags', async () => {
    d = await startDeployment({ proxies: true });
    const dep = d;
    const photoId = await newPhoto(dep);
    for (const p of dep.proxies.values()) p.set('reset');
    await postComments(dep.url[P]!, dep.adminToken, photoId, 20, { prefix: 'unshipped' });
    const headers = { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' };
    expect(
      (await fetch(`${dep.url[P]}/state/photos`, { method: 'PUT', headers, body: JSON.stringify({ state: 'fenced' }) }))
        .status,
    ).toBe(200);
    const res = await fetch(`${dep.url[S]}/state/photos`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ state: 'failover' }),
    });
    // The secondary does not even know of the fence yet: it refuses as an illegal jump, or as not drained.
    expect(res.status).toBe(409);
    const viaPrimary = await fetch(`${dep.url[P]}/state/photos`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ state: 'failover' }),
    });
    expect(viaPrimary.status).toBe(409);
    const body = (await viaPrimary.json()) as { error: { code: string; backlog: unknown } };
    expect(body.error.code).toBe('not_drained');
    expect(body.error).toHaveProperty('backlog');
    // The CLI relies on the same check: it waits, then gives up and leaves the application fenced.
    const cli = await dep.cli(['failover', '--timeout', '2']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/left fenced/);
    expect(cli.stderr).toContain('mraa activate');
    expect((await state(dep, P)).state).toBe('fenced');
    // Once the link heals, the drain completes and the failover goes through.
    for (const p of dep.proxies.values()) p.set('pass');
    const ok = await dep.cli(['failover']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect((await allComments(dep.url[S]!, dep.adminToken, photoId)).length).toBe(20);
  });

  it('runs `mraa drill` to exit 0 with a report of measured numbers', async () => {
    d = await startDeployment();
    const drill = await d.cli(['drill', '--rate', '30', '--phase', '2']);
    expect(drill.code, drill.stdout + drill.stderr).toBe(0);
    const reportPath = drill.stdout.match(/Report: (\S+)\.md/)![1]!;
    const report = JSON.parse(await readFile(join(d.dir, `${reportPath}.json`), 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.rpo).toBe(0);
    expect(report.rtoMs).toBeGreaterThan(0);
    expect(report.rtoMs).toBeLessThan(30_000);
    expect(report.writes.acknowledged).toBeGreaterThan(100);
    expect(report.timeline.map((s: { step: string }) => s.step)).toEqual(
      expect.arrayContaining(['failover: fence', 'failover: drain', 'failover: switch', 'failback: switch']),
    );
    const md = await readFile(join(d.dir, `${reportPath}.md`), 'utf8');
    expect(md).toContain('RPO');
    const ungraceful = await d.cli(['drill', '--rate', '30', '--phase', '2', '--ungraceful']);
    expect(ungraceful.code, ungraceful.stdout + ungraceful.stderr).toBe(0);
    expect(ungraceful.stdout).toMatch(/RPO \(acknowledged writes lost\)\s+0/);
  });
});
