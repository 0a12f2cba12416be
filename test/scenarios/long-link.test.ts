/**
 * Replication over a long, narrow link (issue 14), with real processes: the regions
 * reach each other through fault proxies that delay every chunk 50 ms each way and cap
 * the link at 2 MiB/s. A 24 MiB photo's body travels beside the log: comments written
 * after it are visible in the peer while the body is still on its way (nothing later in
 * the log waits for it), the photo only once its body has arrived, and a failover's
 * drain waits for that body.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { image } from '../helpers/images.js';
import { allComments, checkExactlyOnce, postComments } from '../helpers/load.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const MiB = 1024 * 1024;

async function upload(d: LocalDeployment, body: Buffer<ArrayBuffer>, type: string): Promise<string> {
  const res = await fetch(`${d.url[P]}/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': type },
    body,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { photoId: string }).photoId;
}

async function admin<T>(d: LocalDeployment, region: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${d.url[region]}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
  });
  return (await res.json()) as T;
}

describe('replication over a long link', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('keeps comments moving while a large body crosses a slow link; the drain waits for the body', async () => {
    d = await startDeployment({ proxies: true });
    const dep = d;
    for (const p of dep.proxies.values()) p.setLink({ delayMs: 50, bandwidthBytesPerSec: 2 * MiB });
    const small = await upload(dep, await image('png', 48, 48), 'image/png');
    await waitFor('the small photo in the secondary', async () => {
      const res = await fetch(`${dep.url[S]}/photos/${small}/image`, {
        headers: { authorization: `Bearer ${dep.adminToken}` },
      });
      return res.status === 200;
    });

    // 24 MiB at 2 MiB/s: the body needs at least 12 s to cross.
    const big = Buffer.concat([await image('jpeg', 64, 64), randomBytes(24 * MiB)]);
    const bigId = await upload(dep, big, 'image/jpeg');
    const written = await postComments(dep.url[P]!, dep.adminToken, small, 40, { prefix: 'behind-the-body' });
    expect(written.acked).toHaveLength(40);
    await waitFor('the comments written after the upload in the secondary', async () => {
      const present = await allComments(dep.url[S]!, dep.adminToken, small);
      return checkExactlyOnce(present, written.acked).missing.length === 0;
    });
    // They did not wait behind the body, which is still on its way.
    const origin = (
      await admin<{ origins: Array<{ name: string; waitingForBodies: { entries: number } }> }>(dep, S, '/status')
    ).origins.find((o) => o.name === P)!;
    expect(origin.waitingForBodies.entries).toBeGreaterThanOrEqual(1);

    // Fence the writer: its barrier crosses quickly, but the drain waits for the body before it.
    const fenced = await admin<{ epoch: number }>(dep, P, '/state/photos', {
      method: 'PUT',
      body: JSON.stringify({ state: 'fenced' }),
    });
    const drain = await admin<{ drained: boolean; bodiesPending?: number }>(
      dep,
      S,
      `/replication/drain?from=${P}&epoch=${fenced.epoch}&waitMs=1000`,
    );
    expect(drain).toMatchObject({ drained: false, bodiesPending: 1 });
    const over = await dep.cli(['failover']);
    expect(over.code, over.stdout + over.stderr).toBe(0);
    // After the failover the new writer holds the body, byte for byte.
    const res = await fetch(`${dep.url[S]}/photos/${bigId}/image`, {
      headers: { authorization: `Bearer ${dep.adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(big)).toBe(true);
    const verify = await dep.cli(['verify', '--wait', '60']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
