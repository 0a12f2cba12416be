/**
 * @module Sends a state transition to the right region: the writer named by the
 * newest record when it answers (so its barrier is logged at once), else the first
 * region that does. Until replication carries the record, it is then written to every
 * other reachable region, each keeping the record with the highest epoch.
 */
import type { TransitionRequest } from '../core/app-state.js';
import type { StoredItem } from '../ports/table-store.js';
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
  await broadcast(dep, target.name, reachable.map((r) => r.name));
  return { record, via: target.name };
}

async function broadcast(dep: Deployment, from: string, to: string[]): Promise<void> {
  const appId = dep.config.appId;
  const source = dep.region(from);
  const stored = await dep.peer.call<StoredItem>(source.url, 'GET', `/internal/state/${appId}`);
  await Promise.allSettled(
    to.filter((name) => name !== from).map((name) => dep.peer.call(dep.region(name).url, 'POST', `/internal/state/${appId}`, stored)),
  );
}
