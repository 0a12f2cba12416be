/**
 * The control plane with real processes (DESIGN §3a): a writer partitioned from every
 * other voter by fault proxies while clients still reach it, a forced failover, an old
 * primary restarted inside the partition, the witness killed, two voters killed.
 * Every write is timed in this one process, so "acknowledged by both regions in
 * overlapping time" is checked on one clock.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { choosePorts } from '../../src/local/ports.js';
import { type Background, spawnMraa } from '../helpers/cli.js';
import { image } from '../helpers/images.js';
import { allComments, checkExactlyOnce } from '../helpers/load.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const W = 'witness';
const LEASE_MS = 2000;
/** Longer than the CLI takes to start, so the forced switch has a lease to wait for. */
const PARTITION_LEASE_MS = 3000;

interface Timed {
  region: string;
  message: string;
  commentId?: string;
  /** performance.now() when the answer arrived. */
  at: number;
  status: number;
  code?: string;
}

/** Writes one comment at a time to `region` until stopped, timing every answer. */
function writeLoop(d: LocalDeployment, region: string, photoId: string, log: Timed[], stop: () => boolean) {
  return (async () => {
    for (let i = 0; !stop(); i++) {
      const message = `${region}-${i}-${Math.random().toString(36).slice(2, 8)}`;
      try {
        const res = await fetch(`${d.url[region]}/comments/${photoId}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ message }),
          signal: AbortSignal.timeout(5000),
        });
        const body = (await res.json().catch(() => ({}))) as { commentId?: string; error?: { code?: string } };
        log.push({
          region,
          message,
          at: performance.now(),
          status: res.status,
          ...(body.commentId ? { commentId: body.commentId } : {}),
          ...(body.error?.code ? { code: body.error.code } : {}),
        });
      } catch {
        log.push({ region, message, at: performance.now(), status: 0, code: 'network' });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
}

async function newPhoto(d: LocalDeployment): Promise<string> {
  const res = await fetch(`${d.url[P]}/photos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'image/png' },
    body: await image('png', 32, 32),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { photoId: string }).photoId;
}

async function stateOf(d: LocalDeployment, region: string) {
  return (await (await fetch(`${d.url[region]}/state/photos`)).json()) as {
    state: string;
    activeRegion: string;
    epoch: number;
    quorum: boolean;
  };
}

/** Cuts `region` from every other voter, both ways; clients still reach it. */
function isolate(d: LocalDeployment, region: string): void {
  for (const [name, proxy] of d.proxies) {
    if (name === region) proxy.cutFrom(...[...d.proxies.keys()].filter((n) => n !== region));
    else proxy.cutFrom(region);
  }
  d.witnessProxy!.cutFrom(region);
}

function heal(d: LocalDeployment): void {
  for (const p of d.proxies.values()) p.heal();
  d.witnessProxy!.heal();
}

const withLease =
  (leaseMs: number) =>
  (c: Config): Config => ({ ...c, controlPlane: { ...c.controlPlane, leaseMs } });
const withShortLease = withLease(LEASE_MS);

describe('control plane scenarios', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it('a partitioned writer stops within one lease period, a forced failover waits for it, and nothing overlaps or is lost', async () => {
    d = await startDeployment({ proxies: true, customize: withLease(PARTITION_LEASE_MS) });
    const dep = d;
    const photoId = await newPhoto(dep);
    const log: Timed[] = [];
    let stopP = false;
    let stopS = false;
    const loopP = writeLoop(dep, P, photoId, log, () => stopP);
    await waitFor('writes in the primary', async () => log.filter((t) => t.status === 201).length > 20);

    const cutAt = performance.now();
    isolate(dep, P);
    const forced = await dep.cli(['failover', '--ungraceful']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Waited .* for the writer lease of us-east-1/);
    expect(forced.stdout).toMatch(
      /Possible loss: us-east-1 had (at least \d+ logged write\(s\) not applied|an unknown number of logged writes not applied|no write known to be missing from) .*; and any it acknowledged in the last .* of its lease/,
    );
    const switched = await stateOf(dep, S);
    expect(switched).toMatchObject({ state: 'failover', activeRegion: S });
    // Committed only once the old lease had run out at the voters (its last renewal before
    // the cut was at most a quarter period earlier): the new writer took nothing sooner.
    expect(performance.now() - cutAt).toBeGreaterThan(0.7 * PARTITION_LEASE_MS);
    const loopS = writeLoop(dep, S, photoId, log, () => stopS);
    await waitFor(
      'writes in the secondary',
      async () => log.filter((t) => t.region === S && t.status === 201).length > 20,
    );

    // The old writer, still alive and reached by clients, refuses: 503 no_quorum.
    const lastAckP = Math.max(...log.filter((t) => t.region === P && t.status === 201).map((t) => t.at));
    const firstAckS = Math.min(...log.filter((t) => t.region === S && t.status === 201).map((t) => t.at));
    expect(lastAckP, 'the old writer stopped acknowledging within one lease period of the cut').toBeLessThan(
      cutAt + PARTITION_LEASE_MS + 250,
    );
    expect(lastAckP, 'no write acknowledged by both regions in overlapping time').toBeLessThan(firstAckS);
    const refusedP = log.filter((t) => t.region === P && t.at > lastAckP);
    expect(refusedP.length).toBeGreaterThan(0);
    for (const t of refusedP) expect(t.code).toBe('no_quorum');

    stopP = true;
    await loopP;
    heal(dep);
    await waitFor('the old primary to learn the new state', async () => (await stateOf(dep, P)).activeRegion === S);
    stopS = true;
    await loopS;
    const verify = await dep.cli(['verify', '--wait', '60']);
    expect(verify.code, verify.stdout).toBe(0);
    // The state record is the register's, never replicated: it is never a conflict.
    const conflicts = await dep.cli(['conflicts', '--json']);
    expect(conflicts.stdout).not.toContain('app-config');
    const acked = log.filter((t) => t.status === 201).map((t) => ({ commentId: t.commentId!, message: t.message }));
    for (const region of [P, S]) {
      const { missing, duplicated } = checkExactlyOnce(
        await allComments(dep.url[region]!, dep.adminToken, photoId),
        acked,
      );
      expect(missing, `acknowledged writes missing in ${region}`).toEqual([]);
      expect(duplicated).toEqual([]);
    }
  });

  it('an old primary restarted inside a partition admits nothing, and serves reads and its last known state', async () => {
    d = await startDeployment({ proxies: true, customize: withShortLease });
    const dep = d;
    const photoId = await newPhoto(dep);
    isolate(dep, P);
    const forced = await dep.cli(['failover', '--ungraceful']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    await dep.kill(P);
    await dep.restart(P);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${dep.url[P]}/comments/${photoId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: `after restart ${i}` }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_quorum');
      await new Promise((r) => setTimeout(r, LEASE_MS / 4));
    }
    const reads = await fetch(`${dep.url[P]}/comments/${photoId}`, {
      headers: { authorization: `Bearer ${dep.adminToken}` },
    });
    expect(reads.status).toBe(200);
    const seen = await stateOf(dep, P);
    expect(seen.quorum).toBe(false);
    heal(dep);
    await waitFor('the restarted primary to follow', async () => {
      const seen = await stateOf(dep, P);
      return seen.activeRegion === S && seen.quorum;
    });
  });

  it('fails over and back with the witness dead; with two voters dead writes stop with no_quorum and resume when one returns', async () => {
    d = await startDeployment({ customize: withShortLease });
    const dep = d;
    const photoId = await newPhoto(dep);
    const post = (region: string) =>
      fetch(`${dep.url[region]}/comments/${photoId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: `to ${region}` }),
      });

    await dep.kill(W);
    const over = await dep.cli(['failover']);
    expect(over.code, over.stdout + over.stderr).toBe(0);
    expect((await post(S)).status).toBe(201);
    const back = await dep.cli(['failback']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect((await post(P)).status).toBe(201);

    // Two of three voters gone: the writer's lease runs out and writes stop.
    await dep.kill(S);
    const stoppedAt = performance.now();
    await waitFor('writes to stop', async () => (await post(P)).status === 503, { timeoutMs: LEASE_MS * 3 });
    expect(performance.now() - stoppedAt).toBeLessThan(LEASE_MS + 1500);
    const refused = await post(P);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('no_quorum');
    const status = await dep.cli(['status']);
    expect(status.stdout).toMatch(/cannot reach a majority of voters|unreachable/);

    // One returns: a majority again, writes resume without an operator.
    await dep.restart(W);
    await waitFor('writes to resume', async () => (await post(P)).status === 201, { timeoutMs: 15_000 });
  });

  it('mraa voters replace: with two voter sites gone for good, the operator replaces them and writes resume after a fence', async () => {
    d = await startDeployment({ customize: withShortLease });
    const dep = d;
    const photoId = await newPhoto(dep);
    await dep.kill(S);
    await dep.kill(W);
    const post = () =>
      fetch(`${dep.url[P]}/comments/${photoId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dep.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'after the break-glass' }),
      });
    await waitFor('writes to stop', async () => (await post()).status === 503, { timeoutMs: LEASE_MS * 3 });
    const listed = await dep.cli(['voters', 'list']);
    expect(listed.code).toBe(1);
    expect(listed.stdout).toMatch(/Only 1 of 3 voters answer; 2 are needed/);

    // A new witness on a new site: its host has a configuration naming it.
    const [port] = await choosePorts(1, 0);
    const witness2 = { name: 'witness2', url: `http://127.0.0.1:${port}` };
    const file = join(dep.dir, 'mraa.config.json');
    const current = JSON.parse(readFileSync(file, 'utf8')) as Config;
    const hostFile = join(dep.dir, 'witness2.config.json');
    writeFileSync(
      hostFile,
      JSON.stringify({
        ...current,
        controlPlane: { ...current.controlPlane, witnesses: [...current.controlPlane.witnesses, witness2] },
      }),
      { mode: 0o600 },
    );
    const w2: Background = spawnMraa(dep.dir, ['witness', '--name', 'witness2', '--config', hostFile]);
    try {
      await waitFor(
        'witness2',
        async () => (await fetch(`${witness2.url}/readyz`).catch(() => undefined))?.ok === true,
      );

      const unconfirmed = await dep.cli([
        'voters',
        'replace',
        '--remove',
        S,
        W,
        '--add-witness',
        `witness2=${witness2.url}`,
      ]);
      expect(unconfirmed.code).toBe(1);
      expect(unconfirmed.stderr).toMatch(/Not confirmed: nothing was changed/);
      expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(current, null, 2)}\n`);

      const replaced = await dep.cli([
        'voters',
        'replace',
        '--remove',
        S,
        W,
        '--add-witness',
        `witness2=${witness2.url}`,
        '--confirm',
        'photos',
      ]);
      expect(replaced.code, replaced.stdout + replaced.stderr).toBe(0);
      const after = JSON.parse(readFileSync(file, 'utf8')) as Config;
      expect(after.controlPlane.witnesses.map((w) => w.name)).toEqual(['witness2']);
      expect(after.controlPlane.nonVoting).toEqual([S]);

      // The primary restarted on the new voter set reads the fenced record, then the operator lifts the fence.
      await dep.kill(P);
      await dep.restart(P);
      await waitFor('the seeded fence', async () => (await stateOf(dep, P)).state === 'fenced');
      expect((await post()).status).toBe(503);
      const activated = await dep.cli(['activate']);
      expect(activated.code, activated.stdout + activated.stderr).toBe(0);
      await waitFor('writes to resume', async () => (await post()).status === 201);
      const state = await stateOf(dep, P);
      expect(state).toMatchObject({ state: 'active', activeRegion: P, quorum: true });
      expect(state.epoch).toBeGreaterThanOrEqual(3);
    } finally {
      await w2.stop('SIGTERM');
    }
  });
});
