/**
 * @module Replication lag at a steady 500 comment writes a second: for each write, the
 * time from the primary's acknowledgement (its 201 reaching the client) to the moment
 * the secondary's database shows it (the visibility observer). Both are read on
 * CLOCK_MONOTONIC, in two processes; nothing polls the region's API, so nothing adds
 * load or round trips to the figure.
 */
import { join } from 'node:path';
import type { OpenLoopResult } from './comment-load.js';
import { type BenchContext, ourProcesses, target } from './context.js';
import { CpuMeter } from './proc-stats.js';
import { uploadSmallPhoto, waitCaughtUp } from './region-api.js';
import { type Distribution, distribution } from './stats.js';

export const lagMethod = (intervalUs: number) =>
  'ack = the 201 reaching the load generator; visible = the first read that returns the row in a separate process ' +
  "that has the secondary's SQLite database open read-only (WAL: a row is visible to readers the moment its " +
  "transaction commits, as to the region's own handlers), woken by inotify on every write to the WAL file and then " +
  `polling every ${intervalUs} µs until the commit shows, with a 2 ms poll as a safety net; both times on ` +
  'CLOCK_MONOTONIC; lag = visible - ack (negative when the secondary had it before the 201 reached the client)';

/** The figures of an open-loop lag measurement, of mraa or of PostgreSQL (bench/postgres/pg-lag.ts). */
export interface LagFigures {
  writesPerSec: number;
  targetRate: number;
  durationSec: number;
  samples: number;
  lagMs: Distribution;
  /** Writes visible in the secondary (standby) before their acknowledgement reached the client. */
  visibleBeforeAck: number;
  neverVisible: number;
  writeLatencyMs: Distribution;
  scheduleLateMsP99: number;
  errors: Record<string, number>;
}

/** The common figures of an open-loop run: its window, rate, lag and write latency (mraa's and PostgreSQL's). */
export function lagFigures(
  counted: ReadonlyArray<{ dueNs: bigint; sentNs: bigint; ackNs: bigint }>,
  values: number[],
  neverVisible: number,
  targetRate: number,
  errors: Record<string, number>,
): LagFigures {
  // biome-ignore lint/complexity/useMathMinMax: bigint nanoseconds; Math.min takes numbers
  const first = counted.reduce((m, a) => (a.dueNs < m ? a.dueNs : m), counted[0]!.dueNs);
  // biome-ignore lint/complexity/useMathMinMax: bigint nanoseconds; Math.max takes numbers
  const last = counted.reduce((m, a) => (a.ackNs > m ? a.ackNs : m), counted[0]!.ackNs);
  const windowS = Number(last - first) / 1e9;
  return {
    writesPerSec: counted.length / windowS,
    targetRate,
    durationSec: windowS,
    samples: values.length,
    lagMs: distribution(values),
    visibleBeforeAck: values.filter((v) => v < 0).length,
    neverVisible,
    writeLatencyMs: distribution(counted.map((a) => Number(a.ackNs - a.sentNs) / 1e6)),
    scheduleLateMsP99: distribution(counted.map((a) => Number(a.sentNs - a.dueNs) / 1e6)).p99,
    errors,
  };
}

export interface LagResult extends LagFigures {
  observer: {
    intervalUs: number;
    polls: number;
    commits: number;
    foundBy: { event: number; fallback: number };
    cpuShare: number;
  };
  /** Batches the secondary applied a second while the load ran, and writes per batch. */
  batches: { perSec: number; meanWrites: number };
  cpu: Record<string, number>;
  method: string;
  /** With --diagnose: each write's lag split at its commit in the primary (its row first visible there). */
  breakdown?: { commitToAckMs: Distribution; commitToSecondaryMs: Distribution; samples: number };
  /** All lag samples, for the chart (not written to JSON). */
  values: number[];
}

export async function measureLag(ctx: BenchContext): Promise<LagResult> {
  const { deployment: dep, options } = ctx;
  const s = options.samples.lag;
  const photoId = await uploadSmallPhoto(dep.primary.url, dep.adminToken);
  await waitCaughtUp(dep.primary.url, dep.adminToken);
  await ctx.observer.call('watchComments', {
    dbPath: join(dep.dataDir(dep.secondary.name), 'region.db'),
    origin: dep.primary.name,
    intervalUs: s.observerIntervalUs,
  });
  const atPrimary = options.diagnose ? ctx.startObserver() : undefined;
  await atPrimary?.call('watchComments', {
    dbPath: join(dep.dataDir(dep.primary.name), 'region.db'),
    origin: null,
    intervalUs: s.observerIntervalUs,
  });
  const cpu = new CpuMeter({ ...(await ourProcesses(ctx)), ...(atPrimary ? { primaryObserver: atPrimary.pid } : {}) });
  ctx.log(
    `  ${s.rate} writes/s for ${(s.warmupMs + s.durationMs) / 1000} s (the first ${s.warmupMs / 1000} s not counted)`,
  );
  const run = await ctx.loadGenerator.call<OpenLoopResult>('openLoop', {
    target: target(dep.primary.url, dep.adminToken, photoId),
    options: { rate: s.rate, durationMs: s.durationMs, warmupMs: s.warmupMs, tag: 'bench-lag' },
  });
  const cpuShares = cpu.stop();
  const counted = run.acked.filter((a) => !a.warmup);
  await ctx.observer.call('awaitComments', { ids: counted.map((a) => a.commentId), timeoutMs: 30_000 });
  const seen = await ctx.observer.call<{ visible: Map<string, bigint> } & LagResult['observer']>('stopComments');

  const committed = atPrimary
    ? (await atPrimary.call<{ visible: Map<string, bigint> }>('stopComments')).visible
    : undefined;
  await atPrimary?.close();
  const values: number[] = [];
  let neverVisible = 0;
  for (const a of counted) {
    const at = seen.visible.get(a.commentId);
    if (at === undefined) neverVisible++;
    else values.push(Number(at - a.ackNs) / 1e6);
  }
  let breakdown: LagResult['breakdown'];
  if (committed) {
    const both = counted.filter((a) => committed.has(a.commentId) && seen.visible.has(a.commentId));
    breakdown = {
      commitToAckMs: distribution(both.map((a) => Number(a.ackNs - committed.get(a.commentId)!) / 1e6)),
      commitToSecondaryMs: distribution(
        both.map((a) => Number(seen.visible.get(a.commentId)! - committed.get(a.commentId)!) / 1e6),
      ),
      samples: both.length,
    };
  }
  return {
    ...lagFigures(counted, values, neverVisible, s.rate, run.errors),
    observer: {
      intervalUs: seen.intervalUs,
      polls: seen.polls,
      commits: seen.commits,
      foundBy: seen.foundBy,
      cpuShare: seen.cpuShare,
    },
    batches: {
      perSec: seen.commits / (Number(run.endNs - run.startNs) / 1e9),
      meanWrites: (seen.foundBy.event + seen.foundBy.fallback) / seen.commits,
    },
    cpu: cpuShares,
    method: lagMethod(s.observerIntervalUs),
    ...(breakdown ? { breakdown } : {}),
    values,
  };
}
