/**
 * @module Write throughput at saturation, the same server with replication on and off
 * in the same run: a second deployment runs with MRAA_REPLICATION=off (its regions do
 * not ship their logs), and closed-loop trials alternate between the two. After each
 * trial with replication on, the secondary's backlog is recorded and drained before
 * the next trial, so no trial pays for another's replication.
 */

import type { ClosedLoopResult } from './comment-load.js';
import { type BenchContext, ourProcesses, target } from './context.js';
import { type BenchDeployment, startDeployment } from './deployment.js';
import { CpuMeter } from './proc-stats.js';
import { regionStatus, uploadSmallPhoto, waitCaughtUp } from './region-api.js';
import { type Distribution, distribution, median } from './stats.js';

export interface ThroughputTrial {
  replication: 'on' | 'off';
  round: number;
  writesPerSec: number;
  completed: number;
  latencyMs: Distribution;
  errors: Record<string, number>;
  /** Replication on: what the secondary had not acknowledged when the trial ended, and how long it took to catch up. */
  backlogAtEnd?: { entries: number; lagMs: number; catchUpMs: number };
  cpu: Record<string, number>;
}

export interface ThroughputResult {
  withReplication: number;
  withoutReplication: number;
  /** withReplication / withoutReplication (the medians). */
  ratio: number;
  /** The median of each round's on/off ratio (the two trials of a round run back to back: less exposed to drifting noise). */
  pairedRatio: number;
  /** Trials per mode, and the writes they counted. */
  samples: { withReplication: number; withoutReplication: number };
  writesCounted: { withReplication: number; withoutReplication: number };
  concurrency: number;
  trialSec: number;
  trials: ThroughputTrial[];
}

export async function measureThroughput(ctx: BenchContext): Promise<ThroughputResult> {
  const s = ctx.options.samples.throughput;
  const on = ctx.deployment;
  const off = await startDeployment({
    label: 'replication-off',
    env: { ...ctx.deploymentEnv, MRAA_REPLICATION: 'off' },
    maxUploadBytes: on.config.settings.maxUploadBytes,
  });
  try {
    const photos = new Map<BenchDeployment, string>();
    for (const dep of [on, off]) photos.set(dep, await uploadSmallPhoto(dep.primary.url, dep.adminToken));
    await waitCaughtUp(on.primary.url, on.adminToken);
    // One unmeasured trial each first: a fresh process's code is not yet optimised.
    for (const dep of [on, off]) {
      await ctx.loadGenerator.call<ClosedLoopResult>('closedLoop', {
        target: target(dep.primary.url, dep.adminToken, photos.get(dep)!),
        options: {
          concurrency: s.concurrency,
          durationMs: s.warmupMs,
          warmupMs: s.warmupMs,
          tag: 'bench-throughput-warmup',
        },
      });
    }
    await waitCaughtUp(on.primary.url, on.adminToken);
    const trials: ThroughputTrial[] = [];
    for (let round = 0; round < s.rounds; round++) {
      const order: Array<'on' | 'off'> = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      for (const replication of order) {
        const dep = replication === 'on' ? on : off;
        const cpu = new CpuMeter(await ourProcesses(ctx, [on, off]));
        const r = await ctx.loadGenerator.call<ClosedLoopResult>('closedLoop', {
          target: target(dep.primary.url, dep.adminToken, photos.get(dep)!),
          options: {
            concurrency: s.concurrency,
            durationMs: s.trialMs,
            warmupMs: s.warmupMs,
            tag: `bench-throughput-${replication}-${round}`,
          },
        });
        const cpuShares = cpu.stop();
        const trial: ThroughputTrial = {
          replication,
          round,
          writesPerSec: r.writesPerSec,
          completed: r.completed,
          latencyMs: distribution(r.latencyMs),
          errors: r.errors,
          cpu: cpuShares,
        };
        if (replication === 'on') {
          const status = await regionStatus(dep.primary.url, dep.adminToken);
          const peer = status.peers[0]!;
          trial.backlogAtEnd = {
            entries: peer.backlog.entries,
            lagMs: peer.lagMs,
            catchUpMs: await waitCaughtUp(dep.primary.url, dep.adminToken),
          };
        }
        trials.push(trial);
        ctx.log(
          `  replication ${replication.padEnd(3)} round ${round + 1}: ${r.writesPerSec.toFixed(0)} writes/s (p50 ${trial.latencyMs.p50.toFixed(1)} ms)` +
            (trial.backlogAtEnd
              ? `, backlog at end ${trial.backlogAtEnd.entries} entries, caught up in ${trial.backlogAtEnd.catchUpMs} ms`
              : ''),
        );
      }
    }
    const rates = (mode: 'on' | 'off') => trials.filter((t) => t.replication === mode).map((t) => t.writesPerSec);
    const withReplication = median(rates('on'));
    const withoutReplication = median(rates('off'));
    const counted = (mode: 'on' | 'off') =>
      trials.filter((t) => t.replication === mode).reduce((n, t) => n + t.completed, 0);
    const pairs = Array.from({ length: s.rounds }, (_, round) => {
      const of = (mode: 'on' | 'off') => trials.find((t) => t.round === round && t.replication === mode)!.writesPerSec;
      return of('on') / of('off');
    });
    return {
      withReplication,
      withoutReplication,
      ratio: withReplication / withoutReplication,
      pairedRatio: median(pairs),
      samples: { withReplication: rates('on').length, withoutReplication: rates('off').length },
      writesCounted: { withReplication: counted('on'), withoutReplication: counted('off') },
      concurrency: s.concurrency,
      trialSec: s.trialMs / 1000,
      trials,
    };
  } finally {
    await off.close(ctx.options.keep);
  }
}
