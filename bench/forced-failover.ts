/**
 * @module The client side of a forced failover with the writer partitioned (in the
 * load generator): a stale client that keeps writing straight to the old writer (it
 * never follows the state: it shows when the old writer stops acknowledging, and that
 * it does not start again), and, from the decision on, one client that writes
 * through the routing client (`src/routing/client`) as an application would, retrying
 * every refusal, until the new writer accepts a write (as bench/failover.ts times a
 * planned failover). Every answer is timed on CLOCK_MONOTONIC, shared with the
 * orchestrator, which cuts the network and makes the decision.
 */
import { EventSource } from 'eventsource';
import type { PlanRegion } from '../src/orchestration/plan.js';
import { type EventSourceConstructor, RoutingClient } from '../src/routing/client/index.js';
import { nowMs, sleep } from './clock.js';

export interface ForcedProbeArgs {
  appId: string;
  regions: PlanRegion[];
  token: string;
  photoId: string;
  /** The writer that will be partitioned: the stale client writes to it. */
  oldWriter: string;
  /** Pause between two writes of one client (after its answer). */
  pauseMs: number;
}

export interface WriteMark {
  client: 'stale' | 'routed';
  region: string;
  /** When the request was sent and when its answer arrived (ms, CLOCK_MONOTONIC). */
  sentAt: number;
  at: number;
  status: number;
  code?: string;
}

interface Probe {
  args: ForcedProbeArgs;
  client: RoutingClient;
  marks: WriteMark[];
  stopStale: boolean;
  stale: Promise<void>;
}

let probe: Probe | undefined;

/** Starts the stale client (and the routing client's state subscription); resolves once the old writer has acknowledged a few writes. */
export async function forcedProbeStart(args: ForcedProbeArgs): Promise<void> {
  if (probe) throw new Error('a forced-failover probe is already running');
  const client = new RoutingClient({
    config: { appId: args.appId, regions: args.regions.map((r) => ({ ...r })) },
    EventSource: EventSource as unknown as EventSourceConstructor,
  });
  await client.start();
  const old = args.regions.find((r) => r.name === args.oldWriter)!;
  const p: Probe = { args, client, marks: [], stopStale: false, stale: Promise.resolve() };
  probe = p;
  p.stale = (async () => {
    for (let i = 0; !p.stopStale; i++) {
      const path = `/comments/${args.photoId}`;
      p.marks.push(
        await timedWrite(
          'stale',
          (init) => fetch(old.url + path, init),
          args.token,
          `bench-stale-${i}`,
          () => old.name,
        ),
      );
      await sleep(args.pauseMs);
    }
  })();
  const deadline = nowMs() + 30_000;
  while (
    p.marks.filter((m) => m.status === 201).length < 5 ||
    client.record?.activeRegion !== args.oldWriter ||
    client.record.state === 'fenced'
  ) {
    if (nowMs() > deadline) {
      await stopProbe();
      throw new Error(`${args.oldWriter} acknowledged no writes, or the routing client did not see it as the writer`);
    }
    await sleep(10);
  }
}

/**
 * From the decision `t0`: writes through the routing client until `to` accepts one,
 * keeps the stale client writing `tailMs` longer, then stops both and returns every
 * answer since `since`.
 */
export async function forcedProbeFinish(a: {
  t0: number;
  since: number;
  to: string;
  tailMs: number;
  timeoutMs: number;
}): Promise<WriteMark[]> {
  const p = probe;
  if (!p) throw new Error('no forced-failover probe running');
  try {
    const regionOf = (url: string) => p.args.regions.find((r) => url.startsWith(r.url))?.name ?? 'unknown';
    for (let i = 0; ; i++) {
      if (nowMs() - a.t0 > a.timeoutMs)
        throw new Error(`no write accepted in ${a.to} within ${a.timeoutMs} ms of the decision`);
      const mark = await timedWrite(
        'routed',
        (init) => p.client.request(`/comments/${p.args.photoId}`, init),
        p.args.token,
        `bench-forced-${i}`,
        (res) => (res ? regionOf(res.url) : (p.client.record?.activeRegion ?? 'unknown')),
      );
      p.marks.push(mark);
      if (mark.status === 201 && mark.region === a.to) break;
      await sleep(p.args.pauseMs);
    }
    await sleep(a.tailMs);
    return p.marks.filter((m) => m.at >= a.since);
  } finally {
    await stopProbe();
  }
}

async function stopProbe(): Promise<void> {
  const p = probe;
  if (!p) return;
  p.stopStale = true;
  await p.stale;
  p.client.close();
  probe = undefined;
}

/** One comment write, timed; network failures and timeouts are status 0. */
async function timedWrite(
  client: WriteMark['client'],
  send: (init: RequestInit) => Promise<Response>,
  token: string,
  message: string,
  regionOf: (res: Response | undefined) => string,
): Promise<WriteMark> {
  const sentAt = nowMs();
  try {
    const res = await send({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message }),
      signal: AbortSignal.timeout(5000),
    });
    const at = nowMs();
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
    const code = body.error?.code;
    return { client, region: regionOf(res), sentAt, at, status: res.status, ...(code ? { code } : {}) };
  } catch {
    return { client, region: regionOf(undefined), sentAt, at: nowMs(), status: 0, code: 'network' };
  }
}
