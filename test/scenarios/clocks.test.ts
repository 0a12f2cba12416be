/**
 * Clocks with real region processes (DESIGN §5, issue 12 point 2): the writer is killed
 * and started again with its wall clock 5 s behind (MRAA_CLOCK_OFFSET_MS, a test hook
 * read by `mraa region` and applied to the hybrid logical clock's wall clock only).
 * Its clock starts above the newest version on disk, so an upload (object PUTs) and a
 * delete (object delete markers) made then take effect in both regions, nothing lands
 * in the conflicts table, and `mraa verify` is clean.
 */
import type { NonSharedBuffer } from 'node:buffer';
import { afterEach, describe, expect, it } from 'vitest';
import { image } from '../helpers/images.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const CLOCK_BACK_MS = 5000;

describe('clocks', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('restarted with the wall clock 5 s behind, the writer still makes object PUT and DELETE take effect', async () => {
    d = await startDeployment();
    const dep = d;
    const auth = { authorization: `Bearer ${dep.adminToken}` };
    const upload = async (body: NonSharedBuffer) => {
      const res = await fetch(`${dep.url[P]}/photos`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'image/png' },
        body,
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return ((await res.json()) as { photoId: string }).photoId;
    };
    const fetchImage = async (region: string, photoId: string, kind = 'image') => {
      const res = await fetch(`${dep.url[region]}/photos/${photoId}/${kind}`, { headers: auth });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    };

    const oldPhoto = await upload(await image('png', 40, 40));
    await waitFor('the photo in the secondary', async () => (await fetchImage(S, oldPhoto)).status === 200);
    // The newest version on disk is stamped no earlier than this.
    const lastWriteAt = Date.now();

    await dep.kill(P);
    await dep.restart(P, { env: { MRAA_CLOCK_OFFSET_MS: String(-CLOCK_BACK_MS) } });

    const newBody = await image('png', 64, 48);
    const newPhoto = await upload(newBody);
    const deleted = await fetch(`${dep.url[P]}/photos/${oldPhoto}`, { method: 'DELETE', headers: auth });
    expect(deleted.status, await deleted.text()).toBe(204);
    // The restarted writer's wall clock was behind the newest version on disk for every
    // write above: without the seeded clock they would have been stamped older.
    expect(
      Date.now() - CLOCK_BACK_MS,
      'the restart took longer than the clock offset: the test proved nothing',
    ).toBeLessThan(lastWriteAt);

    for (const region of [P, S]) {
      await waitFor(`the delete in ${region}`, async () => (await fetchImage(region, oldPhoto)).status === 404);
      expect((await fetchImage(region, oldPhoto, 'thumbnail')).status).toBe(404);
      await waitFor(`the new photo in ${region}`, async () => (await fetchImage(region, newPhoto)).status === 200);
      expect((await fetchImage(region, newPhoto)).body.equals(newBody)).toBe(true);
      expect((await fetchImage(region, newPhoto, 'thumbnail')).status).toBe(200);
      const conflicts = await fetch(`${dep.url[region]}/replication/conflicts`, { headers: auth });
      expect(((await conflicts.json()) as { conflicts: unknown[] }).conflicts, region).toEqual([]);
    }
    const verify = await dep.cli(['verify', '--wait', '60']);
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });
});
