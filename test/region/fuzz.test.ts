/**
 * HTTP fuzzing (issue 13): thousands of generated hostile requests to every route of a
 * running region (the routes read from the server itself, so a new one is fuzzed too):
 * bad methods, encoded traversal paths, invalid UTF-8, huge and deeply nested JSON,
 * prototype-pollution keys, wrong content types, forged, tampered and `alg: none`
 * tokens, oversized headers, and malformed or truncated HTTP on raw sockets. Asserts:
 * no 5xx but the 503s of DESIGN §6; the region stays up; without a valid token nothing
 * changes (a digest of every table and object version before and after); a signed-in
 * user gains no administrator's or peer's route. Reproduce a run with FUZZ_SEED.
 */
import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegion } from '../../src/region/region.js';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { image } from '../helpers/images.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const ALLOWED_5XX = new Set(['fenced', 'no_quorum', 'starting']);
/** Routes anyone may call (DESIGN §6); /metrics answers loopback callers. */
const PUBLIC = [
  /^GET \/(healthz|readyz|metrics)$/,
  /^GET \/state\/[^/]+(\/events)?$/,
  /^POST \/auth\/signin$/,
  /^OPTIONS /,
];

interface Route {
  method: string;
  path: string;
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  what: string;
}

/** The routes a Fastify instance serves, from its printed tree. */
function routesOf(app: RunningRegion['app']): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method && method !== 'HEAD') routes.push({ method, path: path === '*' ? '/anything' : path });
    }
  }
  return routes;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('HTTP fuzzing', { timeout: 120_000 }, () => {
  let fx: Fixture;
  let region: RunningRegion;
  let url: string;
  let port: number;
  let admin: string;
  let user: string;
  let photoId: string;
  let routes: Route[];
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  /** Requests fetch itself would not send (no server answer to judge). */
  const refusedByClient = new Map<string, number>();

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} repeats this run)`);
    fx = await createFixture((c) => ({
      ...c,
      settings: { ...c.settings, limits: { ...c.settings.limits, headersTimeoutMs: 1000, bodyTimeoutMs: 1000 } },
    }));
    region = await fx.start('us-east-1');
    url = fx.url('us-east-1');
    port = Number(new URL(url).port);
    admin = (await call(url, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } })).body
      .token;
    expect(
      (await call(url, 'POST', '/users', { json: { username: 'mallory', password: 'mallory-pass-1' }, token: admin }))
        .status,
    ).toBe(201);
    user = (await call(url, 'POST', '/auth/signin', { json: { username: 'mallory', password: 'mallory-pass-1' } })).body
      .token;
    const res = await fetch(`${url}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user}`, 'content-type': 'image/png' },
      body: await image('png', 40, 40),
    });
    photoId = ((await res.json()) as { photoId: string }).photoId;
    await call(url, 'POST', `/comments/${photoId}`, { json: { message: 'hello' }, token: user });
    routes = routesOf(region.app);
  });
  afterAll(async () => fx?.close());

  /** Every table and every object version of the region, hashed. */
  async function digest(): Promise<string> {
    const h = createHash('sha256');
    const { tables, objects } = region.storage;
    for (const table of tables.tables()) {
      let cursor: string | null = null;
      do {
        const page = await tables.scan(table, { limit: 500, cursor });
        for (const s of page.items) h.update(JSON.stringify([table, s.key, s.item, s.version]));
        cursor = page.nextCursor;
      } while (cursor);
    }
    let cursor: string | null = null;
    do {
      const page = await objects.listVersions('photos', { limit: 500, cursor });
      for (const v of page.items) h.update(JSON.stringify(v));
      cursor = page.nextCursor;
    } while (cursor);
    return h.digest('hex');
  }

  function tokens() {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const claims = { sub: 'admin', role: 'admin', gen: 99, iss: 'mraa', aud: fx.config.appId, exp };
    const [h, p] = user.split('.');
    const elevated = b64({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), role: 'admin', op: true });
    const hmac = (key: string, data: string) => createHmac('sha256', key).update(data).digest('base64url');
    const forgedHead = b64({ alg: 'HS256', typ: 'JWT' });
    return {
      none: undefined,
      empty: 'Bearer',
      garbage: 'Bearer x.y.z',
      basic: `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      algNone: `Bearer ${b64({ alg: 'none' })}.${b64(claims)}.`,
      algNoneUpper: `Bearer ${b64({ alg: 'NONE', typ: 'JWT' })}.${b64(claims)}.`,
      forged: `Bearer ${forgedHead}.${b64(claims)}.${hmac('not-the-key-not-the-key-not-the-key', `${forgedHead}.${b64(claims)}`)}`,
      emptyKey: `Bearer ${forgedHead}.${b64(claims)}.${hmac('', `${forgedHead}.${b64(claims)}`)}`,
      tampered: `Bearer ${h}.${elevated}.${user.split('.')[2]}`,
      rs256: `Bearer ${b64({ alg: 'RS256' })}.${b64(claims)}.${'A'.repeat(342)}`,
      huge: `Bearer ${'a'.repeat(9000)}`,
      unicode: 'Bearer \u00e9\u00e9',
    } as Record<string, string | undefined>;
  }

  const segments = fc.oneof(
    fc.constantFrom(
      '..',
      '%2e%2e',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '%252e%252e%252f',
      '%c0%ae%c0%ae%c0%af',
      '..%5c..%5cwindows',
      '%00',
      '%FF%FE',
      '%C3%28',
      '%E0%A4%A',
      '%',
      '__proto__',
      'constructor',
      'prototype',
      'a'.repeat(2000),
      '%F0%9F%98%80',
      '%0d%0aset-cookie:%20x=1',
      'photos',
      'admin',
      'us-east-1',
      '.',
      '',
    ),
    fc.string({ unit: 'binary', maxLength: 24 }).map((s) => encodeURIComponent(s)),
    fc.constant('PHOTO'),
  );
  const queries = fc.constantFrom(
    '',
    '?limit=-1',
    '?limit=1e309',
    '?limit=99999999999999999999',
    '?cursor=%FF%FE',
    '?cursor=../../etc',
    '?a[b][c]=1&__proto__[role]=admin',
    '?constructor[prototype][role]=admin',
    '?from=us-east-1&epoch=NaN&waitMs=-5',
    `?waitMs=${'9'.repeat(40)}`,
    '?after=%00&limit=0',
  );
  const contentTypes = fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-16',
    'APPLICATION/JSON',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'image/png',
    'image/gif',
    'application/octet-stream',
    'application/json-patch+json',
    'application/json; charset=latin1; boundary=',
  );
  const nested = (depth: number, open: string, close: string, inner = '1') =>
    `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
  const bodies: fc.Arbitrary<{ what: string; bytes?: Uint8Array }> = fc.oneof(
    fc.constant({ what: 'no body' }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => ({ what: 'json', bytes: Buffer.from(JSON.stringify(v) ?? 'null') })),
    fc
      .constantFrom(
        '{"__proto__":{"role":"admin","isAdmin":true}}',
        '{"constructor":{"prototype":{"role":"admin"}}}',
        '{"username":"admin","password":"x","__proto__":{"role":"admin"}}',
        '{"state":"fenced","__proto__":{"force":true}}',
        '{"message":"hi","constructor":{"prototype":{"x":1}}}',
        '{"role":"admin"}',
        '{"state":"failover","activeRegion":"ap-northeast-1","force":true}',
        '{"state":"fenced"}',
        '{"username":"eve","password":"eve-password-1","role":"admin"}',
        '{"currentPassword":"mallory-pass-1","newPassword":"x"}',
        '{"message":{"$gt":""}}',
        '{"message":"x","message":"y"}',
        '{"appId":"photos","epoch":1e308}',
      )
      .map((s) => ({ what: `pollution/typed: ${s}`, bytes: Buffer.from(s) })),
    fc.integer({ min: 30, max: 20_000 }).map((d) => ({ what: `nested ${d}`, bytes: Buffer.from(nested(d, '[', ']')) })),
    fc
      .integer({ min: 30, max: 5000 })
      .map((d) => ({ what: `nested objects ${d}`, bytes: Buffer.from(nested(d, '{"a":', '}')) })),
    fc
      .constantFrom(70 * 1024, 200 * 1024, 2 * 1024 * 1024)
      .map((n) => ({ what: `huge ${n}`, bytes: Buffer.from(`{"message":"${'x'.repeat(n)}"}`) })),
    fc
      .constantFrom(
        [0xff, 0xfe, 0x7b, 0x7d],
        [0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d],
        [0xc0, 0xae],
        [0xed, 0xa0, 0x80],
      )
      .map((b) => ({ what: 'invalid utf-8', bytes: Buffer.from(b) })),
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ what: 'random bytes', bytes: b })),
    fc.jsonValue().map((v) => {
      const s = JSON.stringify(v) ?? 'null';
      return { what: 'truncated json', bytes: Buffer.from(s.slice(0, Math.max(1, s.length - 1))) };
    }),
  );
  const extraHeaders = fc.constantFrom<Record<string, string>>(
    {},
    {},
    { range: 'bytes=-0' },
    { range: 'bytes=99999999999999999999-' },
    { range: 'bytes=0-0,1-1,2-2' },
    { 'if-none-match': '*' },
    { 'x-forwarded-for': '10.0.0.1' },
    { origin: 'https://evil.example' },
    { 'x-oversized': 'v'.repeat(20_000) },
    {
      'x-mraa-region': 'us-east-1',
      'x-mraa-timestamp': String(Date.now()),
      'x-mraa-nonce': 'n'.repeat(16),
      'x-mraa-signature': 'A'.repeat(43),
      'x-mraa-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    },
    { 'content-encoding': 'gzip' },
    { accept: 'text/event-stream' },
  );

  function requests(authKeys: string[], only?: (r: Route) => boolean): fc.Arbitrary<FuzzRequest> {
    const pool = only ? routes.filter(only) : routes;
    return fc
      .record({
        route: fc.constantFrom(...pool),
        badMethod: fc.option(fc.constantFrom('PATCH', 'PROPFIND', 'FOO', 'PUT', 'DELETE', 'POST', 'GET'), {
          freq: 5,
        }),
        params: fc.array(segments, { minLength: 3, maxLength: 3 }),
        query: queries,
        auth: fc.constantFrom(...authKeys),
        contentType: contentTypes,
        body: bodies,
        extra: extraHeaders,
      })
      .map(({ route, badMethod, params, query, auth, contentType, body, extra }) => {
        let i = 0;
        const path = route.path.replace(/:[A-Za-z0-9]+/g, () => {
          const s = params[i++ % params.length]!;
          return s === 'PHOTO' ? photoId : s;
        });
        const method = badMethod ?? route.method;
        const token =
          tokens()[auth] ?? (auth === 'user' ? `Bearer ${user}` : auth === 'admin' ? `Bearer ${admin}` : undefined);
        const headers: Record<string, string> = { ...extra };
        if (token) headers.authorization = token;
        if (contentType) headers['content-type'] = contentType;
        const sendsBody = method !== 'GET' && method !== 'HEAD' && body.bytes !== undefined;
        return {
          method,
          path: `${path}${query}`,
          headers,
          ...(sendsBody ? { body: body.bytes } : {}),
          what: `${method} ${path.slice(0, 80)}${query} auth=${auth} type=${contentType} body=${body.what.slice(0, 60)} headers=${Object.keys(extra).join(',')}`,
        };
      });
  }

  /** Fails with the first failures and their count (and starts the next test afresh). */
  function expectNoFailures(): void {
    const found = failures.splice(0);
    if (found.length)
      throw new Error(`${found.length} failures (seed ${SEED}), first ones:\n${found.slice(0, 15).join('\n')}`);
  }

  async function send(r: FuzzRequest): Promise<number | undefined> {
    try {
      const res = await fetch(`${url}${r.path}`, {
        method: r.method,
        headers: r.headers,
        ...(r.body ? { body: new Uint8Array(r.body) } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(15_000),
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.headers.get('content-type')?.startsWith('text/event-stream')) await res.body?.cancel();
      const text = res.headers.get('content-type')?.startsWith('text/event-stream') ? '' : await res.text();
      if (res.status >= 500) {
        const code = (() => {
          try {
            return JSON.parse(text).error?.code ?? JSON.parse(text).status;
          } catch {
            return undefined;
          }
        })();
        if (!ALLOWED_5XX.has(code)) failures.push(`${res.status} ${code ?? text.slice(0, 80)}: ${r.what}`);
      }
      return res.status;
    } catch (err) {
      // fetch refuses some inputs itself (a header it cannot send): that is not the server's answer.
      if ((err as Error).name === 'TypeError' && !(err as { cause?: unknown }).cause) {
        const why = (err as Error).message;
        refusedByClient.set(why, (refusedByClient.get(why) ?? 0) + 1);
        return undefined;
      }
      failures.push(
        `no answer (${(err as Error).message}: ${String((err as { cause?: Error }).cause?.message)}): ${r.what}`,
      );
      return undefined;
    }
  }

  async function runAll(list: FuzzRequest[], check?: (r: FuzzRequest, status: number | undefined) => void) {
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const r = list[next++]!;
        const status = await send(r);
        check?.(r, status);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  }

  const isPublic = (r: FuzzRequest) => PUBLIC.some((p) => p.test(`${r.method} ${r.path.split('?')[0]}`));

  it('without a valid token: no 5xx, nothing changes, no protected route answers 2xx', async () => {
    const before = await digest();
    const noValidToken = Object.keys(tokens());
    const list = fc.sample(requests(noValidToken), { numRuns: 2500, seed: SEED });
    await runAll(list, (r, status) => {
      if (status !== undefined && status >= 200 && status < 300 && !isPublic(r) && r.method !== 'OPTIONS')
        failures.push(`${status} without a valid token: ${r.what}`);
    });
    expectNoFailures();
    expect(await digest()).toBe(before);
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
  });

  it('as a signed-in user: no administrator or peer route answers 2xx, and nothing of theirs changes', async () => {
    const adminOnly = (r: Route) =>
      /^\/(users|status|replication|internal)/.test(r.path) || (r.method === 'PUT' && r.path.startsWith('/state'));
    const before = await digest();
    const list = fc.sample(requests(['user'], adminOnly), { numRuns: 800, seed: SEED + 1 });
    await runAll(list, (r, status) => {
      if (
        status !== undefined &&
        status >= 200 &&
        status < 300 &&
        adminOnly({ method: r.method, path: r.path.split('?')[0]! })
      )
        failures.push(`${status} for a user: ${r.what}`);
    });
    expectNoFailures();
    expect(await digest()).toBe(before);
    const me = await call(url, 'GET', '/auth/me', { token: user });
    expect(me.body).toMatchObject({ username: 'mallory', role: 'user' });
  });

  it('with valid tokens on every route: no 5xx but the 503s of DESIGN §6', async () => {
    const list = fc.sample(requests(['user', 'admin', 'user', 'admin', 'none']), { numRuns: 1500, seed: SEED + 2 });
    await runAll(list);
    expectNoFailures();
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers malformed HTTP on a raw socket with a 4xx or a closed connection, never a 5xx', async () => {
    const body = '{"username":"admin","password":"x"}';
    const raw = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/9.9\r\nhost: x\r\n\r\n',
      'GET /healthz HTTP/1.1\r\n\r\n',
      'GET /healthz\r\n\r\n',
      'get /healthz HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nhost: x\r\nbad header line\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nhost: x\r\n folded: header\r\n\r\n',
      'POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\t; x=\u0001\r\ncontent-length: 2\r\n\r\n{}',
      'GET /health\u0000z HTTP/1.1\r\nhost: x\r\n\r\n',
      `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nhost: x\r\n${'x-h: v\r\n'.repeat(3000)}\r\n`,
      'GET /photos/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /state/..%2f..%2f HTTP/1.1\r\nhost: x\r\n\r\n',
      `POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n${body}`,
      `POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: -1\r\n\r\n${body}`,
      `POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n${body}`,
      `POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /status HTTP/1.1\r\nhost: x\r\n\r\n`,
      'POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n',
      'POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\n{}',
      'POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      `POST /comments/${'x'} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n\xff\xfe\xfd`,
      'PUT /internal/replication/blobs/abc HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 999999999\r\n\r\nxyz',
      'POST /photos HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\ncontent-length: 99999999999\r\n\r\n\x89PNG',
      'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\nGET /status HTTP/1.1\r\nhost: x\r\n\r\nGET /nope HTTP/1.1\r\nhost: x\r\n\r\n',
      'CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: x\r\n\r\n',
      'TRACE /healthz HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET http://evil.example/healthz HTTP/1.1\r\nhost: evil.example\r\n\r\n',
      'GET * HTTP/1.1\r\nhost: x\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      '\r\n\r\n\r\n',
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
    ];
    // And generated ones: random bytes, and a valid request cut at a random point.
    const valid = `POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const generated = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
        fc.nat({ max: valid.length - 1 }).map((n) => valid.slice(0, n)),
        fc
          .tuple(fc.nat({ max: valid.length - 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))
          .map(([n, c]) => `${valid.slice(0, n)}${c}${valid.slice(n + 1)}`),
      ),
      { numRuns: 150, seed: SEED + 3 },
    );
    const answer = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        let got = '';
        const done = () => {
          clearTimeout(timer);
          socket.destroy();
          resolve(got);
        };
        const timer = setTimeout(done, 3000);
        socket.on('data', (d) => (got += d.toString('latin1')));
        socket.on('error', done);
        socket.on('close', done);
        socket.write(Buffer.from(text, 'latin1'), () => socket.end());
      });
    let next = 0;
    const all = [...raw, ...generated];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < all.length) {
          const text = all[next++]!;
          const got = await answer(text);
          for (const m of got.matchAll(/HTTP\/1\.[01] (\d{3})/g)) {
            const status = Number(m[1]);
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status >= 500 && !/"(fenced|no_quorum|starting)"/.test(got))
              failures.push(`raw ${JSON.stringify(text.slice(0, 100))}: ${got.slice(0, 200)}`);
          }
        }
      }),
    );
    expectNoFailures();
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
    console.log(
      `fuzz statuses: ${[...statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}; not sent by fetch: ${[...refusedByClient].map(([w, n]) => `${w} ×${n}`).join('; ') || 'none'}`,
    );
  });

  it('fuzzed every route the server has', () => {
    expect(routes.length).toBeGreaterThan(25);
    expect(routes).toEqual(expect.arrayContaining([{ method: 'DELETE', path: '/users/:username' }]));
  });
});
