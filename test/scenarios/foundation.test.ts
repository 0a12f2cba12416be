/**
 * The foundation as a new user meets it: `mraa up` in an empty folder, state changes
 * from the CLI seen by every region and pushed to subscribers, a region killed with
 * SIGKILL and started again with `mraa region`, catching up on what it missed.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Background, mraa, spawnMraa } from '../helpers/cli.js';
import { subscribe } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

interface RegionUrl {
  name: string;
  url: string;
  role: string;
}

async function getState(url: string) {
  const res = await fetch(`${url}/state/photos`);
  return res.ok
    ? ((await res.json()) as { state: string; epoch: number; activeRegion: string; region: string })
    : undefined;
}

describe('foundation scenario: mraa up, fence, kill, activate, restart', { timeout: 180_000 }, () => {
  let dir: string;
  let up: Background;
  let restarted: Background | undefined;
  let regions: RegionUrl[];
  let secrets: { tokenKey: string; replicationKey: string };
  let adminPassword: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-foundation-'));
    up = spawnMraa(dir, ['up', '--base-port', '0']);
    await up.waitForOutput(/Ctrl-C stops every process/);
    const config = JSON.parse(await readFile(join(dir, 'mraa.config.json'), 'utf8'));
    regions = config.regions;
    secrets = config.secrets;
    adminPassword = up.output().match(/password (\S+)/)![1]!;
  });

  afterAll(async () => {
    await restarted?.stop('SIGTERM');
    await up?.stop('SIGINT');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints where everything runs and the admin credentials', async () => {
    const out = up.output();
    for (const r of regions) expect(out).toContain(r.url);
    expect(out).toMatch(/edge\s+web app\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain('username admin');
    expect(adminPassword.length).toBeGreaterThanOrEqual(16);
    const signin = await fetch(`${regions[0]!.url}/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: adminPassword }),
    });
    expect(signin.status).toBe(200);
  });

  it('writes the configuration with its secrets at mode 0600', async () => {
    const mode = (await stat(join(dir, 'mraa.config.json'))).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('serves /config.json from the edge', async () => {
    const edgeUrl = up.output().match(/Web app:\s+(\S+)/)![1]!;
    const cfg = await (await fetch(`${edgeUrl}/config.json`)).json();
    expect(cfg).toEqual({ appId: 'photos', regions });
  });

  it('fences from the CLI: both regions report fenced with the same new epoch, and a subscriber of the secondary hears it', async () => {
    const [primary, secondary] = regions as [RegionUrl, RegionUrl];
    await waitFor('the secondary to know the state', () => getState(secondary.url));
    const before = (await getState(primary.url))!;
    const sub = await subscribe(`${secondary.url}/state/photos/events`);
    try {
      await waitFor('the first event', () => sub.events.length > 0);
      const fence = await mraa(dir, ['fence', '--reason', 'scenario']);
      expect(fence.code, fence.stderr).toBe(0);
      const p = (await getState(primary.url))!;
      const s = await waitFor('the secondary to report the fence', async () => {
        const r = await getState(secondary.url);
        return r && r.epoch === p.epoch ? r : undefined;
      });
      expect(p.state).toBe('fenced');
      expect(s.state).toBe('fenced');
      expect(p.epoch).toBe(before.epoch + 1);
      expect(s.epoch).toBe(p.epoch);
      const event = await waitFor('the fenced event on the secondary', () =>
        sub.events.map((e) => JSON.parse(e.data)).find((d) => d.state === 'fenced' && d.epoch === p.epoch),
      );
      expect(event.region).toBe(secondary.name);
      const shown = await mraa(dir, ['state']);
      expect(shown.stdout).toMatch(/All reachable regions agree: fenced/);
    } finally {
      sub.close();
    }
  });

  it('survives a SIGKILLed region: activate without it, restart it with `mraa region`, and it reports the newer state', async () => {
    const [primary, secondary] = regions as [RegionUrl, RegionUrl];
    const pid = Number(up.output().match(new RegExp(`${secondary.name}\\s+secondary\\s+\\S+\\s+(\\d+)`))![1]);
    process.kill(pid, 'SIGKILL');
    await up.waitForOutput(new RegExp(`${secondary.name} \\(pid ${pid}\\) died \\(signal SIGKILL\\): a region outage`));
    await waitFor(
      'the secondary to stop answering',
      async () => !(await getState(secondary.url).catch(() => undefined)),
    );

    const activate = await mraa(dir, ['activate']);
    expect(activate.code, activate.stderr).toBe(0);
    expect(activate.stdout).toContain('unreachable');
    const p = (await getState(primary.url))!;
    expect(p).toMatchObject({ state: 'active', activeRegion: primary.name });

    restarted = spawnMraa(dir, ['region', '--region', secondary.name]);
    await waitFor(
      'the restarted region to be ready',
      async () => (await fetch(`${secondary.url}/readyz`).catch(() => undefined))?.ok,
    );
    const s = (await getState(secondary.url))!;
    expect(s).toMatchObject({ state: 'active', activeRegion: primary.name, epoch: p.epoch });
    expect(up.output()).not.toMatch(/restarting/i);
  });

  it('never writes a secret to a log', async () => {
    const logDir = join(dir, 'data', 'logs');
    const logs = await Promise.all((await readdir(logDir)).map((f) => readFile(join(logDir, f), 'utf8')));
    logs.push(restarted!.output());
    expect(logs.join('').length).toBeGreaterThan(0);
    for (const log of logs) {
      for (const secret of [secrets.tokenKey, secrets.replicationKey, adminPassword]) expect(log).not.toContain(secret);
      expect(log).not.toMatch(/scrypt\$/);
      expect(log).not.toMatch(/eyJhbGciOi/);
    }
  });

  it('stops every process it started on Ctrl-C', async () => {
    const code = await up.stop('SIGINT');
    expect(code).toBe(0);
    await waitFor(
      'the primary to stop answering',
      async () => !(await fetch(`${regions[0]!.url}/healthz`).catch(() => undefined)),
    );
  });
});
