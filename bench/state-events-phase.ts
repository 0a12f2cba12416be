/**
 * @module State change delivery: 100 clients subscribed to the live state events,
 * half on each region; the primary is fenced and activated in turn, and each client's
 * receipt of each change is timed from the moment its PUT was sent.
 */
import { type BenchContext, ourProcesses } from './context.js';
import { CpuMeter } from './proc-stats.js';
import type { StateEventsResult } from './state-events.js';
import { type Distribution, distribution } from './stats.js';

export interface StateEventsFigures {
  p99Ms: number;
  deliveryMs: Distribution;
  /** Per region the subscribers were connected to (the writer, or the replica that learns by replication). */
  byRegion: Record<string, Distribution>;
  putMs: Distribution;
  subscribers: number;
  changes: number;
  samples: number;
  missed: number;
  cpu: Record<string, number>;
}

export async function measureStateEvents(ctx: BenchContext): Promise<StateEventsFigures> {
  const dep = ctx.deployment;
  const s = ctx.options.samples.stateEvents;
  const cpu = new CpuMeter(await ourProcesses(ctx));
  const r = await ctx.loadGenerator.call<StateEventsResult>('stateEvents', {
    appId: dep.config.appId,
    regions: [dep.primary, dep.secondary],
    primary: dep.primary.name,
    token: dep.adminToken,
    subscribers: s.subscribers,
    changes: s.changes,
    timeoutMs: 10_000,
  });
  const all = distribution(r.deliveries.map((d) => d.ms));
  const byRegion: Record<string, Distribution> = {};
  for (const region of [dep.primary.name, dep.secondary.name])
    byRegion[region] = distribution(r.deliveries.filter((d) => d.region === region).map((d) => d.ms));
  return {
    p99Ms: all.p99,
    deliveryMs: all,
    byRegion,
    putMs: distribution(r.putMs),
    subscribers: s.subscribers,
    changes: s.changes,
    samples: all.n,
    missed: r.missed,
    cpu: cpu.stop(),
  };
}
