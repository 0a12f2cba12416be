/**
 * @module Keeps a region's storage from growing without bound: compacts the change log
 * once every peer has acknowledged it (a peer marked as needing a rebuild no longer
 * holds it back), and collects object bodies no version refers to.
 */
import type { Logger } from 'pino';
import type { ChangeLog } from '../ports/change-log.js';
import type { ObjectBodies } from '../ports/object-bodies.js';
import type { PeerAck, ReplicaStore } from '../ports/replica-store.js';

/** Compact at most this often, or sooner once this many entries are acknowledged by all. */
export const COMPACT_INTERVAL_MS = 1000;
export const COMPACT_MIN_ENTRIES = 1000;
/** A body younger than this is never collected: its version may be about to commit. */
export const BLOB_GC_GRACE_MS = 10 * 60_000;

/** One peer's acknowledgement, as compaction sees it. */
export interface PeerAckView {
  peer: string;
  /** What the peer has on disk, as a sequence of this region's log. */
  durableSeq: number;
  /** The same, as the peer reported it (persisted with the compaction). */
  position: { logId: string | null; seq: number };
  /** Marked as needing a rebuild: the log is no longer kept for it. */
  excluded: boolean;
}

export class Maintenance {
  private compactedThrough = 0;
  private lastCompactAt = 0;
  private deferred: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      log: Pick<ChangeLog, 'compactThrough' | 'durableHead'>;
      store: Pick<ReplicaStore, 'transaction' | 'recordAcks' | 'isBodyReferenced'>;
      bodies: ObjectBodies;
      logger: Logger;
      /** Every peer of the configuration, acknowledged or not. */
      acks: () => PeerAckView[];
      now?: () => number;
    },
  ) {}

  /** Compact if enough is acknowledged by every peer; `force` skips the throttle. Returns entries removed. */
  maybeCompact(force = false): number {
    const acks = this.deps.acks();
    if (acks.length === 0) return 0;
    const kept = acks.filter((a) => !a.excluded);
    // With every peer marked for a rebuild, nothing is kept for anyone: all that is durable goes.
    const through = kept.length > 0 ? Math.min(...kept.map((a) => a.durableSeq)) : this.deps.log.durableHead();
    const now = (this.deps.now ?? Date.now)();
    if (through <= this.compactedThrough) return 0;
    const due =
      force ||
      through - this.compactedThrough >= COMPACT_MIN_ENTRIES ||
      now - this.lastCompactAt >= COMPACT_INTERVAL_MS;
    if (!due) {
      // Throttled: compact when the interval is over, so an idle log ends up empty.
      this.deferred ??= setTimeout(
        () => {
          this.deferred = undefined;
          this.maybeCompact(true);
        },
        COMPACT_INTERVAL_MS - (now - this.lastCompactAt),
      ).unref();
      return 0;
    }
    this.lastCompactAt = now;
    const persisted: PeerAck[] = acks.map((a) => ({ peer: a.peer, ...a.position, ackedAt: now }));
    const removed = this.deps.store.transaction(() => {
      // The acknowledgements that allow the compaction are persisted with it.
      this.deps.store.recordAcks(persisted);
      return this.deps.log.compactThrough(through);
    });
    this.compactedThrough = through;
    return removed;
  }

  stop(): void {
    if (this.deferred) clearTimeout(this.deferred);
    this.deferred = undefined;
  }

  /** Remove bodies older than `graceMs` that no version refers to. */
  async collectGarbage(graceMs = BLOB_GC_GRACE_MS): Promise<{ removed: number; bytes: number }> {
    const now = (this.deps.now ?? Date.now)();
    let removed = 0;
    let bytes = 0;
    for await (const blob of this.deps.bodies.list()) {
      if (
        now - blob.mtimeMs < graceMs ||
        this.deps.bodies.isHeld(blob.sha256) ||
        this.deps.store.isBodyReferenced(blob.sha256)
      )
        continue;
      bytes += blob.size;
      await this.deps.bodies.remove(blob.sha256);
      removed++;
    }
    if (removed > 0) this.deps.logger.info({ removed, bytes }, 'collected unreferenced object bodies');
    return { removed, bytes };
  }
}
