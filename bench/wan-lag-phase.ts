/**
 * @module Replication lag over a long link (`--wan`): for each one-way delay, the same
 * delay on every region's proxy, both directions (the witness's proxy left undelayed),
 * then mraa's lag phase (lag-phase.ts) at the WAN rate and duration, and right after
 * it PostgreSQL's streaming replication through its own proxy at the same delay, rate
 * and duration (postgres/pg-lag.ts), the two side by side with their ratios.
 */
import type { FaultProxy } from '../test/helpers/fault-proxy.js';
import type { BenchContext } from './context.js';
import { type LagResult, measureLag } from './lag-phase.js';
import { comparisonLine, type LagRatios, lagRatios } from './postgres/comparison.js';
import type { PgLagResult, PostgresBench } from './postgres/pg-lag.js';

/** PostgreSQL for a WAN run: the pair's standby reaches its primary through `proxy`. */
export type WanPostgres = { bench: PostgresBench; proxy: FaultProxy } | { skipped: string };

export interface WanLagRow {
  delayMs: number;
  mraa: Omit<LagResult, 'values'>;
  postgres: Omit<PgLagResult, 'values'> | { skipped: string };
  /** mraa / PostgreSQL, p50 and p99. */
  ratios: LagRatios | null;
}

export async function measureWanLag(ctx: BenchContext, pg: WanPostgres): Promise<WanLagRow[]> {
  const w = ctx.options.samples.wan;
  const { samples } = ctx.options;
  const lagCtx: BenchContext = {
    ...ctx,
    options: {
      ...ctx.options,
      samples: { ...samples, lag: { ...samples.lag, rate: w.rate, durationMs: w.durationMs, warmupMs: w.warmupMs } },
    },
  };
  const rows: WanLagRow[] = [];
  try {
    for (const delayMs of w.delaysMs) {
      ctx.log(`  one-way delay ${delayMs} ms on every region link${delayMs === 0 ? ' (through the proxies)' : ''}`);
      ctx.deployment.setRegionLinks({ delayMs, bandwidthBytesPerSec: null });
      const { values: _v, ...mraa } = await measureLag(lagCtx);
      ctx.log(
        `    mraa: lag p50 ${mraa.lagMs.p50.toFixed(1)} ms, p99 ${mraa.lagMs.p99.toFixed(1)} ms (${mraa.samples})`,
      );
      let postgres: WanLagRow['postgres'];
      if ('skipped' in pg) postgres = { skipped: pg.skipped };
      else {
        pg.proxy.setLink({ delayMs, bandwidthBytesPerSec: null });
        ctx.log(`    PostgreSQL through its proxy, ${w.rate} inserts/s for ${(w.warmupMs + w.durationMs) / 1000} s`);
        const { values: _pv, ...r } = await pg.bench.measure(
          { rate: w.rate, durationMs: w.durationMs, warmupMs: w.warmupMs },
          `proxy, ${delayMs} ms each way`,
        );
        postgres = r;
      }
      const ratios = 'skipped' in postgres ? null : lagRatios(mraa.lagMs, postgres.lagMs);
      if (!('skipped' in postgres)) ctx.log(`    ${comparisonLine(mraa.lagMs, postgres.lagMs)}`);
      rows.push({ delayMs, mraa, postgres, ratios });
    }
  } finally {
    ctx.deployment.setRegionLinks({ delayMs: 0, bandwidthBytesPerSec: null });
    if (!('skipped' in pg)) pg.proxy.setLink({ delayMs: 0, bandwidthBytesPerSec: null });
  }
  return rows;
}
