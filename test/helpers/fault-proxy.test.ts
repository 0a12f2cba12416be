/**
 * The fault proxy as a long link, with real sockets on loopback: the one-way delay of
 * each direction, pipelined chunks, the bandwidth cap and its fair share between
 * connections, and the faults (blackhole, reset, cut by sender) as they were.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from './fault-proxy.js';
import { waitFor } from './wait.js';

const MiB = 1024 * 1024;
/** Allowed lateness of a timed delivery on a shared machine. */
const SLACK_MS = 40;

/** What a socket received, with the time each chunk arrived. */
class Recorder {
  readonly chunks: Buffer[] = [];
  readonly arrivals: { end: number; at: number }[] = [];
  length = 0;
  ended = false;
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.length += d.length;
      this.arrivals.push({ end: this.length, at: performance.now() });
    });
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  text(from = 0): string {
    return Buffer.concat(this.chunks).subarray(from).toString();
  }

  /** When the byte at `offset` arrived. */
  arrivalOf(offset: number): number {
    return this.arrivals.find((a) => a.end > offset)!.at;
  }

  has(bytes: number, timeoutMs = 5000): Promise<number> {
    return waitFor(`${bytes} bytes`, () => this.length >= bytes && this.arrivalOf(bytes - 1), {
      timeoutMs,
      intervalMs: 1,
    });
  }
}

const opened: (Server | Socket | FaultProxy)[] = [];

/** A server on 127.0.0.1 that records every connection and, with `echo`, sends it back. */
async function server(echo: boolean): Promise<{ port: number; peers: Recorder[] }> {
  const peers: Recorder[] = [];
  const s = createServer((socket) => {
    socket.setNoDelay(true);
    const r = new Recorder(socket);
    peers.push(r);
    if (echo) socket.on('data', (d) => socket.write(d));
  });
  opened.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return { port: (s.address() as { port: number }).port, peers };
}

async function proxyTo(port: number): Promise<FaultProxy> {
  const proxy = new FaultProxy(port);
  opened.push(proxy);
  await proxy.start();
  return proxy;
}

async function client(port: number): Promise<Recorder> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  opened.push(socket);
  const r = new Recorder(socket);
  await once(socket, 'connect');
  return r;
}

/** Connects a client and waits for its connection to reach the server. */
async function pair(proxy: FaultProxy, peers: Recorder[]): Promise<[Recorder, Recorder]> {
  const before = peers.length;
  const c = await client(proxy.port);
  await waitFor('the upstream connection', () => peers.length > before, { intervalMs: 1 });
  return [c, peers[before]!];
}

afterEach(async () => {
  for (const o of opened.splice(0)) {
    if (o instanceof FaultProxy) await o.close();
    else if (o instanceof Socket) o.destroy();
    else o.close();
  }
});

describe('fault proxy as a long link', () => {
  it('delays each direction by its own one-way delay', async () => {
    const { port, peers } = await server(true);
    const proxy = await proxyTo(port);
    proxy.setLink({ delayMs: { toTarget: 40, toClient: 10 } });
    expect(proxy.link.delayMs).toEqual({ toTarget: 40, toClient: 10 });
    const [c, s] = await pair(proxy, peers);
    const trips: number[] = [];
    for (let i = 0; i < 5; i++) {
      const sentAt = performance.now();
      c.socket.write('ping');
      const atServer = await s.has(4 * (i + 1));
      const back = await c.has(4 * (i + 1));
      expect(atServer - sentAt).toBeGreaterThanOrEqual(40);
      expect(atServer - sentAt).toBeLessThan(40 + SLACK_MS);
      expect(back - atServer).toBeGreaterThanOrEqual(10);
      trips.push(back - sentAt);
    }
    console.log(`round trips at 40 + 10 ms: ${trips.map((t) => t.toFixed(1)).join(', ')} ms`);
    for (const t of trips) {
      expect(t).toBeGreaterThanOrEqual(50);
      expect(t).toBeLessThan(50 + SLACK_MS);
    }
    expect(proxy.bytes).toEqual({ toTarget: 20, toClient: 20 });
  });

  it('pipelines: chunks sent 5 ms apart each arrive one delay after they were sent, in order', async () => {
    const { port, peers } = await server(false);
    const proxy = await proxyTo(port);
    proxy.setLink({ delayMs: { toTarget: 50, toClient: 0 } });
    const [c, s] = await pair(proxy, peers);
    const sent: number[] = [];
    let text = '';
    for (let i = 0; i < 20; i++) {
      const msg = `msg-${String(i).padStart(2, '0')};`;
      text += msg;
      sent.push(performance.now());
      c.socket.write(msg);
      await new Promise((r) => setTimeout(r, 5));
    }
    await s.has(text.length);
    const lags = sent.map((at, i) => s.arrivalOf(7 * i + 6) - at);
    console.log(`pipelined lags at 50 ms: min ${Math.min(...lags).toFixed(1)}, max ${Math.max(...lags).toFixed(1)} ms`);
    for (const lag of lags) {
      expect(lag).toBeGreaterThanOrEqual(50);
      expect(lag).toBeLessThan(50 + SLACK_MS);
    }
    expect(s.text()).toBe(text);
  });

  it('keeps the order when the delay is lowered, and the FIN after the bytes', async () => {
    const { port, peers } = await server(false);
    const proxy = await proxyTo(port);
    proxy.setLink({ delayMs: 60 });
    const [c, s] = await pair(proxy, peers);
    const sentAt = performance.now();
    c.socket.write('first;');
    await waitFor('the first chunk read', () => proxy.queued.toTarget === 6, { intervalMs: 1 });
    proxy.setLink({ delayMs: 0 });
    c.socket.end('second');
    await waitFor('the FIN', () => s.ended);
    expect(s.text()).toBe('first;second');
    expect(s.arrivalOf(11) - sentAt).toBeGreaterThanOrEqual(60);
    expect(proxy.queued.toTarget).toBe(0);
  });

  it('caps the bandwidth: 4 MiB at 2 MiB/s take about 2 s', async () => {
    const { port, peers } = await server(false);
    const proxy = await proxyTo(port);
    proxy.setLink({ bandwidthBytesPerSec: { toTarget: 2 * MiB, toClient: null } });
    const [c, s] = await pair(proxy, peers);
    const data = randomBytes(4 * MiB);
    const start = performance.now();
    c.socket.write(data);
    const elapsed = (await s.has(data.length, 8000)) - start;
    console.log(`4 MiB at 2 MiB/s: ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(1800);
    expect(elapsed).toBeLessThan(3000);
    expect(Buffer.concat(s.chunks).equals(data)).toBe(true);
    expect(proxy.bytes.toTarget).toBe(data.length);
  });

  it('shares the cap fairly: a small message passes a connection pushing 8 MiB', async () => {
    const { port, peers } = await server(false);
    const proxy = await proxyTo(port);
    proxy.setLink({ delayMs: 20, bandwidthBytesPerSec: 2 * MiB });
    const [bulk, bulkAtServer] = await pair(proxy, peers);
    const [small, smallAtServer] = await pair(proxy, peers);
    bulk.socket.write(randomBytes(8 * MiB));
    await bulkAtServer.has(512 * 1024);
    const sentAt = performance.now();
    small.socket.write('hello');
    const waited = (await smallAtServer.has(5)) - sentAt;
    console.log(`small message behind 8 MiB at 2 MiB/s, 20 ms delay: ${waited.toFixed(1)} ms`);
    expect(waited).toBeGreaterThanOrEqual(20);
    expect(waited).toBeLessThan(20 + 100);
    expect(bulkAtServer.length).toBeLessThan(4 * MiB); // the bulk connection is still busy
  });

  it('pauses a connection whose queued bytes pass 16 MiB', async () => {
    const { port, peers } = await server(false);
    const proxy = await proxyTo(port);
    proxy.setLink({ bandwidthBytesPerSec: 8 * MiB });
    const [c, s] = await pair(proxy, peers);
    c.socket.write(Buffer.alloc(32 * MiB));
    await waitFor('16 MiB queued', () => proxy.queued.toTarget >= 16 * MiB, { intervalMs: 1 });
    await s.has(s.length + 256 * 1024); // the link drains a little, the source may resume
    expect(proxy.queued.toTarget).toBeLessThanOrEqual(16 * MiB + 64 * 1024);
    expect(c.socket.writableLength).toBeGreaterThan(0); // the rest waits on the client
  });

  it("set('pass', 30) still delays both ways", async () => {
    const { port, peers } = await server(true);
    const proxy = await proxyTo(port);
    proxy.set('pass', 30);
    expect(proxy.link.delayMs).toEqual({ toTarget: 30, toClient: 30 });
    const [c] = await pair(proxy, peers);
    const sentAt = performance.now();
    c.socket.write('ping');
    const trip = (await c.has(4)) - sentAt;
    expect(trip).toBeGreaterThanOrEqual(60);
    expect(trip).toBeLessThan(60 + SLACK_MS);
  });

  it('black-holes bytes, then passes them again', async () => {
    const { port, peers } = await server(true);
    const proxy = await proxyTo(port);
    const [c] = await pair(proxy, peers);
    proxy.set('blackhole');
    c.socket.write('lost');
    await waitFor('the bytes dropped', () => proxy.dropped.toTarget === 4, { intervalMs: 1 });
    proxy.set('pass');
    c.socket.write('back');
    await c.has(4);
    expect(c.text()).toBe('back');
    expect(c.closed).toBe(false);
  });

  it('resets: open connections are cut and new ones refused until it passes again', async () => {
    const { port, peers } = await server(true);
    const proxy = await proxyTo(port);
    const [open] = await pair(proxy, peers);
    proxy.set('reset');
    await waitFor('the open connection cut', () => open.closed);
    const refused = await client(proxy.port);
    await waitFor('the new connection cut', () => refused.closed);
    proxy.set('pass');
    const [c] = await pair(proxy, peers);
    c.socket.write('again');
    await c.has(5);
    expect(c.text()).toBe('again');
  });

  it('cuts the connections of one sender, named in the first bytes, and lets others pass', async () => {
    const { port, peers } = await server(true);
    const proxy = await proxyTo(port);
    const request = (region: string) => `GET / HTTP/1.1\r\nx-mraa-region: ${region}\r\n\r\n`;
    const [eu] = await pair(proxy, peers);
    const [us] = await pair(proxy, peers);
    eu.socket.write(request('eu-west-1'));
    us.socket.write(request('us-east-1'));
    await eu.has(request('eu-west-1').length);
    await us.has(request('us-east-1').length);
    proxy.cutFrom('eu-west-1');
    await waitFor('the eu connection cut', () => eu.closed);
    us.socket.write('still');
    await us.has(request('us-east-1').length + 5);
    expect(us.closed).toBe(false);
  });
});
