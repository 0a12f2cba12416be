/**
 * Issue 12, case 1, with real processes: the writer's data directory is restored from
 * a backup after it had shipped more than the backup holds. Its log would reuse
 * sequence numbers the peer has applied, and the peer would skip the new writes as
 * duplicates. The writer starts a new log id instead (it says so in /status), and every
 * write it acknowledges afterwards reaches the peer; what the peer had applied of the
 * lost tail stays there.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { waitFor } from '../helpers/wait.js';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const DB_FILES = ['region.db', 'region.db-wal', 'region.db-shm'];

async function api(d: LocalDeployment, region: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${d.url[region]}${path}`, {
    method,
    headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function addUser(d: LocalDeployment, username: string): Promise<void> {
  const res = await api(d, P, 'POST', '/users', { username, password: 'a-password-long-enough' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function usernames(d: LocalDeployment, region: string): Promise<string[]> {
  const res = await api(d, region, 'GET', '/users');
  return (res.body.users as Array<{ username: string }>).map((u) => u.username);
}

async function waitForUsers(d: LocalDeployment, region: string, names: string[]): Promise<void> {
  await waitFor(
    `${names.join(', ')} in ${region}`,
    async () => {
      const present = await usernames(d, region);
      return names.every((n) => present.includes(n));
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** A copy of the region's database as a backup (taken while the region is stopped: a crash image). */
async function backup(d: LocalDeployment, region: string, to: string): Promise<void> {
  const dir = join(d.dir, d.config.dataDir, region);
  await mkdir(to, { recursive: true });
  for (const f of DB_FILES) await cp(join(dir, f), join(to, f)).catch(() => undefined);
}

/** The backup put back in place of the region's database (its voter state is left as it is). */
async function restore(d: LocalDeployment, region: string, from: string): Promise<void> {
  const dir = join(d.dir, d.config.dataDir, region);
  for (const f of DB_FILES) await rm(join(dir, f), { force: true });
  for (const f of DB_FILES) await cp(join(from, f), join(dir, f)).catch(() => undefined);
}

describe('a writer restored from a backup (issue 12, case 1)', { timeout: 240_000 }, () => {
  let d: LocalDeployment | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  for (const peerUp of [true, false]) {
    it(`starts a new log id and every write acknowledged after the restore reaches the peer (${peerUp ? 'peer up: detected' : 'peer down at the restart: not checked'})`, async () => {
      d = await startDeployment();
      const dep = d;
      const saved = join(dep.dir, 'backup');
      await addUser(dep, 'before-backup');
      await waitForUsers(dep, S, ['before-backup']);
      await dep.kill(P);
      await backup(dep, P, saved);
      await dep.restart(P);
      // Written, acknowledged and shipped after the backup: the restore takes them back here.
      for (const u of ['shipped-1', 'shipped-2', 'shipped-3']) await addUser(dep, u);
      await waitForUsers(dep, S, ['shipped-1', 'shipped-2', 'shipped-3']);
      const before = (await api(dep, P, 'GET', '/status')).body;

      await dep.kill(P);
      if (!peerUp) await dep.kill(S);
      await restore(dep, P, saved);
      await dep.restart(P);
      const status = (await api(dep, P, 'GET', '/status')).body;
      expect(status.log.head).toBeLessThan(before.log.head);
      expect(status.log.logId).not.toBe(before.log.logId);
      expect(status.log.logStartedBecause).toMatch(peerUp ? /^behind-peer: .*has applied up to/ : /^unchecked: /);

      for (const u of ['after-restore-1', 'after-restore-2']) await addUser(dep, u);
      if (!peerUp) await dep.restart(S);
      // Every write acknowledged after the restore reaches the peer; what it had stays.
      await waitForUsers(dep, S, [
        'before-backup',
        'shipped-1',
        'shipped-2',
        'shipped-3',
        'after-restore-1',
        'after-restore-2',
      ]);
      const peer = await waitFor('the peer to follow the new log id', async () => {
        const s = (await api(dep, S, 'GET', '/status')).body;
        const o = (s.origins as Array<{ name: string; logId: string; appliedSeq: number }>).find((x) => x.name === P)!;
        return o.logId === status.log.logId ? o : undefined;
      });
      const head = (await api(dep, P, 'GET', '/status')).body.log.head;
      expect(peer.appliedSeq).toBe(head);
      const link = (await api(dep, P, 'GET', '/status')).body.peers[0];
      expect(link.state).toEqual({ kind: 'shipping' });
      expect(link.notice).toMatch(/holds entries .* that this region no longer has/);
    });
  }
});
