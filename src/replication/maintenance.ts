/**
 * @module Keeps a region's storage from growing without bound: compacts the change log
 * once every peer has acknowledged it, and collects object bodies no version refers to.
 */
import type { Logger } from 'pino';
import type { BlobFiles } from '../adapters/disk/blob-files.js';
import type { DiskObjectStore } from '../adapters/disk/object-store.js';
import type { Transactor } from '../adapters/sqlite/transactor.js';
import type { ReplicationProgress } from './progress.js';

/** Compact at most this often, or sooner once this many entries are acknowledged by all. */
export const COMPACT_INTERVAL_MS = 1000;
export const COMPACT_MIN_ENTRIES = 1000;
/** A body younger than this is never collected: its version may be about to commit. */
export const BLOB_GC_GRACE_MS = 10 * 60_000;

export class Maintenance {
  private compactedThrough = 0;
  private lastCompactAt = 0;
  private deferred: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      tx: Transactor;
      progress: ReplicationProgress;
      objects: DiskObjectStore;
      blobs: BlobFiles;
      logger: Logger;
      /** Every peer's acknowledged sequence (the peers of the configuration, acknowledged or not). */
      acks: () => Map<string, number>;
      now?: () => number;
    },
  ) {}

  /** Compact if enough is acknowledged by every peer; `force` skips the throttle. Returns entries removed. */
  maybeCompact(force = false): number {
    const acks = this.deps.acks();
    if (acks.size === 0) return 0;
    const through = Math.min(...acks.values());
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
    const removed = this.deps.tx.run(() => {
      // The acknowledgements that allow the compaction are persisted with it.
      for (const [peer, seq] of acks) this.deps.progress.recordAck(peer, seq, now);
      return this.deps.tx.log.compactThrough(through);
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
    for await (const blob of this.deps.blobs.list()) {
      if (
        now - blob.mtimeMs < graceMs ||
        this.deps.blobs.isHeld(blob.sha256) ||
        this.deps.objects.isReferenced(blob.sha256)
      )
        continue;
      bytes += blob.size;
      await this.deps.blobs.remove(blob.sha256);
      removed++;
    }
    if (removed > 0) this.deps.logger.info({ removed, bytes }, 'collected unreferenced object bodies');
    return { removed, bytes };
  }
}
