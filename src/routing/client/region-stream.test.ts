/**
 * @module The live state streams against a real local HTTP server serving SSE, with
 * the `eventsource` package as EventSource: a dropped stream is reconnected (also after
 * the region answered with an error) and the newest record is taken.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { RoutingClient } from './routing-client.js';
import type { RoutingSnapshot, StateRecord } from './types.js';

function record(state: string, activeRegion: string, epoch: number): StateRecord {
  return {
    appId: 'photos',
    state: state as StateRecord['state'],
    activeRegion,
    epoch,
    changedAt: `2026-11-27T10:00:${String(epoch).padStart(2, '0')}.000Z`,
  };
}

/** A region: `connect(n, res)` decides what the n-th event-stream connection gets. */
async function region(
  state: () => StateRecord,
  connect: (n: number, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; connections: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    if (req.url === '/state/photos') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state()));
    } else if (req.url === '/state/photos/events') {
      connect(++n, res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, connections: () => n };
}

function sse(res: ServerResponse, rec: StateRecord): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(`retry: 60000\n\nid: ${rec.epoch}\nevent: state\ndata: ${JSON.stringify(rec)}\n\n`);
}

function until(
  client: RoutingClient,
  test: (s: RoutingSnapshot) => boolean,
  timeoutMs = 5000,
): Promise<RoutingSnapshot> {
  return new Promise((resolve, reject) => {
    if (test(client.snapshot)) return resolve(client.snapshot);
    const timer = setTimeout(
      () => reject(new Error(`timed out; last snapshot ${JSON.stringify(client.snapshot.record)}`)),
      timeoutMs,
    );
    const stop = client.subscribe((s) => {
      if (!test(s)) return;
      clearTimeout(timer);
      stop();
      resolve(s);
    });
  });
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});

describe('live state streams', () => {
  it('reconnects after the stream drops, and after an error answer, then takes the newest record', async () => {
    const open: ServerResponse[] = [];
    const us = await region(
      () => record('active', 'us-east-1', 2),
      (n, res) => {
        if (n === 1) {
          sse(res, record('active', 'us-east-1', 2));
          setTimeout(() => res.destroy(), 50); // the connection drops
        } else if (n === 2) {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"unavailable"}}');
        } else {
          sse(res, record('fenced', 'us-east-1', 3));
          open.push(res);
        }
      },
    );
    cleanup.push(() => {
      for (const r of open) r.destroy();
      us.server.close();
    });
    const client = new RoutingClient({
      config: { appId: 'photos', regions: [{ name: 'us-east-1', url: us.url, role: 'primary' }] },
      EventSource: EventSource as never,
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    cleanup.push(() => client.close());
    await client.start();
    const snapshot = await until(client, (s) => s.record?.epoch === 3);
    expect(snapshot.record?.state).toBe('fenced');
    expect(us.connections()).toBeGreaterThanOrEqual(3);
    await until(client, (s) => s.regions[0]!.streaming);
  });

  it('a newer record from any region replaces the current one; an older one does not', async () => {
    const open: ServerResponse[] = [];
    let push: ((rec: StateRecord) => void) | undefined;
    const us = await region(
      () => record('active', 'us-east-1', 4),
      (_n, res) => {
        sse(res, record('active', 'us-east-1', 4));
        open.push(res);
      },
    );
    const ap = await region(
      () => record('active', 'us-east-1', 4),
      (_n, res) => {
        sse(res, record('active', 'us-east-1', 4));
        open.push(res);
        push = (rec) => res.write(`id: ${rec.epoch}\nevent: state\ndata: ${JSON.stringify(rec)}\n\n`);
      },
    );
    cleanup.push(() => {
      for (const r of open) r.destroy();
      us.server.close();
      ap.server.close();
    });
    const client = new RoutingClient({
      config: {
        appId: 'photos',
        regions: [
          { name: 'us-east-1', url: us.url, role: 'primary' },
          { name: 'ap-northeast-1', url: ap.url, role: 'secondary' },
        ],
      },
      EventSource: EventSource as never,
    });
    cleanup.push(() => client.close());
    await client.start();
    await until(client, (s) => push !== undefined && s.regions.every((r) => r.streaming));
    push!(record('active', 'us-east-1', 1));
    push!(record('failover', 'ap-northeast-1', 6));
    const snapshot = await until(client, (s) => s.record?.epoch === 6);
    expect(snapshot.writer?.name).toBe('ap-northeast-1');
  });
});
