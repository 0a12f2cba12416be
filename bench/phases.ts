/**
 * @module The measurements of a run, in order, and where each puts its figures. The
 * lag and throughput phases also record what the writer lease cost while they ran; the
 * lag phase also measures PostgreSQL's streaming replication the same way.
 */
import type { BenchContext } from './context.js';
import { type FailoverFigures, measureFailover } from './failover-phase.js';
import { type ForcedFailoverFigures, measureForcedFailover } from './forced-failover-phase.js';
import { type LagResult, measureLag } from './lag-phase.js';
import { type LeaseCost, leaseCost, readLeaseCounters } from './lease-cost.js';
import { type MemoryFigures, measureUploadMemory } from './memory-phase.js';
import { measureObjects, type ObjectFigures } from './objects-phase.js';
import type { Phase } from './options.js';
import { measurePostgresLoopback, type PgMeasurement } from './postgres/comparison.js';
import { measureSigninPressure, type SigninPressureFigures } from './signin-pressure-phase.js';
import { measureStateEvents, type StateEventsFigures } from './state-events-phase.js';
import { measureThroughput, type ThroughputResult } from './throughput-phase.js';

export interface Results {
  lag?: LagResult;
  /** PostgreSQL 15 streaming replication on loopback, measured in the lag phase right after mraa's. */
  lagPostgres?: PgMeasurement;
  throughput?: ThroughputResult;
  stateEvents?: StateEventsFigures;
  failover?: FailoverFigures;
  forcedFailover?: ForcedFailoverFigures;
  objects?: ObjectFigures;
  memory?: MemoryFigures;
  /** Write latency alone and while wrong-password sign-ins are hammered. */
  signinPressure?: SigninPressureFigures;
  /** The writer lease's renewals and refusals in the measured deployment during the lag and throughput phases. */
  lease?: { leaseMs: number; lag?: LeaseCost; throughput?: LeaseCost };
}

export async function runPhase(phase: Phase, ctx: BenchContext, results: Results): Promise<void> {
  switch (phase) {
    case 'lag': {
      const before = await readLeaseCounters(ctx.deployment);
      results.lag = await measureLag(ctx);
      noteLease(ctx, results, 'lag', leaseCost(before, await readLeaseCounters(ctx.deployment)));
      results.lagPostgres = await measurePostgresLoopback(ctx, results.lag.lagMs);
      return;
    }
    case 'throughput': {
      const before = await readLeaseCounters(ctx.deployment);
      results.throughput = await measureThroughput(ctx);
      noteLease(ctx, results, 'throughput', leaseCost(before, await readLeaseCounters(ctx.deployment)));
      return;
    }
    case 'state-events':
      results.stateEvents = await measureStateEvents(ctx);
      return;
    case 'failover':
      results.failover = await measureFailover(ctx);
      return;
    case 'forced-failover':
      results.forcedFailover = await measureForcedFailover(ctx);
      return;
    case 'objects':
      results.objects = await measureObjects(ctx);
      return;
    case 'memory':
      results.memory = await measureUploadMemory(ctx);
      return;
    case 'signin-pressure':
      results.signinPressure = await measureSigninPressure(ctx);
      return;
  }
}

function noteLease(ctx: BenchContext, results: Results, phase: 'lag' | 'throughput', cost: LeaseCost): void {
  results.lease = { ...results.lease, leaseMs: ctx.deployment.config.controlPlane.leaseMs, [phase]: cost };
  const refused = Object.entries(cost.writesRefused).map(([reason, n]) => `${n} ${reason}`);
  ctx.log(
    `  writer lease: ${cost.renewalsPerSec.toFixed(2)} renewals/s (${cost.renewals} in ${cost.seconds.toFixed(0)} s); ` +
      `writes refused by the primary: ${refused.length ? refused.join(', ') : 'none'}`,
  );
  const st = cost.primaryStalls;
  ctx.log(
    `  primary stalls: longest event-loop delay ${st.eventLoopLagMaxMs?.toFixed(1) ?? '?'} ms; ` +
      `WAL fdatasyncs over 100 ms: ${st.walSyncsOver100ms} (over 250 ms: ${st.walSyncsOver250ms}, over 1 s: ${st.walSyncsOver1s})`,
  );
}
