/**
 * Three region processes (`mraa up --regions 3`) and the witness: four voters, a
 * majority of three. Writes in the primary; a planned failover to the third region
 * (`--to eu-west-1`); writes there; failback; every region ends with every acknowledged
 * write (full mesh), and `mraa verify` is clean.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { image } from '../helpers/images.js';
import { allComments, checkExactlyOnce, postComments } from '../helpers/load.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const THIRD = 'eu-west-1';
const REGIONS = [P, 'ap-northeast-1', THIRD];

async function state(d: LocalDeployment, region: string) {
  return (await (await fetch(`${d.url[region]}/state/photos`)).json()) as {
    state: string;
    activeRegion: string;
    quorum?: boolean;
  };
}

describe('three regions', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('fails over to the third region and back, converging in every region with verify clean', async () => {
    d = await startDeployment({ regions: 3 });
    const dep = d;
    expect(dep.config.regions.map((r) => r.name)).toEqual(REGIONS);
    expect(dep.up.output()).toContain(THIRD);
    for (const r of REGIONS) expect(await state(dep, r)).toMatchObject({ activeRegion: P, quorum: true });

    const photo = await fetch(`${dep.url[P]}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'image/png' },
      body: await image('png', 48, 48),
    });
    expect(photo.status).toBe(201);
    const { photoId } = (await photo.json()) as { photoId: string };

    const before = await postComments(dep.url[P]!, dep.adminToken, photoId, 60, { prefix: 'primary' });
    expect(before.acked.length).toBe(60);

    const over = await dep.cli(['failover', '--to', THIRD]);
    expect(over.code, over.stdout + over.stderr).toBe(0);
    for (const r of REGIONS) {
      await waitFor(`${r} to see ${THIRD} take writes`, async () => (await state(dep, r)).activeRegion === THIRD);
    }
    expect(await state(dep, THIRD)).toMatchObject({ state: 'failover', activeRegion: THIRD });
    // The old writer and the other secondary refuse writes and point at the third region.
    for (const r of [P, 'ap-northeast-1']) {
      const refused = await fetch(`${dep.url[r]}/comments/${photoId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'not here' }),
      });
      expect(refused.status, r).toBe(421);
    }
    const during = await postComments(dep.url[THIRD]!, dep.adminToken, photoId, 60, { prefix: 'third' });
    expect(during.acked.length).toBe(60);

    const back = await dep.cli(['failback']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await state(dep, P)).toMatchObject({ state: 'active', activeRegion: P });
    const after = await postComments(dep.url[P]!, dep.adminToken, photoId, 60, { prefix: 'again' });
    expect(after.acked.length).toBe(60);

    const acked = [...before.acked, ...during.acked, ...after.acked];
    for (const r of REGIONS) {
      await waitFor(
        `every acknowledged write in ${r}`,
        async () => (await allComments(dep.url[r]!, dep.adminToken, photoId)).length >= acked.length,
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      const { missing, duplicated } = checkExactlyOnce(await allComments(dep.url[r]!, dep.adminToken, photoId), acked);
      expect(missing, r).toEqual([]);
      expect(duplicated, r).toEqual([]);
    }

    const verify = await dep.cli(['verify', '--wait', '60']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    for (const r of REGIONS) expect(verify.stdout).toContain(r);

    const status = await dep.cli(['status']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
  });
});
