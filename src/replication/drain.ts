/**
 * @module The exact drain check of DESIGN §3: the would-be writer has drained the
 * fenced writer when it has applied the writer's barrier entry for the fence epoch
 * (every write the fenced writer accepted is logged before that entry) and every
 * object entry up to it has its body (none is parked waiting for one).
 */

import type { DrainStatus, PeerAddress, PeerTransport } from '../ports/peer-transport.js';
import type { ParkedObjects, ReplicaProgress } from '../ports/replica-store.js';

export function localDrainStatus(
  store: Pick<ReplicaProgress, 'progress'> & Pick<ParkedObjects, 'parkedCount'>,
  from: string,
  epoch: number,
): DrainStatus {
  const row = store.progress(from);
  const barrier = row.barrierEpoch >= epoch;
  // Objects up to the barrier whose body has not arrived: not drained until they have.
  const parked = barrier ? store.parkedCount(from, row.barrierSeq) : store.parkedCount(from);
  const drained = barrier && parked.entries === 0;
  // Unknown until the origin has been heard from; then what it reported minus what is applied.
  const behind = barrier ? 0 : row.updatedAt === 0 ? null : Math.max(0, row.originHead - row.seq);
  const entries = behind === null ? null : behind + parked.entries;
  return {
    drained,
    backlog: { entries, bytes: parked.entries > 0 ? parked.bytes : behind === 0 ? 0 : null },
    applied: row.seq,
    ...(parked.entries > 0 ? { bodiesPending: parked.entries } : {}),
  };
}

export type DrainChecker = (target: string, from: string, epoch: number) => Promise<DrainStatus>;

/** Checks locally when this region is the target, else asks the target region. */
export function drainChecker(
  self: string,
  progress: Pick<ReplicaProgress, 'progress'> & Pick<ParkedObjects, 'parkedCount'>,
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
