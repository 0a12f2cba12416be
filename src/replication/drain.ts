/**
 * @module The exact drain check of DESIGN §3: the would-be writer has drained the
 * fenced writer when it has applied the writer's barrier entry for the fence epoch
 * (every write the fenced writer accepted is logged before that entry).
 */

import type { PeerClient } from '../peers/peer-client.js';
import type { DrainCheck, DrainStatus } from '../routing/state.service.js';
import type { ReplicationProgress } from './progress.js';

export function localDrainStatus(progress: ReplicationProgress, from: string, epoch: number): DrainStatus {
  const row = progress.applied(from);
  const drained = row.barrierEpoch >= epoch;
  // Unknown until the origin has been heard from; then what it reported minus what is applied.
  const entries = drained ? 0 : row.updatedAt === 0 ? null : Math.max(0, row.originHead - row.seq);
  return { drained, backlog: { entries, bytes: null }, applied: row.seq };
}

/** Checks locally when this region is the target, else asks the target region. */
export function drainChecker(
  self: string,
  progress: ReplicationProgress,
  client: PeerClient,
  urlOf: (region: string) => string | undefined,
): DrainCheck {
  return async (target, from, epoch) => {
    if (target === self) return localDrainStatus(progress, from, epoch);
    const url = urlOf(target);
    if (!url) return { drained: false, backlog: { entries: null, bytes: null } };
    try {
      return await client.call<DrainStatus>(
        url,
        'GET',
        `/internal/drain?from=${encodeURIComponent(from)}&epoch=${epoch}`,
        undefined,
        { timeoutMs: 3000 },
      );
    } catch {
      return { drained: false, backlog: { entries: null, bytes: null } };
    }
  };
}
