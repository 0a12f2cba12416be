/**
 * @module The measurements of a `--wan` run (a deployment whose regions reach each other
 * through fault proxies), in order, and where each puts its figures: the lag at each
 * one-way delay beside PostgreSQL's (with a PostgreSQL pair whose standby reaches its
 * primary through a proxy of its own, started for the phase and removed after it), and
 * the head-of-line case.
 */
import { FaultProxy } from '../test/helpers/fault-proxy.js';
import type { BenchContext } from './context.js';
import { type HeadOfLineFigures, measureHeadOfLine } from './head-of-line-phase.js';
import type { WanPhase } from './options.js';
import { PostgresBench } from './postgres/pg-lag.js';
import { postgresMissing } from './postgres/server.js';
import { measureWanLag, type WanLagRow, type WanPostgres } from './wan-lag-phase.js';

export interface WanResults {
  lag?: WanLagRow[];
  headOfLine?: HeadOfLineFigures;
}

export async function runWanPhase(phase: WanPhase, ctx: BenchContext, results: WanResults): Promise<void> {
  switch (phase) {
    case 'wan-lag': {
      const pg = await startPostgresBehindProxy(ctx);
      try {
        results.lag = await measureWanLag(ctx, pg);
      } finally {
        if (!('skipped' in pg)) {
          await pg.bench.close();
          await pg.proxy.close();
        }
      }
      return;
    }
    case 'head-of-line':
      results.headOfLine = await measureHeadOfLine(ctx);
      return;
  }
}

/** A PostgreSQL pair whose standby's walreceiver connects through a fault proxy in front of the primary. */
async function startPostgresBehindProxy(ctx: BenchContext): Promise<WanPostgres> {
  const missing = postgresMissing();
  if (missing) {
    ctx.log(`  PostgreSQL comparison skipped: ${missing}`);
    return { skipped: missing };
  }
  let proxy: FaultProxy | undefined;
  try {
    const bench = await PostgresBench.start(async (primaryPort) => {
      proxy = new FaultProxy(primaryPort);
      return proxy.start();
    });
    ctx.log(`  PostgreSQL 15 primary and hot standby in ${bench.pair.dir}, the standby through a proxy`);
    return { bench, proxy: proxy! };
  } catch (err) {
    await proxy?.close();
    throw err;
  }
}
