/**
 * @module The applier: applies a batch of another region's change log, in order,
 * idempotently, in one transaction with the record of the highest sequence applied
 * from that origin. Conflicts resolve last-writer-wins by (epoch, hlc, region); a
 * write that loses is recorded in the conflict log.
 */

import { type DiskObjectStore, MissingBlobError } from '../adapters/disk/object-store.js';
import type { SqliteTableStore } from '../adapters/sqlite/table-store.js';
import type { Transactor } from '../adapters/sqlite/transactor.js';
import type { LogEntry } from '../core/change.js';
import type { HybridLogicalClock } from '../core/hlc.js';
import type { ConflictLog } from './conflicts.js';
import type { ReplicationProgress } from './progress.js';
import type { BatchRequest, BatchResponse } from './wire.js';

/** Without a batch or heartbeat for this long, an origin may hold writes not heard of here. */
export const SILENCE_MS = 3000;

export interface OriginView {
  /** Replica lag behind this origin, in ms, as of the last contact. */
  pendingSince: number | null;
  lastContactAt: number | null;
}

export class Applier {
  private readonly origins = new Map<string, OriginView>();
  /** Per origin: the highest sequence applied here and known to be on disk. */
  private readonly durableApplied = new Map<string, number>();
  private readonly appliedListeners = new Set<() => void>();

  constructor(
    private readonly deps: {
      tx: Transactor;
      tables: SqliteTableStore;
      objects: DiskObjectStore;
      progress: ReplicationProgress;
      conflicts: ConflictLog;
      clock: HybridLogicalClock;
      blobExists: (sha256: string) => Promise<boolean>;
      now?: () => number;
    },
  ) {}

  async apply(batch: BatchRequest): Promise<Omit<BatchResponse, 'epoch'>> {
    const applied = await this.applyBatch(batch);
    return { ...applied, durable: this.durableApplied.get(batch.origin) ?? 0 };
  }

  private async applyBatch(batch: BatchRequest): Promise<Omit<BatchResponse, 'epoch' | 'durable'>> {
    const { origin, entries } = batch;
    const already = this.deps.progress.applied(origin).seq;
    if (!this.durableApplied.has(origin)) {
      // First contact since start: report as durable what the database held only once a
      // sync has covered it (until then 0, which moves nothing at the origin).
      this.durableApplied.set(origin, 0);
      void this.deps.tx.durable({ force: true }).then(() => {
        if (already > (this.durableApplied.get(origin) ?? 0)) this.durableApplied.set(origin, already);
      });
    }
    const missing = await this.missingBlobs(entries.filter((e) => e.seq > already));
    let firstMissing = entries.findIndex(
      (e) => e.change.kind === 'object' && e.change.sha256 !== null && missing.has(e.change.sha256),
    );
    const applicable = firstMissing < 0 ? entries : entries.slice(0, firstMissing);
    const result = this.deps.tx.run(() => {
      let applied = this.deps.progress.applied(origin).seq;
      let gap = false;
      for (const entry of applicable) {
        if (entry.seq <= applied) continue;
        if (entry.seq !== applied + 1) {
          gap = true;
          break;
        }
        try {
          this.applyOne(origin, entry);
        } catch (err) {
          if (!(err instanceof MissingBlobError)) throw err;
          // Collected since the check above: ask for it again, keep what was applied.
          missing.add(err.sha256);
          firstMissing = entries.indexOf(entry);
          break;
        }
        applied = entry.seq;
      }
      this.deps.progress.setApplied(origin, applied, batch.originHead, this.now());
      return { applied, gap };
    });
    // Answer at once (the origin may send its next batch); report as durable only what is
    // on disk, since the origin compacts up to that mark.
    if (result.applied > already) {
      void this.deps.tx.durable().then(() => {
        if (result.applied > (this.durableApplied.get(origin) ?? 0)) this.durableApplied.set(origin, result.applied);
      });
    }
    const reachedEnd =
      firstMissing < 0 && !result.gap && (entries.length === 0 || result.applied >= entries[entries.length - 1]!.seq);
    this.origins.set(origin, {
      pendingSince: reachedEnd
        ? batch.pendingSince
        : (entries.find((e) => e.seq > result.applied)?.createdAt ?? batch.pendingSince),
      lastContactAt: this.now(),
    });
    if (applicable.length > 0) for (const l of this.appliedListeners) l();
    return { applied: result.applied, missingBlobs: [...missing] };
  }

  /** Replica lag behind `origin` in ms: the age of the oldest of its writes not applied here. */
  lagMs(origin: string): number | null {
    const view = this.origins.get(origin);
    if (!view || view.lastContactAt === null) return null;
    const now = this.now();
    const pending = view.pendingSince === null ? 0 : Math.max(0, now - view.pendingSince);
    // An origin that has gone quiet (no heartbeat) may have writes we have not heard of.
    const silent = now - view.lastContactAt;
    return silent > SILENCE_MS ? Math.max(pending, silent) : pending;
  }

  view(origin: string): OriginView | undefined {
    return this.origins.get(origin);
  }

  /** Called after every batch that applied something (drain waiters listen here). */
  onApplied(listener: () => void): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  private applyOne(origin: string, entry: LogEntry): void {
    const change = entry.change;
    if (change.kind === 'barrier') {
      this.deps.progress.recordBarrier(origin, change.epoch, entry.seq);
      return;
    }
    this.deps.clock.observe(change.version.hlc);
    if (change.kind === 'item') {
      const outcome = this.deps.tables.applyRemote(change);
      if (outcome.outcome === 'stale') {
        this.deps.conflicts.record({
          kind: 'item',
          name: change.table,
          key: change.key,
          origin,
          loser: change,
          winner: outcome.current,
        });
      }
      return;
    }
    const before = this.deps.objects.latestVersion(change.bucket, change.key);
    const outcome = this.deps.objects.applyRemote(change);
    if (outcome === 'not-latest' && before && before.version.region !== change.version.region) {
      this.deps.conflicts.record({
        kind: 'object',
        name: change.bucket,
        key: change.key,
        origin,
        loser: change,
        winner: before,
      });
    }
  }

  private async missingBlobs(entries: LogEntry[]): Promise<Set<string>> {
    const missing = new Set<string>();
    for (const e of entries) {
      const c = e.change;
      if (c.kind === 'object' && c.sha256 !== null && !missing.has(c.sha256) && !(await this.deps.blobExists(c.sha256)))
        missing.add(c.sha256);
    }
    return missing;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
