/**
 * Rebuild and repair with real processes (issue 12, DESIGN §5):
 *
 * - a peer down past the retention cap (set low): the writer keeps answering 201, marks
 *   it as needing a rebuild; `mraa region --region S --rebuild` rebuilds it from the
 *   writer's snapshot (the writer's link ships again from the snapshot's position), and
 *   `mraa verify` is clean;
 * - a region started on an empty data directory rebuilds itself from the writer; killed
 *   (SIGKILL) in the middle of its bodies, it resumes when started again, with the
 *   bodies it had;
 * - a difference made on purpose in a stopped region's database (a comment removed, a
 *   comment set back to an older version, an object version removed) is named by
 *   `mraa verify`, re-shipped by `mraa verify --repair`, and verify is clean after.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/adapters/sqlite/driver.js';
import { type Background, spawnMraa } from '../helpers/cli.js';
import { nonShared } from '../helpers/images.js';
import { postComments } from '../helpers/load.js';
import { ADMIN_PASSWORD, type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';

interface Status {
  peers: Array<{ name: string; backlog: { entries: number }; state: { kind: string; message?: string } }>;
  log: { logStartedBecause: string };
}

async function status(d: LocalDeployment, region: string): Promise<Status> {
  const res = await fetch(`${d.url[region]}/status`, { headers: { authorization: `Bearer ${d.adminToken}` } });
  return (await res.json()) as Status;
}

/** A PNG of random noise of about `bytes` bytes (noise does not compress). */
async function noisyPng(bytes: number) {
  const side = Math.ceil(Math.sqrt(bytes / 3));
  return nonShared(
    await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
      .png({ compressionLevel: 1 })
      .toBuffer(),
  );
}

async function upload(d: LocalDeployment, bytes: number): Promise<string> {
  const res = await fetch(`${d.url[P]}/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'image/png' },
    body: await noisyPng(bytes),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { photoId: string }).photoId;
}

async function settled(d: LocalDeployment) {
  await waitFor(
    'replication to settle',
    async () => {
      const all = [...(await status(d, P)).peers, ...(await status(d, S)).peers];
      return all.every((p) => p.backlog.entries === 0 && p.state.kind === 'shipping');
    },
    { timeoutMs: 60_000 },
  );
}

async function ready(d: LocalDeployment, region: string, timeoutMs = 120_000) {
  await waitFor(
    `${region} to be ready`,
    async () => (await fetch(`${d.url[region]}/readyz`).catch(() => undefined))?.ok === true,
    { timeoutMs, intervalMs: 100 },
  );
}

describe('rebuild and repair', { timeout: 300_000 }, () => {
  let d: LocalDeployment | undefined;
  let region: Background | undefined;
  afterEach(async () => {
    await region?.stop('SIGTERM');
    region = undefined;
    await d?.close();
    d = undefined;
  });

  it('a peer down past the retention cap is rebuilt with --rebuild, the writer ships to it again, verify is clean', async () => {
    d = await startDeployment({
      customize: (c) => ({ ...c, settings: { ...c.settings, maxPeerBacklogBytes: 256 * 1024 } }),
    });
    const dep = d;
    const photo = await upload(dep, 100_000);
    await settled(dep);

    await dep.kill(S);
    // Well past the cap, and the writer answers 201 all along: photos (their bodies count) and comments.
    for (let i = 0; i < 12; i++) await upload(dep, 1_000_000);
    const load = await postComments(dep.url[P]!, dep.adminToken, photo, 200, { concurrency: 8 });
    expect(load.failed, JSON.stringify([...load.errors])).toBe(0);
    const marked = await waitFor('the peer to be marked as needing a rebuild', async () => {
      const s = await status(dep, P);
      return s.peers[0]!.state.kind === 'needs-rebuild' ? s : undefined;
    });
    expect(marked.peers[0]!.state.message).toContain(`run mraa region --region ${S} --rebuild on its host`);

    const started = Date.now();
    region = spawnMraa(dep.dir, ['region', '--region', S, '--rebuild'], { MRAA_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await ready(dep, S);
    const readyMs = Date.now() - started;
    const done =
      /"msg":"rebuild: done in ([0-9.]+) s from us-east-1: snapshot ([0-9.]+ \w+), (\d+) bodies \(([0-9.]+ \w+)/.exec(
        region.output(),
      );
    expect(done, region.output()).not.toBeNull();
    console.log(
      `rebuild figures: ${done![1]} s for a ${done![2]} snapshot and ${done![3]} bodies of ${done![4]} (process start to ready: ${readyMs} ms)`,
    );
    expect(region.output()).toMatch(/rebuild: .*checksum verified/);
    // The old data directory is kept aside.
    expect(readdirSync(join(dep.dir, 'data')).some((n) => n.startsWith(`${S}.before-rebuild-`))).toBe(true);
    expect((await status(dep, S)).log.logStartedBecause).toMatch(/^rebuilt: from a snapshot of us-east-1/);

    // The writer's link left `needs-rebuild`; what it writes now reaches the rebuilt region.
    const after = await postComments(dep.url[P]!, dep.adminToken, photo, 20, { concurrency: 4, prefix: 'after' });
    expect(after.acked.length).toBe(20);
    await settled(dep);
    expect((await status(dep, P)).peers[0]!.state.kind).toBe('shipping');
    const verify = await dep.cli(['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('Verified');
  });

  it('an empty data directory is rebuilt by itself; killed in the middle of its bodies, it resumes with the bodies it had', async () => {
    d = await startDeployment({ proxies: true });
    const dep = d;
    for (let i = 0; i < 10; i++) await upload(dep, 1_000_000);
    await settled(dep);
    await dep.kill(S);
    // A new host: an empty data directory, rebuilt by itself since the writer holds data.
    rmSync(join(dep.dir, 'data', S), { recursive: true, force: true });
    // The writer's answers to the rebuild crawl: a cut lands in the middle.
    dep.proxies.get(P)!.set('pass', 40);
    region = spawnMraa(dep.dir, ['region', '--region', S], { MRAA_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await region.waitForOutput(/rebuild: bodies [^"]*, \d+ of 20 bodies/, 120_000);
    region.proc.kill('SIGKILL');
    await region.exited;
    region = undefined;
    const aside = () => readdirSync(join(dep.dir, 'data')).filter((n) => n.startsWith(`${S}.`));
    expect(aside()).toContain(`${S}.rebuild`);

    dep.proxies.get(P)!.set('pass', 0);
    // Started again, without --rebuild: the rebuild in progress resumes before it serves.
    region = spawnMraa(dep.dir, ['region', '--region', S], { MRAA_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await ready(dep, S);
    expect(region.output()).toMatch(/rebuild: resuming the rebuild started at .* at its bodies step/);
    const kept = /rebuild: done in [^"]*: (\d+) fetched, 0 from the old data directory, (\d+) already here/.exec(
      region.output(),
    );
    expect(kept, region.output()).not.toBeNull();
    expect(Number(kept![2])).toBeGreaterThan(0);
    expect(Number(kept![1])).toBeGreaterThan(0);
    expect(aside()).not.toContain(`${S}.rebuild`);
    await settled(dep);
    const verify = await dep.cli(['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('verify --repair re-ships the newer version of each key that differs, then verify is clean', async () => {
    d = await startDeployment();
    const dep = d;
    const photo = await upload(dep, 50_000);
    const load = await postComments(dep.url[P]!, dep.adminToken, photo, 10, { concurrency: 2 });
    expect(load.acked.length).toBe(10);
    await settled(dep);

    // A difference made on purpose, in the stopped region's database.
    await dep.kill(S);
    const db = openSqlite(join(dep.dir, 'data', S, 'region.db'));
    const [gone, older] = [load.acked[0]!.commentId, load.acked[1]!.commentId];
    db.prepare("DELETE FROM items WHERE tbl = 'comments' AND pk = ?").run(gone);
    db.prepare("DELETE FROM item_index WHERE tbl = 'comments' AND pk = ?").run(gone);
    db.prepare(
      "UPDATE items SET data = json_set(data, '$.message', 'tampered'), hlc = '000000000000001-000000' WHERE tbl = 'comments' AND pk = ?",
    ).run(older);
    const object = db.prepare('SELECT bucket, key, version_id FROM object_versions LIMIT 1').get() as {
      bucket: string;
      key: string;
      version_id: string;
    };
    db.prepare('DELETE FROM object_versions WHERE bucket = ? AND key = ?').run(object.bucket, object.key);
    db.prepare('DELETE FROM object_latest WHERE bucket = ? AND key = ?').run(object.bucket, object.key);
    db.close();
    await dep.restart(S);

    const before = await dep.cli(['verify']);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('comments: 2 key(s) differ');
    expect(before.stdout).toContain('verify --repair');

    const repair = await dep.cli(['verify', '--repair']);
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    expect(repair.stdout).toContain('repair of table comments');
    expect(repair.stdout).toContain('re-shipped');
    expect(repair.stdout).toContain('Verified after the repair');
    const json = await dep.cli(['verify', '--repair', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ identical: true, differences: [] });

    const again = await dep.cli(['verify']);
    expect(again.code).toBe(0);
    const comment = await fetch(`${dep.url[S]}/comments/${photo}`, {
      headers: { authorization: `Bearer ${dep.adminToken}` },
    });
    const messages = ((await comment.json()) as { comments: Array<{ message: string }> }).comments.map(
      (c) => c.message,
    );
    expect(messages).not.toContain('tampered');
    expect(messages).toHaveLength(10);
  });
});
