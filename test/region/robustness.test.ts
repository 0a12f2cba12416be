/**
 * Hostile input never produces a 5xx or crashes a region: every route is called with
 * malformed paths, bodies, headers and queries, with and without a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { image } from '../helpers/images.js';

const IDS = [
  '..',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'a'.repeat(5000),
  '%F0%9F%98%80',
  'ZZZ',
  '%E0%A4%A',
  "'; DROP TABLE items; --",
];
const BODIES: Array<[string, string]> = [
  ['application/json', '{'],
  ['application/json', 'null'],
  ['application/json', '[]'],
  ['application/json', '"string"'],
  ['application/json', '{"__proto__":{"admin":true},"message":"x"}'],
  ['application/json', '{"constructor":{"prototype":{"x":1}}}'],
  ['application/json', '{"message":{"$gt":""},"state":["active"],"username":1,"password":null}'],
  ['application/json', `${'['.repeat(5000)}${']'.repeat(5000)}`],
  ['text/plain', 'hello'],
  ['application/x-www-form-urlencoded', 'a=b'],
  ['image/jpeg', '\u00ff\u00d8\u00ff garbage'],
  ['', 'no type'],
];
const HEADERS: Array<Record<string, string>> = [
  { authorization: 'Bearer' },
  { authorization: 'Basic YWRtaW46YWRtaW4=' },
  { authorization: 'Bearer a.b.c' },
  { authorization: `Bearer ${'x'.repeat(10_000)}` },
  { range: 'bytes=99999999999999999999-' },
  { range: 'bytes=-' },
  { 'if-none-match': '*' },
  {
    'x-mraa-signature': 'zz',
    'x-mraa-timestamp': 'NaN',
    'x-mraa-nonce': '',
    'x-mraa-region': 'us-east-1',
    'x-mraa-content-sha256': 'x',
  },
];

describe('hostile input', { timeout: 120_000 }, () => {
  let fx: Fixture;
  let url: string;
  let token: string;
  let photoId: string;
  const failures: string[] = [];

  beforeAll(async () => {
    fx = await createFixture();
    await fx.start('us-east-1');
    url = fx.url('us-east-1');
    token = (await call(url, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } })).body
      .token;
    const res = await fetch(`${url}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
      body: await image('png', 20, 20),
    });
    photoId = ((await res.json()) as { photoId: string }).photoId;
  });
  afterAll(async () => fx.close());

  async function probe(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
    let status: number;
    try {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: init.headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
      });
      status = res.status;
      const text = await res.text();
      if (status >= 400 && status !== 304 && text && !text.includes('"error"'))
        failures.push(`${method} ${path.slice(0, 60)}: ${status} without an error body`);
    } catch (err) {
      failures.push(`${method} ${path.slice(0, 60)}: ${(err as Error).message}`);
      return;
    }
    if (status >= 500)
      failures.push(`${method} ${path.slice(0, 60)} ${JSON.stringify(init.headers ?? {}).slice(0, 60)}: ${status}`);
  }

  it('answers every malformed request with a 4xx', async () => {
    const routes: Array<[string, (id: string) => string]> = [
      ['GET', (id) => `/state/${id}`],
      ['PUT', (id) => `/state/${id}`],
      ['GET', (id) => `/state/${id}/events`],
      ['GET', (id) => `/photos/${id}`],
      ['GET', (id) => `/photos/${id}/image`],
      ['GET', (id) => `/photos/${id}/thumbnail`],
      ['DELETE', (id) => `/photos/${id}`],
      ['GET', (id) => `/comments/${id}`],
      ['POST', (id) => `/comments/${id}`],
      ['GET', (id) => `/photos?limit=${id}&cursor=${id}`],
      ['GET', (id) => `/comments/${photoId}?cursor=${id}`],
      ['GET', (id) => `/replication/drain?from=${id}&epoch=${id}&waitMs=${id}`],
      ['GET', (id) => `/replication/conflicts?after=${id}&limit=${id}`],
      ['POST', () => '/internal/replication/batch'],
      ['PUT', (id) => `/internal/replication/blobs/${id}`],
      ['GET', (id) => `/internal/digest/table/${id}`],
      ['POST', () => '/internal/state-hint'],
      ['POST', () => '/internal/voter'],
      ['POST', () => '/photos'],
      ['POST', () => '/users'],
      ['POST', () => '/auth/signin'],
      ['POST', () => '/auth/password'],
    ];
    const auths: Array<Record<string, string>> = [{}, { authorization: `Bearer ${token}` }];
    for (const [method, path] of routes) {
      for (const id of IDS) {
        for (const auth of auths) {
          if (method === 'GET' && path(id).endsWith('/events')) continue;
          if (method === 'GET' || method === 'DELETE') await probe(method, path(id), { headers: auth });
          else
            for (const [type, body] of BODIES)
              await probe(method, path(id), { headers: { ...auth, ...(type ? { 'content-type': type } : {}) }, body });
        }
      }
      for (const headers of HEADERS)
        await probe(
          method,
          path(photoId),
          method === 'GET' || method === 'DELETE' ? { headers } : { headers, body: '{}' },
        );
    }
    await probe('GET', `/photos/${photoId}/image`, {
      headers: { authorization: `Bearer ${token}`, range: 'bytes=0-0,5-' },
    });
    expect(failures).toEqual([]);
    // And the region is still well.
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
    expect((await call(url, 'GET', '/state/photos')).body.state).toBe('active');
  });
});
