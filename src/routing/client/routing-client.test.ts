/**
 * @module Unit tests of the routing client with a fake fetch (no live streams): the
 * newest record wins, an unreachable region is skipped, a 421 is retargeted.
 */
import { describe, expect, it } from 'vitest';
import { RoutingClient } from './routing-client.js';
import type { AppConfig } from './types.js';

const config: AppConfig = {
  appId: 'photos',
  regions: [
    { name: 'us-east-1', url: 'http://us.test', role: 'primary' },
    { name: 'ap-northeast-1', url: 'http://ap.test', role: 'secondary' },
    { name: 'eu-west-1', url: 'http://eu.test', role: 'secondary' },
  ],
};

function record(
  state: string,
  activeRegion: string,
  epoch: number,
  changedAt = `2026-11-27T10:00:${String(epoch).padStart(2, '0')}.000Z`,
) {
  return { appId: 'photos', state, activeRegion, epoch, changedAt };
}

type Handler = (url: string, init: RequestInit) => Response | Promise<Response> | 'down' | 'hang';

function fakeFetch(handler: Handler) {
  const calls: string[] = [];
  const fetch = (async (input: string, init: RequestInit = {}) => {
    calls.push(`${init.method ?? 'GET'} ${input}`);
    const out = await handler(input, init);
    if (out === 'down') throw new TypeError('fetch failed');
    if (out === 'hang') {
      return new Promise<Response>((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
      );
    }
    return out;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('RoutingClient', () => {
  it('keeps the record with the highest epoch, whichever region reports it', async () => {
    const { fetch } = fakeFetch((url) => {
      if (url.startsWith('http://us.test')) return json(record('active', 'us-east-1', 3));
      if (url.startsWith('http://ap.test')) return json(record('failover', 'ap-northeast-1', 5));
      return json(record('fenced', 'us-east-1', 4));
    });
    const client = new RoutingClient({ config, fetch, EventSource: null });
    await client.start();
    expect(client.record).toMatchObject({ state: 'failover', activeRegion: 'ap-northeast-1', epoch: 5 });
    expect(client.writerUrl).toBe('http://ap.test');
    client.close();
  });

  it('breaks an epoch tie by the later changedAt', async () => {
    const { fetch } = fakeFetch((url) =>
      url.startsWith('http://us.test')
        ? json(record('fenced', 'us-east-1', 7, '2026-11-27T10:00:09.000Z'))
        : json(record('failover', 'ap-northeast-1', 7, '2026-11-27T10:00:01.000Z')),
    );
    const client = new RoutingClient({ config, fetch, EventSource: null });
    await client.start();
    expect(client.record?.state).toBe('fenced');
    client.close();
  });

  it('skips a region that does not answer, or answers too late', async () => {
    const { fetch } = fakeFetch((url) => {
      if (url.startsWith('http://us.test')) return 'down';
      if (url.startsWith('http://ap.test')) return 'hang';
      return json(record('failover', 'eu-west-1', 9));
    });
    const client = new RoutingClient({ config, fetch, EventSource: null, stateTimeoutMs: 50 });
    const snapshot = await client.start();
    expect(snapshot.record).toMatchObject({ activeRegion: 'eu-west-1', epoch: 9 });
    expect(snapshot.regions.map((r) => [r.name, r.reachable])).toEqual([
      ['us-east-1', false],
      ['ap-northeast-1', false],
      ['eu-west-1', true],
    ]);
    client.close();
  });

  it('loads /config.json when no configuration is given', async () => {
    const { fetch, calls } = fakeFetch((url) =>
      url === '/config.json' ? json(config) : json(record('active', 'us-east-1', 1)),
    );
    const client = new RoutingClient({ fetch, EventSource: null });
    const snapshot = await client.start();
    expect(calls[0]).toBe('GET /config.json');
    expect(snapshot.status).toBe('ready');
    expect(client.writerUrl).toBe('http://us.test');
    client.close();
  });

  it('on 421 not_active_region, refreshes the state and retries once at activeUrl', async () => {
    let moved = false;
    const { fetch, calls } = fakeFetch((url) => {
      if (url.endsWith('/state/photos')) {
        return json(moved ? record('failover', 'ap-northeast-1', 5) : record('active', 'us-east-1', 3));
      }
      if (url === 'http://us.test/comments/p1') {
        moved = true;
        return json(
          {
            error: {
              code: 'not_active_region',
              message: 'not the writer',
              activeRegion: 'ap-northeast-1',
              activeUrl: 'http://ap.test',
            },
          },
          421,
        );
      }
      if (url === 'http://ap.test/comments/p1') return json({ commentId: 'c1' }, 201);
      return json({ error: { code: 'not_found' } }, 404);
    });
    const client = new RoutingClient({ config, fetch, EventSource: null });
    await client.start();
    const seen: number[] = [];
    client.subscribe((s) => s.record && seen.push(s.record.epoch));
    const res = await client.request('/comments/p1', { method: 'POST', body: JSON.stringify({ message: 'hi' }) });
    expect(res.status).toBe(201);
    expect(calls.filter((c) => c.startsWith('POST'))).toEqual([
      'POST http://us.test/comments/p1',
      'POST http://ap.test/comments/p1',
    ]);
    expect(client.record?.epoch).toBe(5);
    expect(seen).toContain(5);
    client.close();
  });

  it('sends a read to another region when the writer stops answering, but never a write', async () => {
    let usDown = false;
    const { fetch, calls } = fakeFetch((url) => {
      if (url.startsWith('http://us.test') && usDown) return 'down';
      if (url.endsWith('/state/photos')) return json(record('active', 'us-east-1', 3));
      return json({ photos: [], nextCursor: null });
    });
    const client = new RoutingClient({ config, fetch, EventSource: null });
    await client.start();
    usDown = true;
    expect((await client.request('/photos')).status).toBe(200);
    expect(calls.filter((c) => !c.includes('/state/'))).toEqual([
      'GET http://us.test/photos',
      'GET http://ap.test/photos',
    ]);
    await expect(client.request('/photos', { method: 'POST', body: 'x' })).rejects.toThrow('fetch failed');
    expect(calls.at(-1)).toBe('POST http://us.test/photos');
    client.close();
  });

  it('sends reads to a region known to answer before one known to be down', async () => {
    const { fetch, calls } = fakeFetch((url) => {
      if (url.startsWith('http://us.test')) return 'down';
      if (url.endsWith('/state/photos')) return json(record('active', 'us-east-1', 3));
      return json({ photos: [], nextCursor: null });
    });
    const client = new RoutingClient({ config, fetch, EventSource: null });
    await client.start();
    expect((await client.request('/photos')).status).toBe(200);
    expect(calls.filter((c) => !c.includes('/state/'))).toEqual(['GET http://ap.test/photos']);
    client.close();
  });

  it('tells its listeners when a region loses or regains its quorum, with the same record', async () => {
    let quorum = true;
    const { fetch } = fakeFetch(() => json({ ...record('active', 'us-east-1', 3), quorum }));
    const client = new RoutingClient({ config, fetch, EventSource: null });
    await client.start();
    const seen: Array<boolean | undefined> = [];
    client.subscribe((s) => seen.push(s.regions[0]?.record?.quorum));
    await client.refresh();
    expect(seen).toEqual([]);
    quorum = false;
    await client.refresh();
    expect(client.snapshot.regions.map((r) => r.record?.quorum)).toEqual([false, false, false]);
    quorum = true;
    await client.refresh();
    expect(seen.at(-1)).toBe(true);
    expect(client.record?.epoch).toBe(3);
    client.close();
  });

  it('reports a configuration that cannot be loaded', async () => {
    const { fetch } = fakeFetch(() => 'down');
    const client = new RoutingClient({ fetch, EventSource: null });
    const snapshot = await client.start();
    expect(snapshot.status).toBe('error');
    expect(snapshot.error).toMatch(/configuration/);
    client.close();
  });
});
