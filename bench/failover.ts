/**
 * @module Planned failover and failback timed from the operator's decision to the first
 * write the new region accepts, through the routing client (`src/routing/client`) as
 * an application would: idle (one client retrying a write in a tight loop after the
 * decision) or under a steady write load (`src/orchestration/write-load.ts`).
 */
import { EventSource } from 'eventsource';
import { failback, failover, type PlanEnvironment, type PlanRegion, type PlanStep } from '../src/orchestration/plan.js';
import { WriteLoad } from '../src/orchestration/write-load.js';
import { type EventSourceConstructor, RoutingClient } from '../src/routing/client/index.js';
import { nowMs, sleep } from './clock.js';

export interface FailoverArgs {
  appId: string;
  regions: PlanRegion[];
  token: string;
  photoId: string;
  mode: 'idle' | 'loaded';
  trials: number;
  /** Loaded mode: writes a second, and how long the load runs before and after each move. */
  rate: number;
  steadyMs: number;
  timeoutMs: number;
}

/** Times in ms from the decision. */
export interface StepTiming {
  step: PlanStep['step'];
  startMs: number;
  endMs: number;
  detail?: string;
}

export interface ResponseMark {
  atMs: number;
  region: string;
  status: number;
}

export interface MoveTiming {
  trial: number;
  direction: 'failover' | 'failback';
  from: string;
  to: string;
  mode: 'idle' | 'loaded';
  /** Decision → first write acknowledged by `to`. */
  firstWriteMs: number;
  planMs: number;
  steps: StepTiming[];
  /** Write responses the client saw around the move (ms from the decision). */
  responses: ResponseMark[];
}

export async function failoverTrials(a: FailoverArgs): Promise<MoveTiming[]> {
  const primary = a.regions.find((r) => r.role === 'primary')!;
  const secondary = a.regions.find((r) => r.role !== 'primary')!;
  const regionOf = (url: string) => a.regions.find((r) => url.startsWith(r.url))?.name ?? 'unknown';
  const responses: Array<{ at: number; region: string; status: number }> = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if ((init?.method ?? 'GET') === 'POST')
      responses.push({ at: nowMs(), region: regionOf(res.url), status: res.status });
    return res;
  };
  const client = new RoutingClient({
    config: { appId: a.appId, regions: a.regions.map((r) => ({ ...r })) },
    EventSource: EventSource as unknown as EventSourceConstructor,
    fetch: recordingFetch,
  });
  await client.start();
  const env: PlanEnvironment = { appId: a.appId, regions: a.regions, token: a.token };
  const post = (tag: string) =>
    client.request(`/comments/${a.photoId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.token}` },
      body: JSON.stringify({ message: tag }),
      signal: AbortSignal.timeout(5000),
    });
  const load =
    a.mode === 'loaded'
      ? new WriteLoad({
          client,
          photoId: a.photoId,
          token: a.token,
          rate: a.rate,
          tag: `bench-failover-${Date.now()}`,
          regionOfUrl: regionOf,
          now: nowMs,
        })
      : undefined;
  const out: MoveTiming[] = [];
  try {
    load?.start();
    for (let trial = 0; trial < a.trials; trial++) {
      for (const direction of ['failover', 'failback'] as const) {
        const [from, to] = direction === 'failover' ? [primary, secondary] : [secondary, primary];
        await waitFor(
          () => client.record?.activeRegion === from.name && client.record.state !== 'fenced',
          a.timeoutMs,
          `the client to see ${from.name} as the writer`,
        );
        await sleep(a.mode === 'loaded' ? a.steadyMs : 200);
        const steps: StepTiming[] = [];
        const t0 = nowMs();
        const onProgress = (s: PlanStep) => {
          const at = nowMs() - t0;
          let timing = steps.find((x) => x.step === s.step);
          if (!timing) {
            timing = { step: s.step, startMs: at, endMs: at };
            steps.push(timing);
          }
          if (s.status !== 'running') timing.endMs = at;
          if (s.detail) timing.detail = s.detail;
        };
        const plan = (
          direction === 'failover'
            ? failover(env, { to: to.name, onProgress, reason: 'bench' })
            : failback(env, { onProgress, reason: 'bench' })
        ).then(() => nowMs());
        const first = load
          ? firstAck(load, t0, to.name, a.timeoutMs)
          : retryUntilAccepted(post, to.name, regionOf, t0, a.timeoutMs, `bench-${direction}-${trial}`);
        const [planEnd, firstAt] = await Promise.all([plan, first]);
        if (load) await sleep(300);
        out.push({
          trial,
          direction,
          from: from.name,
          to: to.name,
          mode: a.mode,
          firstWriteMs: firstAt - t0,
          planMs: planEnd - t0,
          steps,
          responses: responses
            .filter((r) => r.at >= t0 - 300 && r.at <= firstAt + 300)
            .map((r) => ({ atMs: r.at - t0, region: r.region, status: r.status })),
        });
        responses.length = 0;
      }
    }
  } finally {
    await load?.stop();
    client.close();
  }
  return out;
}

/** One client: send a write, and on any refusal send it again at once, until `to` accepts one. */
async function retryUntilAccepted(
  post: (tag: string) => Promise<Response>,
  to: string,
  regionOf: (url: string) => string,
  t0: number,
  timeoutMs: number,
  tag: string,
): Promise<number> {
  for (let i = 0; nowMs() - t0 < timeoutMs; i++) {
    try {
      const res = await post(`${tag}-${i}`);
      const at = nowMs();
      await res.arrayBuffer();
      if (res.status === 201 && regionOf(res.url) === to) return at;
    } catch {
      /* unreachable or timed out: retry */
    }
  }
  throw new Error(`no write accepted in ${to} within ${timeoutMs} ms of the decision`);
}

async function firstAck(load: WriteLoad, t0: number, to: string, timeoutMs: number): Promise<number> {
  for (;;) {
    const ack = load.firstAckAfter(t0, to);
    if (ack) return ack.at;
    if (nowMs() - t0 > timeoutMs) throw new Error(`no write accepted in ${to} within ${timeoutMs} ms of the decision`);
    await sleep(2);
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = nowMs() + timeoutMs;
  while (!check()) {
    if (nowMs() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
