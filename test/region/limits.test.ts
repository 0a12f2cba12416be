/**
 * Limits (issue 13): header, body and request timeouts cut slow clients; connections
 * and event streams are capped per address and in all; JSON bodies are small per route
 * and shallow; thumbnails are made a bounded number at a time. Raw sockets from
 * distinct loopback addresses (127.0.0.x) play the clients, so each cap is counted apart.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, call, createFixture, type Fixture } from '../helpers/deployment-fixture.js';
import { image } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

const LIMITS = {
  headersTimeoutMs: 1000,
  bodyTimeoutMs: 1000,
  requestTimeoutMs: 3000,
  maxConnections: 24,
  maxConnectionsPerAddress: 6,
  maxEventStreams: 3,
  maxEventStreamsPerAddress: 2,
  perAddressOnLoopback: true,
  thumbnailConcurrency: 1,
  thumbnailQueue: 0,
};

/** A raw connection from `from`, collecting what the server sends and when it closes. */
function rawSocket(port: number, from: string) {
  const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: from });
  let received = '';
  socket.on('data', (d) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  const connected = new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  return { socket, connected, closed, received: () => received };
}

/** Writes `text` one byte every `everyMs` until the socket closes; resolves when it is closed. */
async function trickle(s: ReturnType<typeof rawSocket>, text: string, everyMs: number): Promise<number> {
  let open = true;
  void s.closed.then(() => (open = false));
  for (let i = 0; open && i < text.length; i++) {
    s.socket.write(text[i]!);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return s.closed;
}

/** An event stream from `from`: its status, and a way to end it. */
function subscribe(port: number, from: string): Promise<{ status: number; body: string; end: () => void }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/state/photos/events', localAddress: from, agent: false },
      (res: IncomingMessage) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
          if (res.statusCode !== 200 || body.includes('event: state')) done();
        });
        res.on('end', done);
        let settled = false;
        function done() {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode!, body, end: () => req.destroy() });
        }
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('limits', { timeout: 120_000 }, () => {
  let fx: Fixture;
  let url: string;
  let port: number;
  let admin: string;
  const slots = () => fx.regions.get('us-east-1')!.app.connectionSlots;

  beforeAll(async () => {
    fx = await createFixture((c) => ({
      ...c,
      settings: { ...c.settings, limits: { ...c.settings.limits, ...LIMITS } },
    }));
    await fx.start('us-east-1');
    url = fx.url('us-east-1');
    port = Number(new URL(url).port);
    admin = (await call(url, 'POST', '/auth/signin', { json: { username: 'admin', password: ADMIN_PASSWORD } })).body
      .token;
  });
  afterAll(async () => fx.close());

  it('cuts a sign-in whose body comes a byte at a time (408 at the body deadline)', async () => {
    const s = rawSocket(port, '127.0.0.11');
    await s.connected;
    const body = JSON.stringify({ username: 'admin', password: 'x'.repeat(40) });
    s.socket.write(
      `POST /auth/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    const start = Date.now();
    const closedAt = await trickle(s, body, 100);
    expect(closedAt - start).toBeLessThan(LIMITS.bodyTimeoutMs + 1500);
    expect(s.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(s.received()).toContain('"code":"request_timeout"');
  });

  it('answers malformed HTTP in the shape of DESIGN §6 and closes the connection', async () => {
    const s = rawSocket(port, '127.0.0.14');
    await s.connected;
    s.socket.write(`FOO /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n${'x'.repeat(50_000)}`);
    await s.closed;
    expect(s.received()).toMatch(/^HTTP\/1\.1 400/);
    expect(s.received()).toContain('"code":"invalid_request"');
    const big = rawSocket(port, '127.0.0.14');
    await big.connected;
    big.socket.write(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'v'.repeat(20_000)}\r\n\r\n`);
    await big.closed;
    expect(big.received()).toMatch(/^HTTP\/1\.1 431/);
  });

  it('cuts a request whose headers never end (headers timeout)', async () => {
    const s = rawSocket(port, '127.0.0.12');
    await s.connected;
    const start = Date.now();
    const closedAt = await trickle(s, `GET /healthz HTTP/1.1\r\n${'x-slow: y\r\n'.repeat(200)}`, 50);
    expect(closedAt - start).toBeLessThan(LIMITS.headersTimeoutMs + 1500);
    expect(s.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(s.received()).toContain('"code":"request_timeout"');
  });

  it('cuts an upload that never finishes at the request timeout', async () => {
    const s = rawSocket(port, '127.0.0.13');
    await s.connected;
    s.socket.write(
      `POST /photos HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${admin}\r\ncontent-type: image/png\r\ncontent-length: 100000\r\n\r\n`,
    );
    const start = Date.now();
    const closedAt = await trickle(s, 'x'.repeat(100_000), 100);
    expect(closedAt - start).toBeLessThan(LIMITS.requestTimeoutMs + 2500);
  });

  it('caps connections per address (429) and in all (503), and frees a slot when one closes', async () => {
    const held: Array<ReturnType<typeof rawSocket>> = [];
    for (let i = 0; i < LIMITS.maxConnectionsPerAddress; i++) held.push(rawSocket(port, '127.0.0.21'));
    await Promise.all(held.map((s) => s.connected));
    await waitFor('the connections counted', () => slots().heldBy('127.0.0.21') === LIMITS.maxConnectionsPerAddress);
    const refused = rawSocket(port, '127.0.0.21');
    await refused.closed;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 429/);
    expect(refused.received()).toContain('"code":"rate_limited"');
    expect(refused.received()).toMatch(/retry-after: 1/i);

    held.pop()!.socket.destroy();
    await waitFor('the slot freed', () => slots().heldBy('127.0.0.21') === LIMITS.maxConnectionsPerAddress - 1);
    const again = rawSocket(port, '127.0.0.21');
    await again.connected;
    again.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await waitFor('an answer', () => again.received().includes('"status":"ok"'));
    expect(again.received()).not.toMatch(/connection: close/i); // answered requests keep their connection
    held.push(again);

    // Fill the total from other addresses, then one more anywhere is refused.
    let n = 0;
    while (slots().size < LIMITS.maxConnections) {
      const from = `127.0.1.${1 + Math.floor(n++ / LIMITS.maxConnectionsPerAddress)}`;
      const s = rawSocket(port, from);
      held.push(s);
      await s.connected;
      await waitFor('counted', () => slots().heldBy(from) > 0);
    }
    const over = rawSocket(port, '127.0.2.1');
    await over.closed;
    expect(over.received()).toMatch(/^HTTP\/1\.1 503/);
    expect(over.received()).toContain('"code":"overloaded"');
    for (const s of held) s.socket.destroy();
    await waitFor('all closed', () => slots().heldBy('127.0.0.21') === 0);
  });

  it('caps event streams per address (429) and in all (503 overloaded)', async () => {
    const a1 = await subscribe(port, '127.0.0.31');
    const a2 = await subscribe(port, '127.0.0.31');
    expect([a1.status, a2.status]).toEqual([200, 200]);
    const a3 = await subscribe(port, '127.0.0.31');
    expect(a3.status).toBe(429);
    expect(JSON.parse(a3.body).error.code).toBe('rate_limited');
    const b1 = await subscribe(port, '127.0.0.32');
    expect(b1.status).toBe(200);
    const c1 = await subscribe(port, '127.0.0.33');
    expect(c1.status).toBe(503);
    expect(JSON.parse(c1.body).error).toMatchObject({ code: 'overloaded', retryAfter: 5 });
    a1.end();
    const c2 = await waitFor('a slot for a new stream', async () => {
      const s = await subscribe(port, '127.0.0.33');
      if (s.status === 200) return s;
      s.end();
      return undefined;
    });
    for (const s of [a2, b1, c2]) s.end();
  });

  it('keeps JSON bodies small per route (413) and shallow (400 before parsing)', async () => {
    const pad = (bytes: number) => 'p'.repeat(bytes);
    const signIn = await call(url, 'POST', '/auth/signin', {
      json: { username: 'admin', password: pad(9 * 1024) },
    });
    expect(signIn.status).toBe(413);
    expect(signIn.body.error).toMatchObject({ code: 'too_large', maxBytes: 8192 });
    for (const [method, path] of [
      ['POST', '/users'],
      ['PUT', '/state/photos'],
      ['POST', '/auth/password'],
    ] as const) {
      expect((await call(url, method, path, { json: { x: pad(9 * 1024) }, token: admin })).status).toBe(413);
    }
    // A comment may be long (20,000 characters), up to its own limit.
    const long = await call(url, 'POST', '/comments/0000000000000000000000000', {
      json: { message: pad(100 * 1024) },
      token: admin,
    });
    expect(long.status).not.toBe(413);
    expect(
      (
        await call(url, 'POST', '/comments/0000000000000000000000000', {
          json: { message: pad(200 * 1024) },
          token: admin,
        })
      ).status,
    ).toBe(413);

    const deep = `{"message":${'['.repeat(40)}${']'.repeat(40)}}`;
    const refused = await call(url, 'POST', '/comments/0000000000000000000000000', {
      body: deep,
      headers: { 'content-type': 'application/json' },
      token: admin,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/nests deeper than 32/);
    const bomb = '['.repeat(60_000);
    const start = performance.now();
    const res = await call(url, 'POST', '/auth/signin', {
      body: bomb,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    const shallowBomb = `{"username":"a","password":"b","x":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const res2 = await call(url, 'POST', '/auth/signin', {
      body: shallowBomb,
      headers: { 'content-type': 'application/json' },
    });
    expect(res2.status).toBe(400);
    expect(performance.now() - start).toBeLessThan(1000);
    const proto = await call(url, 'POST', '/auth/signin', {
      body: '{"username":"admin","password":"whatever-x","__proto__":{"role":"admin"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.status).toBe(400);
    // Answered before its body is read, the client still reads the answer; the connection is not kept.
    for (let i = 0; i < 5; i++) {
      const early = await fetch(`${url}/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"username":"${pad(2 * 1024 * 1024)}"}`,
      });
      expect(early.status).toBe(413);
      expect(early.headers.get('connection')).toBe('close');
    }
    // Text bodies are not read at all.
    const text = await call(url, 'POST', '/auth/signin', { body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
  });

  it('makes a bounded number of thumbnails at once: one more upload is refused with 503 overloaded', async () => {
    const big = await image('png', 3000, 2500);
    const upload = () =>
      fetch(`${url}/photos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'image/png' },
        body: big,
      }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() }));
    const results = await Promise.all([upload(), upload(), upload(), upload()]);
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(201);
    expect(statuses).toContain(503);
    for (const r of results.filter((x) => x.status === 503)) {
      expect(r.body.error.code).toBe('overloaded');
      expect(r.retryAfter).toBe('1');
    }
    // Nothing waits for ever: the next one, alone, is made.
    expect((await upload()).status).toBe(201);
  });
});
