/**
 * @module mraa's replication lag beside PostgreSQL's, measured in the same run: the
 * loopback measurement of the `lag` phase (right after mraa's, the same rate, warm-up
 * and duration, the standby connected to the primary directly), and the ratios
 * mraa / PostgreSQL that DESIGN §8 sets targets on. Where PostgreSQL 15 is not
 * installed the comparison is skipped with the reason.
 */
import type { BenchContext } from '../context.js';
import type { Distribution } from '../stats.js';
import { type PgLagResult, PostgresBench } from './pg-lag.js';
import { postgresMissing } from './server.js';

/** A PostgreSQL measurement, or why there is none. */
export type PgMeasurement = PgLagResult | { skipped: string };

export interface LagRatios {
  /** mraa's p50 / PostgreSQL's p50 (and p99), from the same run. */
  p50: number;
  p99: number;
}

export function lagRatios(mraa: Distribution, postgres: Distribution): LagRatios {
  return { p50: mraa.p50 / postgres.p50, p99: mraa.p99 / postgres.p99 };
}

export const measured = (m: PgMeasurement | undefined): PgLagResult | undefined =>
  m && !('skipped' in m) ? m : undefined;

const ms = (x: number) => `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)} ms`;

/** "mraa p50 … p99 … | PostgreSQL p50 … p99 … | ratio …" for the progress log. */
export function comparisonLine(mraa: Distribution, postgres: Distribution): string {
  const r = lagRatios(mraa, postgres);
  return (
    `mraa p50 ${ms(mraa.p50)} p99 ${ms(mraa.p99)} | PostgreSQL p50 ${ms(postgres.p50)} p99 ${ms(postgres.p99)} | ` +
    `mraa/PostgreSQL p50 ${r.p50.toFixed(2)}×, p99 ${r.p99.toFixed(2)}×`
  );
}

/** PostgreSQL streaming replication on loopback, measured like mraa's lag phase. */
export async function measurePostgresLoopback(ctx: BenchContext, mraa?: Distribution): Promise<PgMeasurement> {
  const missing = postgresMissing();
  if (missing) {
    ctx.log(`  PostgreSQL comparison skipped: ${missing}`);
    return { skipped: missing };
  }
  const s = ctx.options.samples.lag;
  ctx.log(`  PostgreSQL 15 streaming replication on loopback: ${s.rate} inserts/s, the same warm-up and duration`);
  const pg = await PostgresBench.start();
  try {
    const r = await pg.measure({ rate: s.rate, durationMs: s.durationMs, warmupMs: s.warmupMs }, 'loopback');
    ctx.log(
      `  PostgreSQL: ${r.writesPerSec.toFixed(1)} inserts/s; lag p50 ${ms(r.lagMs.p50)}, p90 ${ms(r.lagMs.p90)}, p99 ${ms(r.lagMs.p99)}, max ${ms(r.lagMs.max)}; ` +
        `commit p50 ${ms(r.writeLatencyMs.p50)}; observer ${r.observer.polls} queries (${r.observer.pollRttUs.toFixed(0)} µs each), ${(r.observer.cpuShare * 100).toFixed(0)}% of a core`,
    );
    if (mraa) ctx.log(`  ${comparisonLine(mraa, r.lagMs)}`);
    return r;
  } finally {
    await pg.close();
  }
}
