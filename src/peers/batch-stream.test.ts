import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, test, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { DomainError } from '../core/errors.js';
import type { RawLogEntry } from '../ports/change-log.js';
import { BATCH_PATH, type BatchHead } from '../ports/peer-transport.js';
import { BatchStreams, RETRY_UNSUPPORTED_MS, StreamUnsupported } from './batch-stream.js';
import { batchStreamRoutes } from './batch-stream.routes.js';
import { EMPTY_SHA256, PEER_HEADERS, PeerVerifier, signPeerRequest, signPeerResponse } from './peer-auth.js';
import { type PeerClient, PeerRequestError, type RawJson } from './peer-client.js';
import { HttpPeerTransport } from './peer-transport.js';
import { connectionKey, FrameOpener, FrameSealer, STREAM_PATH } from './stream-frames.js';

const KEY = 'k'.repeat(43);
const SELF = 'eu-west-1';
const OPTS = { timeoutMs: 5000 };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A region with the stream (or without: `stream: false`); `receive` can be swapped by a test. */
async function region(options: { stream?: boolean; idleMs?: number } = {}) {
  const app: FastifyInstance = Fastify();
  const s = {
    app,
    url: '',
    received: [] as { region: string; batch: unknown }[],
    /** Every TCP connection the region accepted. */
    sockets: [] as Socket[],
    receive: async (_region: string, batch: unknown): Promise<unknown> => ({ echo: batch }),
  };
  if (options.stream !== false) {
    batchStreamRoutes(app, {
      verifier: new PeerVerifier(KEY, new Set([SELF])),
      receive: (from, batch) => {
        s.received.push({ region: from, batch });
        return s.receive(from, batch);
      },
      logger: { warn: () => undefined, error: () => undefined },
      ...(options.idleMs ? { idleMs: options.idleMs } : {}),
    });
  }
  app.server.on('connection', (socket: Socket) => s.sockets.push(socket));
  await app.listen({ host: '127.0.0.1', port: 0 });
  s.url = `http://127.0.0.1:${(app.addresses()[0] as AddressInfo).port}`;
  cleanups.push(() => app.close());
  return s;
}

function streams(key = KEY, self = SELF, options: ConstructorParameters<typeof BatchStreams>[2] = {}): BatchStreams {
  const b = new BatchStreams(key, self, options);
  cleanups.push(() => b.close());
  return b;
}

const wsUrl = (url: string) => `${url.replace('http:', 'ws:')}${STREAM_PATH}`;
const signedOpening = () =>
  signPeerRequest(KEY, { method: 'GET', path: STREAM_PATH, region: SELF, contentSha256: EMPTY_SHA256 });

/** A WebSocket opened by hand: resolves with 101 once open, or with the status it was refused with. */
function rawUpgrade(url: string, headers?: Record<string, string>): Promise<{ status: number; ws: WebSocket }> {
  const ws = new WebSocket(wsUrl(url), { headers });
  cleanups.push(() => ws.terminate());
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      resolve({ status: res.statusCode!, ws });
    });
  });
}

/** Whether and how a promise settled, to wait for it without awaiting it. */
function track(p: Promise<unknown>) {
  const t = { settled: false, error: undefined as unknown };
  p.then(
    () => Object.assign(t, { settled: true }),
    (error) => Object.assign(t, { settled: true, error }),
  );
  return t;
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('accepted');
    },
    (err: Error) => err,
  );

describe('batch stream', () => {
  test('a batch resolves with what receive answered; receive saw the signing region and the batch', async () => {
    const s = await region();
    s.receive = async (_r, batch) => ({ applied: (batch as { n: number }).n });
    expect(await streams().send(s.url, '{"n":7,"entries":[]}', OPTS)).toEqual({ applied: 7 });
    expect(s.received).toEqual([{ region: SELF, batch: { n: 7, entries: [] } }]);
  });

  test('50 batches in flight at once: received in send order, each answered with its own, on one connection', async () => {
    const s = await region();
    const held: { n: number; resolve(v: unknown): void }[] = [];
    s.receive = (_r, batch) => new Promise((resolve) => held.push({ n: (batch as { n: number }).n, resolve }));
    const b = streams();
    const sent = Array.from({ length: 50 }, (_, n) => n);
    const answeredOrder: number[] = [];
    const answers = sent.map((n) =>
      b.send(s.url, `{"n":${n}}`, OPTS).then((answer) => {
        answeredOrder.push(n);
        return answer;
      }),
    );
    await vi.waitFor(() => expect(held).toHaveLength(50), { timeout: 5000 });
    expect(held.map((h) => h.n)).toEqual(sent);
    const shuffled = sent.map((i) => (i * 17) % 50); // a permutation: 17 and 50 are coprime
    for (const i of shuffled) held[i]!.resolve({ answer: held[i]!.n });
    expect(await Promise.all(answers)).toEqual(sent.map((n) => ({ answer: n })));
    expect(answeredOrder).toEqual(shuffled);
    expect(s.sockets).toHaveLength(1);
  });

  test('a batch refused with a DomainError rejects with its status; the next one goes on the same connection', async () => {
    const s = await region();
    s.receive = async (_r, batch) => {
      if ((batch as { bad?: boolean }).bad) throw new DomainError('invalid_request', 'no such log');
      return { ok: true };
    };
    const b = streams();
    const err = await refusal(b.send(s.url, '{"bad":true}', OPTS));
    expect(err).toBeInstanceOf(PeerRequestError);
    expect((err as PeerRequestError).status).toBe(400);
    expect((err as PeerRequestError).body).toEqual({ error: { code: 'invalid_request', message: 'no such log' } });
    expect(await b.send(s.url, '{}', OPTS)).toEqual({ ok: true });
    expect(s.sockets).toHaveLength(1);
  });

  test('an upgrade without a signature, or a replayed signed one, is refused with 401', async () => {
    const s = await region();
    expect((await rawUpgrade(s.url)).status).toBe(401);
    const headers = signedOpening();
    expect((await rawUpgrade(s.url, headers)).status).toBe(101);
    expect((await rawUpgrade(s.url, headers)).status).toBe(401);
    expect(s.received).toEqual([]);
  });

  test('a sender with another key, or of an unknown region, is refused with 401', async () => {
    const s = await region();
    for (const b of [streams('o'.repeat(43)), streams(KEY, 'unknown-region')]) {
      const err = await refusal(b.send(s.url, '{}', OPTS));
      expect(err).toBeInstanceOf(PeerRequestError);
      expect(err.message).toMatch(/401 \(stream refused\)/);
    }
    expect(s.received).toEqual([]);
  });

  test('a 101 not signed with the replication key is not trusted: no batch is sent on it', async () => {
    const signers: [string, (nonce: string) => string | undefined, boolean][] = [
      ['no signature', () => undefined, false],
      ['another key', (nonce) => signPeerResponse('o'.repeat(43), nonce, 101, ''), false],
      ['the key (control)', (nonce) => signPeerResponse(KEY, nonce, 101, ''), true],
    ];
    for (const [, sign, trusted] of signers) {
      const httpServer = http.createServer();
      const wss = new WebSocketServer({ server: httpServer });
      const messages: unknown[] = [];
      let closed = 0;
      wss.on('headers', (headers, req) => {
        const signature = sign(req.headers[PEER_HEADERS.nonce] as string);
        if (signature) headers.push(`${PEER_HEADERS.responseSignature}: ${signature}`);
      });
      wss.on('connection', (ws) => {
        ws.on('message', (m) => messages.push(m));
        ws.on('close', () => closed++);
      });
      await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
      cleanups.push(() => {
        for (const ws of wss.clients) ws.terminate();
        httpServer.closeAllConnections();
        return new Promise((r) => httpServer.close(r));
      });
      const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
      const sent = streams().send(url, '{"n":1}', OPTS);
      if (trusted) {
        sent.catch(() => undefined); // never answered; rejected when the streams close
        await vi.waitFor(() => expect(messages).toHaveLength(1), { timeout: 5000 });
      } else {
        expect((await refusal(sent)).message).toMatch(/101 is not signed/);
        await vi.waitFor(() => expect(closed).toBe(1), { timeout: 5000 });
        expect(messages).toEqual([]);
      }
    }
  });

  test('a frame failing its MAC closes the connection and is not applied', async () => {
    const s = await region();
    const headers = signedOpening();
    const { status, ws } = await rawUpgrade(s.url, headers);
    expect(status).toBe(101);
    const key = connectionKey(KEY, headers[PEER_HEADERS.nonce]!);
    const sealer = new FrameSealer(key, 'batches');
    const opener = new FrameOpener(key, 'answers');
    // A well-sealed frame first: the hand-made client is one the region answers.
    const answer = new Promise<string>((r) => ws.once('message', (data) => r(opener.open(data as Buffer))));
    ws.send(sealer.seal('{"id":1,"batch":{"n":1}}'), { binary: true });
    expect(JSON.parse(await answer)).toEqual({ id: 1, status: 200, body: { echo: { n: 1 } } });
    const closed = new Promise((r) => ws.once('close', r));
    const forged = sealer.seal('{"id":2,"batch":{"n":2}}');
    forged[0] = forged[0]! ^ 0x01; // its MAC, not its (valid) JSON
    ws.send(forged, { binary: true });
    await closed;
    expect(s.received.map((r) => r.batch)).toEqual([{ n: 1 }]);
  });

  test('a peer without the stream (404): StreamUnsupported, then not tried for RETRY_UNSUPPORTED_MS', async () => {
    const s = await region({ stream: false });
    let now = 1_000_000;
    const told: [string, number | null][] = [];
    const b = streams(KEY, SELF, { now: () => now, onFallback: (url, status) => told.push([url, status]) });
    expect(b.available(s.url)).toBe(true);
    expect(await refusal(b.send(s.url, '{}', OPTS))).toBeInstanceOf(StreamUnsupported);
    expect(b.available(s.url)).toBe(false);
    expect(b.available('http://127.0.0.1:1')).toBe(true);
    now += RETRY_UNSUPPORTED_MS - 1;
    expect(b.available(s.url)).toBe(false);
    now += 1;
    expect(b.available(s.url)).toBe(true);
    // Told once, not at every retry.
    expect(await refusal(b.send(s.url, '{}', OPTS))).toBeInstanceOf(StreamUnsupported);
    expect(told).toEqual([[s.url, 404]]);
  });

  test('an upgrade answered 400 or 502 (a proxy on the way that does not pass upgrades): StreamUnsupported too', async () => {
    for (const status of [400, 502]) {
      const server = http.createServer((_req, res) => res.writeHead(status).end('no upgrades here'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      server.on('upgrade', (_req, socket) =>
        socket.end(`HTTP/1.1 ${status} No\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`),
      );
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const b = streams();
      const err = await refusal(b.send(url, '{}', OPTS));
      expect(err).toBeInstanceOf(StreamUnsupported);
      expect(err.message).toContain(`answered ${status}`);
      expect(b.available(url)).toBe(false);
    }
  });

  test('HttpPeerTransport sends by the stream where there is one, by POST to a peer answering 404', async () => {
    const calls: unknown[][] = [];
    const client = {
      call: async (...args: unknown[]) => {
        calls.push(args);
        return { applied: 1 };
      },
    } as unknown as PeerClient;
    const transport = new HttpPeerTransport(client, streams());
    const head: BatchHead = { origin: SELF, logId: 'log-1', originHead: 1, pendingSince: null, epoch: 3 };
    const entry: RawLogEntry = { seq: 1, createdAt: 5, bytes: 7, bytesThrough: 7, kind: 'item', json: '{"x":1}' };
    const batch = { ...head, entries: [{ seq: 1, createdAt: 5, bytes: 7, change: { x: 1 } }] };

    const withStream = await region();
    withStream.receive = async () => ({ applied: 2 });
    const peer = { name: 'a', url: withStream.url };
    expect(await transport.sendBatch(peer, head, [entry], OPTS)).toEqual({ applied: 2 });
    expect(withStream.received).toEqual([{ region: SELF, batch }]);
    expect(calls).toEqual([]);

    const without = await region({ stream: false });
    const old = { name: 'b', url: without.url };
    expect(await transport.sendBatch(old, head, [entry], OPTS)).toEqual({ applied: 1 });
    expect(calls).toHaveLength(1);
    const [url, method, path, body, options] = calls[0]!;
    expect([url, method, path, options]).toEqual([without.url, 'POST', BATCH_PATH, { ...OPTS, pipelined: true }]);
    expect(JSON.parse((body as RawJson).text)).toEqual(batch);
    // The next batch goes by POST at once: the stream is not tried again.
    await transport.sendBatch(old, head, [entry], OPTS);
    expect(calls).toHaveLength(2);
    expect(without.sockets).toHaveLength(1);
  });

  test('an answer not back in time fails every batch in flight; the next batch opens a new connection', async () => {
    const s = await region();
    s.receive = async (_r, batch) => ((batch as { hold?: boolean }).hold ? new Promise(() => undefined) : { ok: 1 });
    const b = streams();
    expect(await b.send(s.url, '{}', OPTS)).toEqual({ ok: 1 });
    const late = b.send(s.url, '{"hold":true}', { timeoutMs: 200 });
    const others = [1, 2].map(() => track(b.send(s.url, '{"hold":true}', { timeoutMs: 20_000 })));
    const err = await refusal(late);
    expect(err).toBeInstanceOf(PeerRequestError);
    expect(err.message).toMatch(/timed out/);
    await vi.waitFor(() => expect(others.every((o) => o.settled)).toBe(true), { timeout: 2000 });
    for (const o of others) expect((o.error as Error).message).toMatch(/timed out/);
    expect(await b.send(s.url, '{}', OPTS)).toEqual({ ok: 1 });
    expect(s.sockets).toHaveLength(2);
  });

  test('batches in flight when the region closes are failed, not left waiting', async () => {
    const s = await region();
    s.receive = () => new Promise(() => undefined);
    const b = streams();
    const pending = [1, 2, 3].map((n) => track(b.send(s.url, `{"n":${n}}`, { timeoutMs: 5000 })));
    await vi.waitFor(() => expect(s.received).toHaveLength(3), { timeout: 5000 });
    await s.app.close(); // does not wait for the batches' own timeout to close their connection
    await vi.waitFor(() => expect(pending.every((p) => p.settled)).toBe(true), { timeout: 2000 });
    for (const p of pending) {
      expect(p.error).toBeInstanceOf(PeerRequestError);
      expect((p.error as Error).message).toMatch(/connection closed/);
    }
  });

  test('a connection idle for idleMs is closed by the region; the next batch opens another', async () => {
    const s = await region({ idleMs: 200 });
    const b = streams();
    expect(await b.send(s.url, '{"n":1}', OPTS)).toEqual({ echo: { n: 1 } });
    await vi.waitFor(() => expect(s.sockets[0]!.destroyed).toBe(true), { timeout: 3000 });
    // Until the sender has seen the close, a batch would still go on the closed connection.
    const open = () => (b as unknown as { connections: Map<string, unknown> }).connections.size;
    await vi.waitFor(() => expect(open()).toBe(0), { timeout: 3000 });
    expect(await b.send(s.url, '{"n":2}', OPTS)).toEqual({ echo: { n: 2 } });
    expect(s.sockets).toHaveLength(2);
  });

  test('a batch applied for longer than idleMs keeps its connection: it is answered', async () => {
    const s = await region({ idleMs: 200 });
    s.receive = (_r, batch) => new Promise((resolve) => setTimeout(() => resolve({ slow: batch }), 700));
    const b = streams();
    expect(await b.send(s.url, '{"n":1}', OPTS)).toEqual({ slow: { n: 1 } });
    expect(s.sockets).toHaveLength(1);
  });

  test('a batch whose signal is already aborted is not sent; a stopped BatchStreams sends nothing', async () => {
    const s = await region();
    const b = streams();
    expect(await b.send(s.url, '{"n":1}', OPTS)).toEqual({ echo: { n: 1 } });
    await expect(b.send(s.url, '{"n":2}', { ...OPTS, signal: AbortSignal.abort() })).rejects.toThrow('aborted');
    expect(await b.send(s.url, '{"n":3}', OPTS)).toEqual({ echo: { n: 3 } });
    expect(s.received.map((r) => r.batch)).toEqual([{ n: 1 }, { n: 3 }]);
    b.close();
    await expect(b.send(s.url, '{"n":4}', OPTS)).rejects.toThrow('stopped');
    expect(s.sockets).toHaveLength(1);
  });
});
