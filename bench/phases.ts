/**
 * @module The measurements of a run, in order, and where each puts its figures.
 */
import type { BenchContext } from './context.js';
import { type FailoverFigures, measureFailover } from './failover-phase.js';
import { type LagResult, measureLag } from './lag-phase.js';
import { type MemoryFigures, measureUploadMemory } from './memory-phase.js';
import { measureObjects, type ObjectFigures } from './objects-phase.js';
import type { Phase } from './options.js';
import { measureStateEvents, type StateEventsFigures } from './state-events-phase.js';
import { measureThroughput, type ThroughputResult } from './throughput-phase.js';

export interface Results {
  lag?: LagResult;
  throughput?: ThroughputResult;
  stateEvents?: StateEventsFigures;
  failover?: FailoverFigures;
  objects?: ObjectFigures;
  memory?: MemoryFigures;
}

export async function runPhase(phase: Phase, ctx: BenchContext, results: Results): Promise<void> {
  switch (phase) {
    case 'lag':
      results.lag = await measureLag(ctx);
      return;
    case 'throughput':
      results.throughput = await measureThroughput(ctx);
      return;
    case 'state-events':
      results.stateEvents = await measureStateEvents(ctx);
      return;
    case 'failover':
      results.failover = await measureFailover(ctx);
      return;
    case 'objects':
      results.objects = await measureObjects(ctx);
      return;
    case 'memory':
      results.memory = await measureUploadMemory(ctx);
      return;
  }
}
