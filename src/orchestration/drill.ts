/**
 * @module A DR drill: a steady write load through the routing layer, a failover
 * (planned, or ungraceful: the primary's process killed) and a failback, then a check
 * that every acknowledged write is in every region. Measures RPO and RTO.
 */
import { type EventSourceConstructor, RoutingClient } from '../routing/client/index.js';
import type { DrillReport, DrillTimelineStep } from './drill-report.js';
import {
  failback,
  failover,
  newestState,
  type PlanEnvironment,
  type PlanRegion,
  type PlanResult,
  type PlanStep,
} from './plan.js';
import { WriteLoad } from './write-load.js';

export interface DrillEnvironment extends PlanEnvironment {
  EventSource: EventSourceConstructor;
  /** The edge of a local deployment (`mraa up`), whose controls stop and start region processes. */
  edgeUrl?: string;
  /** A small image for the drill's photo. */
  image: () => Promise<Buffer>;
  log: (line: string) => void;
}

export interface DrillOptions {
  /** Writes a second. */
  rate: number;
  /** How long each phase of load runs (before, during and after the failover). */
  phaseMs: number;
  ungraceful: boolean;
  drainTimeoutMs: number;
}

const SETTLE_TIMEOUT_MS = 60_000;
const FIRST_WRITE_TIMEOUT_MS = 30_000;

class DrillError extends Error {}

export async function runDrill(env: DrillEnvironment, opts: DrillOptions): Promise<DrillReport> {
  const kind = opts.ungraceful ? 'ungraceful' : 'graceful';
  const startedAt = new Date();
  const id = `${startedAt.toISOString().replace(/[:.]/g, '-')}-${kind}`;
  const timeline: DrillTimelineStep[] = [];
  const problems: string[] = [];
  const primary = env.regions.find((r) => r.role === 'primary')!;
  const secondary = env.regions.find((r) => r.role !== 'primary')!;
  const mark = async <T>(step: string, work: () => Promise<T>, detail?: (v: T) => string): Promise<T> => {
    const t0 = Date.now();
    env.log(`… ${step}`);
    const value = await work();
    const entry: DrillTimelineStep = {
      step,
      startedAt: new Date(t0).toISOString(),
      durationMs: Date.now() - t0,
      ...(detail ? { detail: detail(value) } : {}),
    };
    timeline.push(entry);
    env.log(`✓ ${step} (${entry.durationMs} ms)${entry.detail ? `: ${entry.detail}` : ''}`);
    return value;
  };
  const planSteps = (prefix: string, result: PlanResult) => {
    for (const s of result.timeline) timeline.push(fromPlanStep(prefix, s));
  };

  const { newest, answers } = await newestState(env);
  const down = answers.filter((a) => !a.record);
  if (down.length)
    throw new DrillError(
      `every region must be up for a drill; ${down.map((a) => a.region.name).join(', ')} did not answer`,
    );
  if (newest?.state !== 'active' || newest.activeRegion !== primary.name) {
    throw new DrillError(
      `a drill starts from "active" in ${primary.name}; the state is ${newest?.state} in ${newest?.activeRegion} (run mraa failback or mraa activate first)`,
    );
  }
  if (opts.ungraceful && !env.edgeUrl)
    throw new DrillError('--ungraceful kills a region process: it needs a local deployment (mraa up)');

  const client = new RoutingClient({
    config: { appId: env.appId, regions: env.regions.map((r) => ({ ...r })) },
    EventSource: env.EventSource,
  });
  await client.start();
  const regionOfUrl = (url: string) => env.regions.find((r) => url.startsWith(r.url))?.name ?? 'unknown';
  const photoId = await mark('upload the drill photo', async () => {
    const res = await client.request('/photos', {
      method: 'POST',
      headers: { authorization: `Bearer ${env.token}`, 'content-type': 'image/png' },
      body: new Uint8Array(await env.image()),
    });
    if (res.status !== 201)
      throw new DrillError(`could not upload the drill photo: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { photoId: string }).photoId;
  });
  const load = new WriteLoad({ client, photoId, token: env.token, rate: opts.rate, tag: `drill-${id}`, regionOfUrl });
  const phase = (what: string) =>
    mark(
      what,
      () => new Promise<void>((r) => setTimeout(r, opts.phaseMs)),
      () => `${load.acked.length} writes acknowledged so far`,
    );
  load.start();
  let rtoMs = Number.NaN;
  let failbackRtoMs: number | null = null;
  try {
    await phase(`steady load in ${primary.name}`);
    const decision = Date.now();
    if (opts.ungraceful) {
      await mark(`kill ${primary.name}'s process (the outage)`, () => localControl(env, primary.name, 'stop'));
      planSteps('failover', await failover(env, { to: secondary.name, force: true, reason: `drill ${id}` }));
    } else {
      planSteps(
        'failover',
        await failover(env, { to: secondary.name, timeoutMs: opts.drainTimeoutMs, reason: `drill ${id}` }),
      );
    }
    const first = await mark(
      `first write accepted in ${secondary.name}`,
      () => firstAck(load, decision, secondary.name),
      (a) => `${a.at - decision} ms after the decision`,
    );
    rtoMs = first.at - decision;
    await phase(`load in ${secondary.name}`);
    if (opts.ungraceful) {
      await mark(`restart ${primary.name}`, async () => {
        await localControl(env, primary.name, 'start');
        await waitUntil(
          `${primary.name} to be ready`,
          async () => (await fetch(`${primary.url}/readyz`).catch(() => undefined))?.ok === true,
          SETTLE_TIMEOUT_MS,
        );
      });
    }
    const back = Date.now();
    planSteps('failback', await failback(env, { timeoutMs: opts.drainTimeoutMs, reason: `drill ${id}` }));
    const firstBack = await mark(
      `first write accepted in ${primary.name}`,
      () => firstAck(load, back, primary.name),
      (a) => `${a.at - back} ms after the decision`,
    );
    failbackRtoMs = firstBack.at - back;
    await phase(`load in ${primary.name} again`);
  } finally {
    await load.stop();
  }

  await mark(
    'wait for replication to settle',
    () => settle(env),
    () => 'nothing left to ship',
  );
  const present = await mark(
    'read every acknowledged write in every region',
    () => readAll(env, photoId),
    (p) =>
      Object.entries(p)
        .map(([r, c]) => `${r}: ${c.length}`)
        .join(', '),
  );
  client.close();

  const missingPerRegion: Record<string, number> = {};
  const lostEverywhere = new Set(load.acked.map((a) => a.commentId));
  let duplicated = 0;
  for (const [region, comments] of Object.entries(present)) {
    const ids = new Set(comments.map((c) => c.commentId));
    missingPerRegion[region] = load.acked.filter((a) => !ids.has(a.commentId)).length;
    for (const id of ids) lostEverywhere.delete(id);
    const seen = new Map<string, number>();
    for (const c of comments) seen.set(c.message, (seen.get(c.message) ?? 0) + 1);
    duplicated = Math.max(duplicated, [...seen.values()].filter((n) => n > 1).length);
  }
  const rpo = lostEverywhere.size;
  if (rpo > 0) problems.push(`${rpo} acknowledged write(s) are in no region`);
  for (const [region, n] of Object.entries(missingPerRegion))
    if (n > 0) problems.push(`${n} acknowledged write(s) missing in ${region}`);
  if (duplicated > 0) problems.push(`${duplicated} write(s) present more than once`);
  return {
    id,
    kind,
    startedAt: startedAt.toISOString(),
    ok: problems.length === 0,
    rpo,
    rtoMs,
    failbackRtoMs,
    rate: opts.rate,
    regions: { from: primary.name, to: secondary.name },
    writes: { attempted: load.attempted, acknowledged: load.acked.length, lost: rpo, duplicated, missingPerRegion },
    errors: load.errorCounts(),
    timeline,
    problems,
  };
}

export { DrillError };

function fromPlanStep(prefix: string, s: PlanStep): DrillTimelineStep {
  return {
    step: `${prefix}: ${s.step}`,
    startedAt: s.startedAt,
    durationMs: s.durationMs ?? 0,
    ...(s.detail ? { detail: s.detail } : {}),
  };
}

async function firstAck(load: WriteLoad, since: number, region: string) {
  let found: ReturnType<WriteLoad['firstAckAfter']>;
  await waitUntil(
    `a write accepted in ${region}`,
    () => {
      found = load.firstAckAfter(since, region);
      return Promise.resolve(found !== undefined);
    },
    FIRST_WRITE_TIMEOUT_MS,
    2,
  );
  return found!;
}

async function localControl(env: DrillEnvironment, region: string, action: 'stop' | 'start'): Promise<void> {
  const res = await fetch(`${env.edgeUrl}/local/regions/${region}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.token}` },
  });
  if (!res.ok) throw new DrillError(`the edge refused to ${action} ${region}: HTTP ${res.status} ${await res.text()}`);
}

async function settle(env: DrillEnvironment): Promise<void> {
  await waitUntil(
    'replication to settle',
    async () => {
      const all = await Promise.all(env.regions.map((r) => status(env, r)));
      return all.every((s) => s?.peers.every((p) => p.connected && p.backlog.entries === 0));
    },
    SETTLE_TIMEOUT_MS,
    100,
  );
}

async function status(env: DrillEnvironment, region: PlanRegion) {
  const res = await fetch(`${region.url}/status`, { headers: { authorization: `Bearer ${env.token}` } }).catch(
    () => undefined,
  );
  return res?.ok
    ? ((await res.json()) as { peers: Array<{ connected: boolean; backlog: { entries: number } }> })
    : undefined;
}

async function readAll(
  env: DrillEnvironment,
  photoId: string,
): Promise<Record<string, Array<{ commentId: string; message: string }>>> {
  const out: Record<string, Array<{ commentId: string; message: string }>> = {};
  for (const region of env.regions) {
    const list: Array<{ commentId: string; message: string }> = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
      const res = await fetch(`${region.url}/comments/${photoId}${q}`, {
        headers: { authorization: `Bearer ${env.token}` },
      });
      if (!res.ok) throw new DrillError(`could not read the comments in ${region.name}: HTTP ${res.status}`);
      const page = (await res.json()) as {
        comments: Array<{ commentId: string; message: string }>;
        nextCursor: string | null;
      };
      list.push(...page.comments);
      cursor = page.nextCursor;
    } while (cursor);
    out[region.name] = list;
  }
  return out;
}

async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new DrillError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
