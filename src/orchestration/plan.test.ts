/**
 * @module Unit tests of the operator plans against a fake fetch: each region URL and
 * route answers from a scripted sequence (the last answer repeats).
 */
import { describe, expect, it } from 'vitest';
import { activate, failback, failover, fence, type PlanEnvironment, PlanError, type PlanStep } from './plan.js';

const US = { name: 'us-east-1', url: 'http://us.test', role: 'primary' as const };
const AP = { name: 'ap-northeast-1', url: 'http://ap.test', role: 'secondary' as const };
const EU = { name: 'eu-west-1', url: 'http://eu.test', role: 'secondary' as const };

type Reply = { status: number; body?: unknown } | 'down';

function record(state: string, activeRegion: string, epoch: number, region: string) {
  return {
    appId: 'photos',
    state,
    activeRegion,
    epoch,
    changedAt: `2026-11-27T10:00:${String(epoch).padStart(2, '0')}.000Z`,
    region,
  };
}

/** A fake fetch: `script['GET http://us.test/state/photos']` is that call's sequence of replies. */
function fakeFetch(script: Record<string, Reply[]>) {
  const calls: Array<{ key: string; body?: unknown; auth?: string }> = [];
  const fetch = (async (input: string, init: RequestInit = {}) => {
    const url = new URL(input);
    const key = `${init.method ?? 'GET'} ${url.origin}${url.pathname}`;
    const headers = init.headers as Record<string, string>;
    calls.push({
      key: `${key}${url.search}`,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
      auth: headers.authorization,
    });
    const queue = script[key];
    if (!queue || queue.length === 0) throw new TypeError(`fetch failed (${key} not scripted)`);
    const reply = queue.length > 1 ? queue.shift()! : queue[0]!;
    if (reply === 'down') throw new TypeError('fetch failed');
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json' },
    });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

function env(fetch: typeof globalThis.fetch, regions = [US, AP], clock = { t: 1_000_000 }): PlanEnvironment {
  return { appId: 'photos', regions, token: 'T', fetch, now: () => (clock.t += 100), sleep: async () => {} };
}

const ok = (body: unknown): Reply => ({ status: 200, body });

describe('fence', () => {
  it('sends the fence to the writer named by the newest record', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 4, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('fenced', 'ap-northeast-1', 5, 'ap-northeast-1'))],
    });
    const steps: PlanStep[] = [];
    const result = await fence(env(fetch), { reason: 'test', onProgress: (s) => steps.push(s) });
    expect(result.record.epoch).toBe(5);
    const put = calls.find((c) => c.key.startsWith('PUT'))!;
    expect(put).toMatchObject({
      key: 'PUT http://ap.test/state/photos',
      body: { state: 'fenced', reason: 'test' },
      auth: 'Bearer T',
    });
    expect(steps.map((s) => `${s.step}:${s.status}`)).toEqual(['fence:running', 'fence:done']);
    expect(result.timeline).toHaveLength(1);
    expect(result.timeline[0]!.durationMs).toBeGreaterThan(0);
  });

  it('sends the fence to another region when the writer does not answer', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': [ok(record('active', 'us-east-1', 3, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
    });
    const result = await fence(env(fetch));
    expect(result.record.state).toBe('fenced');
    expect(calls.filter((c) => c.key.startsWith('PUT')).map((c) => c.key)).toEqual(['PUT http://ap.test/state/photos']);
  });

  it('fails in plain words when no region answers', async () => {
    const { fetch } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': ['down'],
    });
    await expect(fence(env(fetch))).rejects.toMatchObject({ code: 'unreachable' });
  });
});

describe('failover', () => {
  it('fences, waits for the drain (reporting the backlog), then switches on the target', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('active', 'us-east-1', 3, 'ap-northeast-1'))],
      'PUT http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'us-east-1'))],
      'GET http://ap.test/replication/drain': [
        ok({ drained: false, backlog: { entries: 12, bytes: 3400 } }),
        ok({ drained: false, backlog: { entries: 2, bytes: 100 } }),
        ok({ drained: true, backlog: { entries: 0, bytes: 0 } }),
      ],
      'PUT http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 5, 'ap-northeast-1'))],
    });
    const steps: PlanStep[] = [];
    const result = await failover(env(fetch), { onProgress: (s) => steps.push(s) });
    expect(result.record).toMatchObject({ state: 'failover', activeRegion: 'ap-northeast-1', epoch: 5 });
    expect(result.timeline.map((s) => [s.step, s.status])).toEqual([
      ['fence', 'done'],
      ['drain', 'done'],
      ['switch', 'done'],
    ]);
    expect(steps.filter((s) => s.step === 'drain' && s.backlog).map((s) => s.backlog!.entries)).toEqual([12, 2, 0, 0]);
    const drains = calls.filter((c) => c.key.includes('/replication/drain'));
    expect(drains[0]!.key).toBe('GET http://ap.test/replication/drain?from=us-east-1&epoch=4&waitMs=500');
    expect(calls.at(-1)).toMatchObject({
      key: 'PUT http://ap.test/state/photos',
      body: { state: 'failover', activeRegion: 'ap-northeast-1' },
    });
  });

  it('skips the fence when already fenced, and drains from the fenced writer at the fence epoch', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 6, 'ap-northeast-1'))],
      'GET http://ap.test/replication/drain': [ok({ drained: true, backlog: { entries: 0, bytes: null } })],
      'PUT http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 7, 'ap-northeast-1'))],
    });
    const result = await failover(env(fetch));
    expect(result.timeline[0]).toMatchObject({ step: 'fence', status: 'done', durationMs: 0 });
    expect(calls.some((c) => c.key.startsWith('PUT http://us.test'))).toBe(false);
    expect(calls.find((c) => c.key.includes('drain'))!.key).toContain('from=us-east-1&epoch=6');
  });

  it('gives up with drain_timeout, saying the application is left fenced', async () => {
    const { fetch } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
      'GET http://ap.test/replication/drain': [ok({ drained: false, backlog: { entries: 5, bytes: 10 } })],
    });
    const clock = { t: 0 };
    const err = (await failover(env(fetch, [US, AP], clock), { timeoutMs: 2000 }).catch(
      (e: unknown) => e,
    )) as PlanError;
    expect(err).toBeInstanceOf(PlanError);
    expect(err.code).toBe('drain_timeout');
    expect(err.message).toMatch(/left fenced/);
    expect(err.message).toMatch(/[Aa]ctivate/);
    expect(err.timeline.at(-1)).toMatchObject({ step: 'drain', status: 'failed' });
  });

  it('stops at once when the target refuses the drain check (no waiting for a 4xx to change)', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
      'GET http://ap.test/replication/drain': [
        { status: 403, body: { error: { code: 'forbidden', message: 'admins only' } } },
      ],
    });
    await expect(failover(env(fetch))).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    expect(calls.filter((c) => c.key.includes('drain'))).toHaveLength(1);
  });

  it('keeps asking while the target does not answer, then times out', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
      'GET http://ap.test/replication/drain': ['down'],
    });
    const err = (await failover(env(fetch, [US, AP], { t: 0 }), { timeoutMs: 1000 }).catch(
      (e: unknown) => e,
    )) as PlanError;
    expect(err.code).toBe('drain_timeout');
    expect(err.message).toMatch(/ap-northeast-1 did not answer/);
    expect(calls.filter((c) => c.key.includes('drain')).length).toBeGreaterThan(1);
  });

  it('requires a target when there are several secondaries', async () => {
    const { fetch } = fakeFetch({});
    await expect(failover(env(fetch, [US, AP, EU]))).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('with force, switches at once without fence or drain', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': [ok(record('active', 'us-east-1', 3, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 4, 'ap-northeast-1'))],
    });
    const result = await failover(env(fetch), { force: true });
    expect(result.timeline.map((s) => s.step)).toEqual(['switch']);
    expect(calls.at(-1)!.body).toMatchObject({ state: 'failover', activeRegion: 'ap-northeast-1', force: true });
  });
});

describe('failback and activate', () => {
  it('failback moves writes to the primary with state active', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('failover', 'ap-northeast-1', 5, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 5, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('fenced', 'ap-northeast-1', 6, 'ap-northeast-1'))],
      'GET http://us.test/replication/drain': [ok({ drained: true, backlog: { entries: 0, bytes: 0 } })],
      'PUT http://us.test/state/photos': [ok(record('active', 'us-east-1', 7, 'us-east-1'))],
    });
    const result = await failback(env(fetch));
    expect(result.record.state).toBe('active');
    expect(calls.find((c) => c.key.includes('drain'))!.key).toContain(
      'http://us.test/replication/drain?from=ap-northeast-1&epoch=6',
    );
    expect(calls.at(-1)).toMatchObject({
      key: 'PUT http://us.test/state/photos',
      body: { state: 'active', activeRegion: 'us-east-1' },
    });
  });

  it('activate lifts the fence on the fenced writer with the matching state', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('fenced', 'ap-northeast-1', 8, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('fenced', 'ap-northeast-1', 8, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 9, 'ap-northeast-1'))],
    });
    const result = await activate(env(fetch));
    expect(result.record.epoch).toBe(9);
    expect(calls.at(-1)).toMatchObject({
      key: 'PUT http://ap.test/state/photos',
      body: { state: 'failover', activeRegion: 'ap-northeast-1' },
    });
  });

  it('a refusal from the server becomes a PlanError with its code', async () => {
    const { fetch } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 8, 'us-east-1'))],
      'GET http://ap.test/state/photos': ['down'],
      'PUT http://us.test/state/photos': [
        { status: 403, body: { error: { code: 'forbidden', message: 'admins only' } } },
      ],
    });
    await expect(activate(env(fetch))).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
      message: 'us-east-1: admins only',
    });
  });
});

describe('before anything changes (issue 15)', () => {
  const noQuorum = (r: object) => ({ ...r, quorum: false });
  const puts = (calls: Array<{ key: string }>) => calls.filter((c) => c.key.startsWith('PUT'));

  it('a failover whose target does not answer does not start: the writer is not fenced', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': ['down'],
      'PUT http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'us-east-1'))],
    });
    const err = (await failover(env(fetch)).catch((e: unknown) => e)) as PlanError;
    expect(err).toBeInstanceOf(PlanError);
    expect(err.code).toBe('target_unreachable');
    expect(err.message).toMatch(/^failover not started: ap-northeast-1 did not answer .*the target/);
    expect(err.message).toMatch(/Nothing was changed: us-east-1 still takes writes \(epoch 3\)/);
    expect(err.details).toMatchObject({ region: 'ap-northeast-1', changed: false });
    expect(puts(calls)).toEqual([]);
  });

  it('a failback whose target (the primary) does not answer does not start either', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 5, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('fenced', 'ap-northeast-1', 6, 'ap-northeast-1'))],
    });
    await expect(failback(env(fetch))).rejects.toMatchObject({ code: 'target_unreachable' });
    expect(puts(calls)).toEqual([]);
  });

  it('a forced failover checks its target too', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': ['down'],
    });
    await expect(failover(env(fetch), { force: true })).rejects.toMatchObject({ code: 'target_unreachable' });
    expect(puts(calls)).toEqual([]);
  });

  it('a target that reaches no majority of voters: refused, naming the voters it does not reach', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(noQuorum(record('active', 'us-east-1', 3, 'ap-northeast-1')))],
      'GET http://ap.test/status': [
        ok({
          controlPlane: {
            quorum: false,
            voters: [
              { name: 'us-east-1', reachable: false, error: 'ECONNREFUSED' },
              { name: 'ap-northeast-1', reachable: true },
              { name: 'witness', reachable: false, error: 'ECONNREFUSED' },
            ],
          },
        }),
      ],
    });
    const err = (await failover(env(fetch)).catch((e: unknown) => e)) as PlanError;
    expect(err.code).toBe('no_quorum');
    expect(err.message).toMatch(
      /failover not started: ap-northeast-1 reaches 1 of 3 voters \(not us-east-1, witness\); 2 are needed/,
    );
    expect(err.details).toMatchObject({ unreachable: ['us-east-1', 'witness'], needed: 2 });
    expect(puts(calls)).toEqual([]);
  });

  it('a stale "no quorum" is checked afresh: a majority reached now lets the plan go on', async () => {
    const { fetch } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(noQuorum(record('active', 'us-east-1', 3, 'ap-northeast-1')))],
      'GET http://ap.test/status': [
        ok({
          controlPlane: {
            voters: [
              { name: 'us-east-1', reachable: true },
              { name: 'ap-northeast-1', reachable: true },
              { name: 'witness', reachable: false },
            ],
          },
        }),
      ],
      'PUT http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'us-east-1'))],
      'GET http://ap.test/replication/drain': [ok({ drained: true, backlog: { entries: 0, bytes: 0 } })],
      'PUT http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 5, 'ap-northeast-1'))],
    });
    expect((await failover(env(fetch))).record.activeRegion).toBe('ap-northeast-1');
  });

  it('no quorum and no /status to ask: refused in plain words', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(noQuorum(record('active', 'us-east-1', 3, 'ap-northeast-1')))],
    });
    await expect(failover(env(fetch))).rejects.toMatchObject({
      code: 'no_quorum',
      message: expect.stringMatching(/ap-northeast-1 cannot reach a majority of voters/),
    });
    expect(puts(calls)).toEqual([]);
  });

  it('a graceful failover from a writer that does not answer does not fence (use force)', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': [ok(record('active', 'us-east-1', 3, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
    });
    const err = (await failover(env(fetch)).catch((e: unknown) => e)) as PlanError;
    expect(err.code).toBe('writer_unreachable');
    expect(err.message).toMatch(/forced \(ungraceful\) failover does not need it/);
    expect(puts(calls)).toEqual([]);
  });

  it('activate refuses a fenced writer that does not answer', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
    });
    await expect(activate(env(fetch))).rejects.toMatchObject({
      code: 'writer_unreachable',
      message: expect.stringMatching(/the application stays fenced \(writer us-east-1, epoch 4\)/),
    });
    expect(puts(calls)).toEqual([]);
  });

  it('fence goes to a region with a majority when the writer has none', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(noQuorum(record('active', 'us-east-1', 3, 'us-east-1')))],
      'GET http://ap.test/state/photos': [ok(record('active', 'us-east-1', 3, 'ap-northeast-1'))],
      'PUT http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
    });
    expect((await fence(env(fetch))).record.state).toBe('fenced');
    expect(puts(calls).map((c) => c.key)).toEqual(['PUT http://ap.test/state/photos']);
  });

  it('fence refuses when no region reaches a majority of voters', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(noQuorum(record('active', 'us-east-1', 3, 'us-east-1')))],
      'GET http://ap.test/state/photos': [ok(noQuorum(record('active', 'us-east-1', 3, 'ap-northeast-1')))],
    });
    await expect(fence(env(fetch))).rejects.toMatchObject({ code: 'no_quorum' });
    expect(puts(calls)).toEqual([]);
  });

  it('a drain timeout that is not a positive number is refused before anything (no endless wait)', async () => {
    const { fetch, calls } = fakeFetch({});
    for (const timeoutMs of [Number.NaN, -5000, 0, Number.POSITIVE_INFINITY]) {
      await expect(failover(env(fetch), { timeoutMs })).rejects.toMatchObject({ code: 'invalid_request' });
    }
    expect(calls).toEqual([]);
  });
});

describe('nothing to do (issue 15)', () => {
  it('a second fence succeeds with nothing to do', async () => {
    const { fetch, calls } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('fenced', 'us-east-1', 4, 'ap-northeast-1'))],
    });
    const result = await fence(env(fetch));
    expect(result).toMatchObject({ timeline: [], nothingToDo: 'already fenced at epoch 4 (writer was us-east-1)' });
    expect(calls.filter((c) => c.key.startsWith('PUT'))).toEqual([]);
  });

  it('a second failover to the same region succeeds the same way, even with the other region down', async () => {
    const { fetch } = fakeFetch({
      'GET http://us.test/state/photos': ['down'],
      'GET http://ap.test/state/photos': [ok(record('failover', 'ap-northeast-1', 5, 'ap-northeast-1'))],
    });
    const result = await failover(env(fetch));
    expect(result).toMatchObject({
      timeline: [],
      nothingToDo: 'ap-northeast-1 already takes writes (failover, epoch 5)',
    });
  });

  it('activate when not fenced has nothing to do', async () => {
    const { fetch } = fakeFetch({
      'GET http://us.test/state/photos': [ok(record('active', 'us-east-1', 3, 'us-east-1'))],
      'GET http://ap.test/state/photos': [ok(record('active', 'us-east-1', 3, 'ap-northeast-1'))],
    });
    expect((await activate(env(fetch))).nothingToDo).toMatch(/^not fenced: us-east-1 already takes writes/);
  });
});
