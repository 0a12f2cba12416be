/**
 * Issue 15, hosts: two regions and a witness serving HTTPS with certificates of a CA
 * made here (openssl), inter-region calls verifying peers against tls.caFile: a write
 * is replicated; a peer whose certificate comes from another CA is refused.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, writeConfig } from '../../src/config/config.js';
import { choosePorts } from '../../src/local/ports.js';
import { PeerClient, trustPeerCa } from '../../src/peers/peer-client.js';
import { type Background, spawnMraa } from '../helpers/cli.js';
import { hasOpenssl, makeCa, makeServerCert } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'https-admin-password';
const openssl = hasOpenssl();
if (!openssl) console.warn('https.test.ts skipped: no openssl on this machine to make the test certificates');

function request(
  ca: Buffer,
  url: string,
  opts: { method?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const text = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = https.request(url, {
      method: opts.method ?? 'GET',
      ca,
      headers: {
        ...(text ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data ? JSON.parse(data) : undefined }));
    });
    req.end(text);
  });
}

describe.skipIf(!openssl)('regions and the witness on HTTPS', () => {
  let dir: string;
  let ca: Buffer;
  let urls: string[];
  let rogue: https.Server;
  let rogueUrl: string;
  const procs: Background[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-https-'));
    const goodCa = makeCa(dir, 'ca');
    makeServerCert(dir, goodCa, 'server');
    const otherCa = makeCa(dir, 'other-ca');
    const other = makeServerCert(dir, otherCa, 'other');
    ca = readFileSync(goodCa.cert);

    const ports = await choosePorts(5, 0);
    const base = defaultConfig({ edge: ports[0]!, regions: ports.slice(1, 3), witness: ports[3]! });
    const config = {
      ...base,
      regions: base.regions.map((r) => ({ ...r, url: r.url.replace('http:', 'https:') })),
      controlPlane: {
        ...base.controlPlane,
        witnesses: base.controlPlane.witnesses.map((w) => ({ ...w, url: w.url.replace('http:', 'https:') })),
      },
      tls: { certFile: 'server.crt', keyFile: 'server.key', caFile: 'ca.crt' },
    };
    writeConfig(join(dir, 'mraa.config.json'), config);
    urls = config.regions.map((r) => r.url);

    const env = { MRAA_ADMIN_PASSWORD: PASSWORD };
    procs.push(spawnMraa(dir, ['witness'], env));
    for (const r of config.regions) procs.push(spawnMraa(dir, ['region', '--region', r.name], env));
    for (const url of urls) {
      await waitFor(
        `${url} ready over HTTPS`,
        async () => (await request(ca, `${url}/readyz`).catch(() => undefined))?.status === 200,
        {
          timeoutMs: 60_000,
        },
      );
    }

    // A server whose certificate another CA signed, where a peer would be.
    rogue = https.createServer({ cert: readFileSync(other.cert), key: readFileSync(other.key) }, (_req, res) =>
      res.end('{}'),
    );
    await new Promise<void>((resolve) => rogue.listen(ports[4], '127.0.0.1', resolve));
    rogueUrl = `https://127.0.0.1:${ports[4]}`;
  });

  afterAll(async () => {
    for (const p of procs) await p.stop('SIGTERM');
    await new Promise((resolve) => rogue?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS and refuses plain HTTP', async () => {
    const plain = await fetch(`${urls[0]!.replace('https:', 'http:')}/healthz`).catch((e: Error) => e);
    expect(plain instanceof Error || !plain.ok).toBe(true);
    expect((await request(ca, `${urls[0]}/healthz`)).status).toBe(200);
  });

  it('replicates a write between regions over HTTPS', async () => {
    let token = '';
    await waitFor(
      'admin to sign in at the writer',
      async () => {
        const res = await request(ca, `${urls[0]}/auth/signin`, {
          method: 'POST',
          body: { username: 'admin', password: PASSWORD },
        });
        token = (res.json as { token?: string })?.token ?? '';
        return res.status === 200;
      },
      { timeoutMs: 30_000 },
    );
    const created = await request(ca, `${urls[0]}/users`, {
      method: 'POST',
      token,
      body: { username: 'carol', password: 'carol-password-1234' },
    });
    expect(created.status).toBe(201);
    await waitFor(
      'carol to reach the secondary',
      async () => {
        const res = await request(ca, `${urls[1]}/users`, { token });
        return ((res.json as { users?: Array<{ username: string }> })?.users ?? []).some((u) => u.username === 'carol');
      },
      { timeoutMs: 30_000 },
    );
  });

  it('verifies peers against tls.caFile: a certificate from another CA is refused', async () => {
    const key = JSON.parse(readFileSync(join(dir, 'mraa.config.json'), 'utf8')).secrets.replicationKey as string;
    trustPeerCa(ca);
    const client = new PeerClient(key, 'operator');
    await expect(client.call(urls[1]!, 'GET', '/internal/digest')).resolves.toBeDefined();
    await expect(client.call(rogueUrl, 'GET', '/internal/digest')).rejects.toThrow(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|certificate/i,
    );
    trustPeerCa(undefined);
  });
});
