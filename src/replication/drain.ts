/**
 * @module The exact drain check of DESIGN §3: the would-be writer has drained the
 * fenced writer when it has applied the writer's barrier entry for the fence epoch
 * (every write the fenced writer accepted is logged before that entry).
 */

import type { DrainStatus, PeerAddress, PeerTransport } from '../ports/peer-transport.js';
import type { ReplicaProgress } from '../ports/replica-store.js';

export function localDrainStatus(
  progress: Pick<ReplicaProgress, 'progress'>,
  from: string,
  epoch: number,
): DrainStatus {
  const row = progress.progress(from);
  const drained = row.barrierEpoch >= epoch;
  // Unknown until the origin has been heard from; then what it reported minus what is applied.
  const entries = drained ? 0 : row.updatedAt === 0 ? null : Math.max(0, row.originHead - row.seq);
  return { drained, backlog: { entries, bytes: null }, applied: row.seq };
}

export type DrainChecker = (target: string, from: string, epoch: number) => Promise<DrainStatus>;

/** Checks locally when this region is the target, else asks the target region. */
export function drainChecker(
  self: string,
  progress: Pick<ReplicaProgress, 'progress'>,
  transport: PeerTransport,
  peerOf: (region: string) => PeerAddress | undefined,
): DrainChecker {
  return async (target, from, epoch) => {
    if (target === self) return localDrainStatus(progress, from, epoch);
    const peer = peerOf(target);
    if (!peer) return { drained: false, backlog: { entries: null, bytes: null } };
    try {
      return await transport.drainStatus(peer, from, epoch, { timeoutMs: 3000 });
    } catch {
      return { drained: false, backlog: { entries: null, bytes: null } };
    }
  };
}
