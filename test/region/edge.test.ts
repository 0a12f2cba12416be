/**
 * The edge: `/config.json`, the web app's build with hashed assets cached for a year
 * and index.html never, client-side routes falling back to the app, and the local
 * controls refusing anyone but an administrator.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { startEdge } from '../../src/edge/edge.js';
import { choosePorts } from '../../src/local/ports.js';

describe('edge', () => {
  let dir: string;
  let edge: FastifyInstance;
  let url: string;
  const config = async () => {
    const ports = await choosePorts(4, 0);
    return defaultConfig({ edge: ports[0]!, regions: ports.slice(1, 3), witness: ports[3]! });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-edge-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dir, 'assets', 'index-AbC123.js'), 'console.log(1)');
    const c = await config();
    url = c.edge.url;
    edge = await startEdge({ config: c, logger: pino({ level: 'silent' }), webDist: dir });
  });
  afterAll(async () => {
    await edge.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves /config.json with the regions and no secret', async () => {
    const res = await fetch(`${url}/config.json`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['appId', 'regions']);
    expect(JSON.stringify(body)).not.toMatch(/secret|key/i);
  });

  it('caches hashed assets for a year and index.html never', async () => {
    const asset = await fetch(`${url}/assets/index-AbC123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const index = await fetch(`${url}/`);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('<title>app</title>');
  });

  it('answers client-side routes with the app, and a missing asset with 404', async () => {
    const route = await fetch(`${url}/photos/abc`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>app</title>');
    expect((await fetch(`${url}/assets/nope.js`)).status).toBe(404);
  });

  it('has no local controls unless `mraa up` adds them', async () => {
    const res = await fetch(`${url}/local/regions`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
