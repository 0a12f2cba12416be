/**
 * Rebuilding a region from a peer's snapshot (DESIGN §5), with both regions in this
 * process: the data and every body arrive checked, the old data directory is kept
 * aside, the voter's state is kept, the rebuilt region follows the writer's log from
 * the snapshot's position with a new log id of its own, and the writer's link leaves
 * `needs-rebuild`. A rebuild cut in its bodies step resumes with the bodies it had; a
 * snapshot download cut in the middle resumes with a Range request. An empty data
 * directory is rebuilt by itself when a peer holds data, and starts empty when none does.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerClient } from '../../src/peers/peer-client.js';
import { PeerDownloads } from '../../src/peers/peer-download.js';
import { SNAPSHOT_BODY_PATH, SNAPSHOT_PATH } from '../../src/ports/snapshot.js';
import { rebuildPaths, rebuildRegion } from '../../src/region/rebuild.js';
import { type RegionRunner, runRegion } from '../../src/region/run.js';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { image } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const logger = () => pino({ level: process.env.LOG_LEVEL ?? 'silent' });

interface Status {
  log: { logId: string; logStartedBecause: string; head: number };
  peers: Array<{ name: string; backlog: { entries: number }; state: { kind: string }; position: { logId: string } }>;
  origins: Array<{ name: string; logId: string | null; appliedSeq: number; state: { kind: string } }>;
}

describe('rebuild from a snapshot', { timeout: 120_000 }, () => {
  let fx: Fixture | undefined;
  let runner: RegionRunner | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    await fx?.close();
    fx = undefined;
  });

  async function setup(cap?: number) {
    fx = await createFixture((c) => ({
      ...c,
      settings: { ...c.settings, ...(cap ? { maxPeerBacklogBytes: cap } : {}) },
    }));
    await fx.start(P);
    await fx.start(S);
    return { fx, admin: await fx.token('admin', 'admin') };
  }

  const status = async (f: Fixture, region: string, admin: string) =>
    (await call(f.url(region), 'GET', '/status', { token: admin })).body as Status;

  async function upload(f: Fixture, admin: string, i: number): Promise<string> {
    const res = await fetch(`${f.url(P)}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'image/png' },
      body: await image('png', 40 + i, 30),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { photoId: string }).photoId;
  }

  async function comment(f: Fixture, admin: string, photoId: string, message: string) {
    const res = await call(f.url(P), 'POST', `/comments/${photoId}`, { token: admin, json: { message } });
    expect(res.status).toBe(201);
  }

  async function digests(f: Fixture) {
    const client = new PeerClient(f.config.secrets.replicationKey, 'operator');
    const of = async (r: string) => {
      const { region: _r, ...d } = await client.call<Record<string, unknown>>(f.url(r), 'GET', '/internal/digest');
      return d;
    };
    return { p: await of(P), s: await of(S) };
  }

  async function settled(f: Fixture, admin: string) {
    await waitFor('replication to settle', async () => {
      const [p, s] = [await status(f, P, admin), await status(f, S, admin)];
      return [...p.peers, ...s.peers].every((x) => x.backlog.entries === 0);
    });
  }

  it('rebuilds a peer marked past the retention cap from the writer, keeping its voter and its old data', async () => {
    const { fx: f, admin } = await setup(16 * 1024);
    const photo = await upload(f, admin, 0);
    for (let i = 1; i < 4; i++) await upload(f, admin, i);
    await settled(f, admin);
    await f.stop(S);
    for (let i = 0; i < 150; i++) await comment(f, admin, photo, `while down ${i} ${'x'.repeat(100)}`);
    await waitFor(
      'the peer to be marked',
      async () => (await status(f, P, admin)).peers[0]!.state.kind === 'needs-rebuild',
    );
    // The voter's folder (a promise of its own, written here if it has made none yet).
    const voterDir = join(f.config.dataRoot, S, 'voter');
    mkdirSync(voterDir, { recursive: true });
    writeFileSync(join(voterDir, 'promise-marker'), 'kept\n', { mode: 0o600 });
    const voterFiles = readdirSync(voterDir);
    const voterBefore = voterFiles.map((n) => readFileSync(join(voterDir, n), 'utf8'));

    // Never under a server of the same region that still runs.
    const stillRunning = await f.start(S);
    await expect(
      runRegion({ config: f.config, region: S, logger: logger(), rebuild: true, adminPassword: ADMIN_PASSWORD }),
    ).rejects.toThrow(/stop the region before rebuilding it/);
    await f.stop(S);
    expect(stillRunning).toBeDefined();
    expect(existsSync(rebuildPaths(f.config, S).work)).toBe(false);
    runner = await runRegion({
      config: f.config,
      region: S,
      logger: logger(),
      rebuild: true,
      adminPassword: ADMIN_PASSWORD,
    });
    // The old data directory aside, without the voter; the voter's state in the new one.
    const aside = readdirSync(f.config.dataRoot).filter((n) => n.startsWith(`${S}.before-rebuild-`));
    expect(aside).toHaveLength(1);
    expect(existsSync(join(f.config.dataRoot, aside[0]!, 'region.db'))).toBe(true);
    expect(existsSync(join(f.config.dataRoot, aside[0]!, 'voter'))).toBe(false);
    for (const [i, n] of voterFiles.entries())
      expect(readFileSync(join(voterDir, n), 'utf8').startsWith(voterBefore[i]!)).toBe(true);
    expect(existsSync(rebuildPaths(f.config, S).work)).toBe(false);

    // It follows the writer from the snapshot's position; the writer's link ships again.
    for (let i = 0; i < 5; i++) await comment(f, admin, photo, `after ${i}`);
    await settled(f, admin);
    const d = await digests(f);
    expect(d.s).toEqual(d.p);
    const [p, s] = [await status(f, P, admin), await status(f, S, admin)];
    expect(p.peers[0]!.state.kind).toBe('shipping');
    expect(s.log.logStartedBecause).toMatch(/^rebuilt: from a snapshot of us-east-1/);
    expect(s.origins.find((o) => o.name === P)!.logId).toBe(p.log.logId);
    // The writer follows the rebuilt region's new log id.
    await waitFor(
      "the writer to follow the rebuilt region's new log id",
      async () => (await status(f, P, admin)).origins.find((o) => o.name === S)!.logId === s.log.logId,
    );
  });

  it('resumes a rebuild cut in its bodies step, and a snapshot download cut in the middle', async () => {
    const { fx: f, admin } = await setup();
    for (let i = 0; i < 8; i++) await upload(f, admin, i);
    await settled(f, admin);
    await f.stop(S);
    // A new host: nothing of the old data directory (the bodies all come from the source).
    rmSync(join(f.config.dataRoot, S), { recursive: true, force: true });
    const real = new PeerDownloads(f.config.secrets.replicationKey, S);
    const opened = { snapshot: 0, bodies: 0 };

    // Cut 1: the snapshot's stream breaks after 4 KiB.
    const cut1 = new AbortController();
    const breaking = {
      open: async (url: string, path: string, o: Parameters<PeerDownloads['open']>[2]) => {
        const dl = await real.open(url, path, o);
        if (!path.startsWith(`${SNAPSHOT_PATH}/`)) return dl;
        opened.snapshot++;
        let n = 0;
        const cutter = new Transform({
          transform(chunk: Buffer, _e, cb) {
            if (n >= 8192) return cb();
            const part = chunk.subarray(0, 8192 - n);
            n += part.length;
            this.push(part);
            if (n >= 8192) {
              // The connection ends early: what came is on disk.
              this.push(null);
              cut1.abort();
            }
            cb();
          },
        });
        return { ...dl, body: dl.body.pipe(cutter) as unknown as typeof dl.body };
      },
    } as PeerDownloads;
    await expect(
      rebuildRegion({
        config: f.config,
        region: S,
        logger: logger(),
        reason: 'test',
        downloads: breaking,
        signal: cut1.signal,
      }),
    ).rejects.toThrow();
    const paths = rebuildPaths(f.config, S);
    const state1 = JSON.parse(readFileSync(paths.state, 'utf8'));
    expect(state1.phase).toBe('snapshot');

    // Cut 2: resumed (the snapshot from where it broke), then cut after 3 bodies.
    const cut2 = new AbortController();
    const starts: number[] = [];
    const counting = {
      open: async (url: string, path: string, o: Parameters<PeerDownloads['open']>[2]) => {
        if (path.startsWith(`${SNAPSHOT_PATH}/`)) starts.push(o?.start ?? 0);
        if (path.startsWith(SNAPSHOT_BODY_PATH) && ++opened.bodies > 3) {
          // Cut: the bodies in flight finish; the rebuild stops while it waits to try again.
          setTimeout(() => cut2.abort(), 300);
          throw new Error('cut');
        }
        return real.open(url, path, o);
      },
    } as PeerDownloads;
    await expect(
      rebuildRegion({
        config: f.config,
        region: S,
        logger: logger(),
        reason: 'test',
        downloads: counting,
        signal: cut2.signal,
      }),
    ).rejects.toThrow();
    expect(starts[0]).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(paths.state, 'utf8')).phase).toBe('bodies');

    // Resumed at the next start: the bodies fetched so far are kept.
    const lines: string[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    runner = await runRegion({ config: f.config, region: S, logger: capture, adminPassword: ADMIN_PASSWORD });
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages.find((m) => m.startsWith('rebuild: resuming'))).toMatch(/at its bodies step/);
    expect(messages.find((m) => m.startsWith('rebuild: done'))).toMatch(
      /16 bodies .*: 13 fetched, 0 from the old data directory, 3 already here/,
    );
    await settled(f, admin);
    const d = await digests(f);
    expect(d.s).toEqual(d.p);
    const photos = await call(f.url(S), 'GET', '/photos', { token: admin });
    expect((photos.body as { photos: unknown[] }).photos).toHaveLength(8);
    for (const ph of (photos.body as { photos: Array<{ photoId: string }> }).photos) {
      const res = await fetch(`${f.url(S)}/photos/${ph.photoId}/image`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(res.status).toBe(200);
    }
  });

  it('with settings.autoRebuild, a passive region told it must be rebuilt rebuilds itself and starts again', async () => {
    fx = await createFixture((c) => ({
      ...c,
      settings: { ...c.settings, maxPeerBacklogBytes: 16 * 1024, autoRebuild: true },
    }));
    const f = fx;
    await f.start(P);
    runner = await runRegion({ config: f.config, region: S, logger: logger(), adminPassword: ADMIN_PASSWORD });
    const admin = await f.token('admin', 'admin');
    const photo = await upload(f, admin, 0);
    await settled(f, admin);
    await runner.close();
    for (let i = 0; i < 150; i++) await comment(f, admin, photo, `while down ${i} ${'x'.repeat(100)}`);
    await waitFor(
      'the peer to be marked',
      async () => (await status(f, P, admin)).peers[0]!.state.kind === 'needs-rebuild',
    );
    // Started as it was: it hears it must be rebuilt, closes, rebuilds and serves again.
    runner = await runRegion({ config: f.config, region: S, logger: logger(), adminPassword: ADMIN_PASSWORD });
    await waitFor(
      'the region to rebuild itself',
      async () => (await status(f, S, admin)).log.logStartedBecause.startsWith('rebuilt:'),
      { timeoutMs: 60_000 },
    );
    await settled(f, admin);
    const d = await digests(f);
    expect(d.s).toEqual(d.p);
    expect((await status(f, P, admin)).peers[0]!.state.kind).toBe('shipping');
  });

  it('rebuilds an empty data directory when a peer holds data, and starts empty when none answers', async () => {
    const { fx: f, admin } = await setup();
    await upload(f, admin, 0);
    await settled(f, admin);
    await f.stop(S);
    rmSync(join(f.config.dataRoot, S), { recursive: true, force: true });
    runner = await runRegion({ config: f.config, region: S, logger: logger(), adminPassword: ADMIN_PASSWORD });
    const s = await status(f, S, admin);
    expect(s.log.logStartedBecause).toMatch(/^rebuilt: /);
    await runner.close();
    runner = undefined;

    // Nobody answers (the writer is down) and the directory is empty: it starts empty.
    await f.stop(P);
    rmSync(join(f.config.dataRoot, S), { recursive: true, force: true });
    runner = await runRegion({ config: f.config, region: S, logger: logger(), adminPassword: ADMIN_PASSWORD });
    const empty = await status(f, S, admin);
    expect(empty.log.logStartedBecause).not.toMatch(/^rebuilt/);
  });
});
