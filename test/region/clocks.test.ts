/**
 * Clocks in a region started in this process (DESIGN §5, issue 12 point 2): restarted
 * with its wall clock 5 s behind (the clockOffsetMs test hook), a region's uploads and
 * deletes still take effect, because its clock starts above the newest version on
 * disk; a local write that loses anyway is refused and lands in the conflicts table.
 */
import type { NonSharedBuffer } from 'node:buffer';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/core/errors.js';
import { formatHlc, parseHlc } from '../../src/core/hlc.js';
import type { Version } from '../../src/core/version.js';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { image } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';

async function upload(url: string, token: string, body: NonSharedBuffer): Promise<string> {
  const res = await fetch(`${url}/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
    body,
  });
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { photoId: string }).photoId;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (isDomainError(err)) return err.code;
    throw err;
  }
}

describe('region clocks', () => {
  let fx: Fixture;
  let url: string;
  let admin: string;

  beforeAll(async () => {
    fx = await createFixture();
    await fx.start(P);
    url = fx.url(P);
    admin = (await call(url, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } })).body
      .token;
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('restarted with the wall clock 5 s behind: an upload and a delete take effect, no conflict', async () => {
    const before = await upload(url, admin, await image('png', 40, 30));
    const newestBefore = fx.regions.get(P)!.storage.highestHlc()!;
    await fx.stop(P);
    const running = await fx.start(P, { clockOffsetMs: -5000 });
    // The restarted region takes the writer lease once the voters let the old one lapse.
    await waitFor('the writer lease', () => running.lease.admits(running.state.get(fx.config.appId)!.epoch));

    const after = await upload(url, admin, await image('png', 50, 20));
    const served = await fetch(`${url}/photos/${after}/image`, { headers: { authorization: `Bearer ${admin}` } });
    expect(served.status).toBe(200);
    const head = running.storage.objects.latestVersion('photos', `originals/${after}`)!;
    expect(head.version.hlc > newestBefore).toBe(true);

    expect((await call(url, 'DELETE', `/photos/${before}`, { token: admin })).status).toBe(204);
    for (const kind of ['image', 'thumbnail']) {
      const res = await fetch(`${url}/photos/${before}/${kind}`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status).toBe(404);
    }
    expect(running.storage.objects.latestVersion('photos', `originals/${before}`)?.deleteMarker).toBe(true);
    expect((await call(url, 'GET', `/photos/${before}`, { token: admin })).status).toBe(404);
    expect((await call(url, 'GET', '/replication/conflicts', { token: admin })).body.conflicts).toEqual([]);
  });

  it('records a local write that loses to a newer stored version in the conflicts table', async () => {
    const running = fx.regions.get(P)!;
    const photoId = await upload(url, admin, await image('png', 30, 30));
    const key = `originals/${photoId}`;
    const current = running.storage.objects.latestVersion('photos', key)!;
    const older: Version = {
      epoch: current.version.epoch,
      hlc: formatHlc({ wall: parseHlc(current.version.hlc).wall - 5000, logical: 0 }),
      region: P,
    };
    const stamp = () => older;
    expect(await codeOf(running.storage.objects.put('photos', key, Readable.from([Buffer.from('x')]), { stamp }))).toBe(
      'conflict',
    );
    expect(await codeOf(running.storage.objects.delete('photos', key, { stamp }))).toBe('conflict');
    expect(
      await codeOf(
        running.storage.tables.put('photos', { ...(await running.storage.tables.get('photos', photoId)) }, { stamp }),
      ),
    ).toBe('conflict');
    const { conflicts } = (await call(url, 'GET', '/replication/conflicts', { token: admin })).body;
    expect(conflicts.map((c: any) => [c.kind, c.name, c.key, c.origin])).toEqual([
      ['object', 'photos', key, P],
      ['object', 'photos', key, P],
      ['item', 'photos', photoId, P],
    ]);
    expect(conflicts[0].winner.versionId).toBe(current.versionId);
    expect(conflicts[1].loser.deleteMarker).toBe(true);
    // Still served as before.
    const res = await fetch(`${url}/photos/${photoId}/image`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
  });
});
