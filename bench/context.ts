/**
 * @module What every phase of a run is given: the options, the deployment under
 * measurement (replication on), the helper processes, and a progress log.
 */
import type { BenchDeployment } from './deployment.js';
import type { BenchOptions } from './options.js';
import type { Helper } from './rpc.js';

export interface BenchContext {
  options: BenchOptions;
  deployment: BenchDeployment;
  loadGenerator: Helper;
  observer: Helper;
  /** Starts another visibility observer (for --diagnose). */
  startObserver(): Helper;
  /** Environment given to every deployment started by the run (e.g. NODE_OPTIONS for --cpu-prof). */
  deploymentEnv: Record<string, string>;
  log(line: string): void;
}

/** The load generator's view of a region to write comments to. */
export function target(url: string, token: string, photoId: string) {
  return { url, token, photoId };
}

/** Every process of the run, by role, for CpuMeter (a deployment's are prefixed with its label when there are several). */
export async function ourProcesses(
  ctx: BenchContext,
  deployments: BenchDeployment[] = [ctx.deployment],
): Promise<Record<string, number>> {
  const out: Record<string, number> = {
    orchestrator: process.pid,
    loadGenerator: ctx.loadGenerator.pid,
    observer: ctx.observer.pid,
  };
  for (const dep of deployments) {
    const prefix = deployments.length > 1 ? `${dep.label}:` : '';
    out[`${prefix}primary`] = await dep.pid(dep.primary.name);
    out[`${prefix}secondary`] = await dep.pid(dep.secondary.name);
    out[`${prefix}edge`] = dep.upPid;
  }
  return out;
}
