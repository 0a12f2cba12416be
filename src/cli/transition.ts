/**
 * @module Sends a state transition to the right region: the writer named by the
 * newest record when it answers (so its barrier is logged at once), else the first
 * region that does. Replication carries the new record to every other region.
 */
import type { TransitionRequest } from '../core/app-state.js';
import { ApiError, type Deployment, type RegionState } from './deployment.js';

export interface TransitionOutcome {
  record: RegionState;
  via: string;
}

export async function sendTransition(dep: Deployment, request: TransitionRequest, preferred?: string): Promise<TransitionOutcome> {
  const { newest, answers } = await dep.newestState();
  if (!newest) {
    throw new ApiError(`no region answered: ${answers.map((a) => `${a.region.name}: ${a.error}`).join('; ')}`, 0, 'unreachable', {});
  }
  const reachable = answers.filter((a) => a.reachable).map((a) => a.region);
  const want = preferred ?? newest.activeRegion;
  const ordered = [...reachable.filter((r) => r.name === want), ...reachable.filter((r) => r.name !== want)];
  const target = ordered[0]!;
  const record = await dep.putState(target, request);
  await waitUntilSeen(dep, record.epoch, reachable.map((r) => r.name));
  return { record, via: target.name };
}

/** Wait (up to a few seconds) until every region that answered reports the new epoch. */
async function waitUntilSeen(dep: Deployment, epoch: number, regions: string[], timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answers = await dep.states();
    if (answers.filter((a) => regions.includes(a.region.name)).every((a) => a.ok && a.value!.epoch >= epoch)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}
