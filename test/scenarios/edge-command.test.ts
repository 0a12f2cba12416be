/** Issue 15, hosts: `mraa edge` serves the web app and /config.json on its own, at edge.listen. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, writeConfig } from '../../src/config/config.js';
import { choosePorts } from '../../src/local/ports.js';
import { type Background, spawnMraa } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

describe('mraa edge', () => {
  let dir: string;
  let edge: Background | undefined;
  afterAll(async () => {
    await edge?.stop('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves /config.json and the app at edge.listen, announced at edge.url', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-edge-command-'));
    const ports = await choosePorts(5, 0);
    const base = defaultConfig({ edge: ports[0]!, regions: ports.slice(1, 3), witness: ports[3]! });
    // Announced without a port (a proxy on :443 in front); bound on a port of its own.
    const config = { ...base, edge: { url: 'https://app.example.com', listen: `127.0.0.1:${ports[4]}` } };
    writeConfig(join(dir, 'mraa.config.json'), config);
    edge = spawnMraa(dir, ['edge']);
    const at = `http://127.0.0.1:${ports[4]}`;
    await waitFor('the edge to answer', async () => (await fetch(`${at}/config.json`).catch(() => undefined))?.ok);
    const body = (await (await fetch(`${at}/config.json`)).json()) as { appId: string; regions: unknown[] };
    expect(body.appId).toBe(base.appId);
    expect(body.regions).toHaveLength(2);
    expect((await fetch(`${at}/`)).status).toBe(200);
    // Nothing of mraa up's local controls.
    expect((await fetch(`${at}/local/regions`)).status).toBe(404);
  });
});
