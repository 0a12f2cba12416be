/**
 * @module Planned failover (and failback) from the decision to the first write the new
 * region accepts: idle, then under a steady 200 writes a second, several times each.
 */
import { type BenchContext, ourProcesses } from './context.js';
import type { MoveTiming } from './failover.js';
import { CpuMeter } from './proc-stats.js';
import { uploadSmallPhoto, waitCaughtUp } from './region-api.js';
import { type Distribution, distribution, median } from './stats.js';

export interface FailoverFigures {
  idleMs: number;
  loadedMs: number;
  samples: { idle: number; loaded: number };
  idle: Distribution;
  loaded: Distribution;
  failbackIdle: Distribution;
  failbackLoaded: Distribution;
  loadRate: number;
  /** The trial closest to the median of each mode, with its timeline (for the chart). */
  representative: { idle: MoveTiming; loaded: MoveTiming };
  cpu: { idle: Record<string, number>; loaded: Record<string, number> };
  /** Every move: plan steps (no responses). */
  moves: Array<Omit<MoveTiming, 'responses'>>;
}

export async function measureFailover(ctx: BenchContext): Promise<FailoverFigures> {
  const dep = ctx.deployment;
  const s = ctx.options.samples.failover;
  const photoId = await uploadSmallPhoto(dep.primary.url, dep.adminToken);
  await waitCaughtUp(dep.primary.url, dep.adminToken);
  const regions = dep.config.regions.map((r) => ({ name: r.name, url: r.url, role: r.role }));
  const moves: MoveTiming[] = [];
  const cpu: Record<string, Record<string, number>> = {};
  for (const mode of ['idle', 'loaded'] as const) {
    const meter = new CpuMeter(await ourProcesses(ctx));
    const out = await ctx.loadGenerator.call<MoveTiming[]>('failoverTrials', {
      appId: dep.config.appId,
      regions,
      token: dep.adminToken,
      photoId,
      mode,
      trials: s.trials,
      rate: s.loadRate,
      steadyMs: s.steadyMs,
      timeoutMs: 30_000,
    });
    cpu[mode] = meter.stop();
    for (const m of out)
      ctx.log(
        `  ${mode.padEnd(6)} ${m.direction.padEnd(8)} ${m.from} → ${m.to}: first write accepted after ${m.firstWriteMs.toFixed(0)} ms (plan ${m.planMs.toFixed(0)} ms)`,
      );
    moves.push(...out);
  }
  const times = (mode: 'idle' | 'loaded', direction: 'failover' | 'failback') =>
    moves.filter((m) => m.mode === mode && m.direction === direction).map((m) => m.firstWriteMs);
  const representative = (mode: 'idle' | 'loaded') => {
    const list = moves.filter((m) => m.mode === mode && m.direction === 'failover');
    const mid = median(list.map((m) => m.firstWriteMs));
    return list.reduce((best, m) => (Math.abs(m.firstWriteMs - mid) < Math.abs(best.firstWriteMs - mid) ? m : best));
  };
  return {
    idleMs: median(times('idle', 'failover')),
    loadedMs: median(times('loaded', 'failover')),
    samples: { idle: times('idle', 'failover').length, loaded: times('loaded', 'failover').length },
    idle: distribution(times('idle', 'failover')),
    loaded: distribution(times('loaded', 'failover')),
    failbackIdle: distribution(times('idle', 'failback')),
    failbackLoaded: distribution(times('loaded', 'failback')),
    loadRate: s.loadRate,
    representative: { idle: representative('idle'), loaded: representative('loaded') },
    cpu: { idle: cpu.idle!, loaded: cpu.loaded! },
    moves: moves.map(({ responses: _r, ...m }) => m),
  };
}
