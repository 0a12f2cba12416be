/**
 * @module The applier: applies a batch of another region's change log, in order,
 * idempotently, in one transaction with the record of the position reached in that
 * origin's log (log id, sequence). Conflicts resolve last-writer-wins by (epoch, hlc,
 * region); a write that loses is recorded in the conflict log. A batch whose clock is
 * further ahead than the bound is refused whole: nothing applied, nothing adopted.
 *
 * Several batches of an origin may be in flight at once (DESIGN §5, streaming): they
 * are applied one at a time per origin, and a batch that overtook the one before it
 * waits for it (up to REORDER_WAIT_MS; then the answer says where this region is and
 * the origin sends again from there). An object entry whose body has not arrived is
 * parked, the position moves past it, and it is applied when the body arrives
 * (`bodyArrived`): bodies travel beside the log, and nothing after them waits.
 */

import type { LogEntry, ObjectChange } from '../core/change.js';
import { ClockAheadError, type Hlc } from '../core/hlc.js';
import type { BatchRequest, BatchResponse, LogPosition } from '../ports/peer-transport.js';
import { MissingBodyError, type OriginProgress, type ReplicaStore } from '../ports/replica-store.js';
import { clockAheadMessage, type OriginLinkState } from './link-state.js';

/** Without a batch or heartbeat for this long, an origin may hold writes not heard of here. */
export const SILENCE_MS = 3000;
/** How long a batch that overtook its predecessor waits for it before answering where this region is. */
export const REORDER_WAIT_MS = 2000;
/** Batches of all origins that may wait for a predecessor at once; more are answered at once. */
const MAX_WAITING = 256;
/** Bodies named in an answer (those the oldest parked entries wait for). */
const MISSING_BODIES_LISTED = 64;

export interface OriginView {
  /** Commit time of the oldest of the origin's writes not applied here, as of the last contact. */
  pendingSince: number | null;
  lastContactAt: number | null;
  state: OriginLinkState;
}

export interface ApplierDeps {
  store: Pick<
    ReplicaStore,
    | 'transaction'
    | 'durable'
    | 'applyItem'
    | 'applyObject'
    | 'latestObject'
    | 'progress'
    | 'setApplied'
    | 'recordBarrier'
    | 'recordConflict'
    | 'parkObject'
    | 'parkedFor'
    | 'unpark'
    | 'parkedBodies'
  >;
  clock: { observe(remote: Hlc): void };
  logger?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Told when an origin says this region must be rebuilt (the rebuild starts from here). */
  onRebuildNeeded?: (origin: string, state: Extract<OriginLinkState, { kind: 'needs-rebuild' }>) => void;
  /** Told the entries of an origin's log applied here, once their transaction committed (metrics). */
  onApplied?: (origin: string, entries: readonly LogEntry[]) => void;
  now?: () => number;
}

type Answer = Omit<BatchResponse, 'epoch' | 'durable'>;

export class Applier {
  private readonly origins = new Map<string, OriginView>();
  /** Per origin: the position applied here and known to be on disk. */
  private readonly durableApplied = new Map<string, LogPosition>();
  private readonly appliedListeners = new Set<() => void>();
  /** Per origin: the last batch in line (batches of one origin are applied one at a time). */
  private readonly turns = new Map<string, Promise<unknown>>();
  private waiting = 0;
  /** Per origin: whether any of its object entries may be parked (false: none, no need to look). */
  private readonly mayHaveParked = new Map<string, boolean>();

  constructor(private readonly deps: ApplierDeps) {}

  async apply(batch: BatchRequest): Promise<Omit<BatchResponse, 'epoch'>> {
    await this.inTurn(batch);
    return this.oneAtATime(batch.origin, () => {
      const answer = this.applyBatch(batch);
      const durable = this.durableApplied.get(batch.origin);
      return { ...answer, durable: durable && durable.logId === answer.logId ? durable.seq : 0 };
    });
  }

  /**
   * A body has arrived: apply the object entries parked for it (in one transaction), and
   * tell drain waiters. Returns how many were applied.
   */
  bodyArrived(sha256: string): number {
    const parked = this.deps.store.parkedFor(sha256);
    if (parked.length === 0) return 0;
    const applied = this.deps.store.transaction(() => {
      let n = 0;
      for (const p of parked) {
        try {
          this.applyObject(p.origin, p.change);
        } catch (err) {
          if (err instanceof MissingBodyError) continue; // collected again meanwhile: stays parked
          throw err;
        }
        this.deps.store.unpark(p);
        n++;
      }
      return n;
    });
    if (applied > 0) for (const l of this.appliedListeners) l();
    return applied;
  }

  /** A batch that overtook the one before it waits for it (several are in flight at once). */
  private async inTurn(batch: BatchRequest): Promise<void> {
    const first = batch.entries[0];
    if (!first || batch.move) return;
    const behind = () => {
      const row = this.deps.store.progress(batch.origin);
      return row.logId === batch.logId && row.seq < first.seq - 1;
    };
    if (!behind() || this.waiting >= MAX_WAITING) return;
    this.waiting++;
    try {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, REORDER_WAIT_MS);
        const off = this.onApplied(() => {
          if (!behind()) done();
        });
        function done() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    } finally {
      this.waiting--;
    }
  }

  private oneAtATime<T>(origin: string, work: () => T): Promise<T> {
    const before = this.turns.get(origin) ?? Promise.resolve();
    const run = before.then(work);
    const tail = run.catch(() => undefined);
    this.turns.set(origin, tail);
    void tail.then(() => {
      if (this.turns.get(origin) === tail) this.turns.delete(origin);
    });
    return run;
  }

  private applyBatch(batch: BatchRequest): Answer {
    const { origin, entries } = batch;
    const row = this.deps.store.progress(origin);
    if (!this.durableApplied.has(origin)) this.firstContact(origin, row);
    this.noteRebuild(origin, batch);
    // Where the batch continues from: the receiver's own position, or the one a move sets.
    let start: LogPosition = { logId: row.logId, seq: row.seq };
    if (batch.move) {
      const { from, at } = batch.move;
      if (from.logId !== row.logId || from.seq !== row.seq) return this.unchanged(origin, row, batch);
      start = { logId: batch.logId, seq: at };
    } else if (batch.logId !== row.logId) {
      return this.unchanged(origin, row, batch);
    }
    let result: { applied: number; gap: boolean; from: number };
    try {
      result = this.deps.store.transaction(() => {
        // Read again inside the transaction: another batch may have moved it meanwhile.
        const now = this.deps.store.progress(origin);
        if (batch.move ? now.logId !== row.logId || now.seq !== row.seq : now.logId !== start.logId)
          return { applied: -1, gap: false, from: 0 };
        let applied = batch.move ? start.seq : now.seq;
        const from = applied;
        let gap = false;
        for (const entry of entries) {
          if (entry.seq <= applied) continue;
          if (entry.seq !== applied + 1) {
            gap = true;
            break;
          }
          this.applyOne(origin, start.logId!, entry);
          applied = entry.seq;
        }
        this.deps.store.setApplied(origin, start.logId, applied, batch.originHead, this.now());
        return { applied, gap, from };
      });
    } catch (err) {
      if (err instanceof ClockAheadError) return this.refuse(origin, row, batch, err);
      throw err;
    }
    if (result.applied < 0) return this.unchanged(origin, this.deps.store.progress(origin), batch);
    if (this.deps.onApplied && result.applied > result.from) {
      const { from, applied } = result;
      this.deps.onApplied(
        origin,
        entries.filter((e) => e.seq > from && e.seq <= applied),
      );
    }
    if (this.view(origin)?.state.kind === 'refused') {
      this.deps.logger?.info({ origin }, 'replication: batches from this origin are accepted again');
    }
    // Answer at once (the origin may send its next batch); report as durable only what is
    // on disk, since the origin compacts up to that mark.
    if (result.applied > start.seq || start.logId !== row.logId) {
      const reached = { logId: start.logId, seq: result.applied };
      void this.deps.store.durable().then(() => this.noteDurable(origin, reached));
    }
    const reachedEnd = !result.gap && (entries.length === 0 || result.applied >= entries[entries.length - 1]!.seq);
    this.setView(origin, {
      pendingSince: reachedEnd
        ? batch.pendingSince
        : (entries.find((e) => e.seq > result.applied)?.createdAt ?? batch.pendingSince),
      state: this.stateAfter(origin, batch),
    });
    if (result.applied > result.from || start.logId !== row.logId) for (const l of this.appliedListeners) l();
    return { logId: start.logId, applied: result.applied, missingBlobs: this.missingBodies(origin) };
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

  /**
   * First contact since start: what the database held is reported as durable only once a
   * forced sync has covered it (until then 0, which moves nothing at the origin).
   */
  private firstContact(origin: string, row: OriginProgress): void {
    this.durableApplied.set(origin, { logId: row.logId, seq: 0 });
    const held = { logId: row.logId, seq: row.seq };
    void this.deps.store.durable({ force: true }).then(() => this.noteDurable(origin, held));
  }

  private noteDurable(origin: string, reached: LogPosition): void {
    const known = this.durableApplied.get(origin);
    if (known && known.logId === reached.logId && known.seq >= reached.seq) return;
    this.durableApplied.set(origin, reached);
  }

  /** The answer when nothing was applied: where this region is in the origin's logs. */
  private unchanged(origin: string, row: OriginProgress, batch: BatchRequest): Answer {
    this.setView(origin, { pendingSince: batch.pendingSince, state: this.stateAfter(origin, batch) });
    return { logId: row.logId, applied: row.seq, missingBlobs: this.missingBodies(origin) };
  }

  /** The bodies this region waits for from `origin` (the oldest parked first). */
  private missingBodies(origin: string): string[] {
    if (this.mayHaveParked.get(origin) === false) return [];
    const missing = this.deps.store.parkedBodies(origin, MISSING_BODIES_LISTED).map((b) => b.sha256);
    this.mayHaveParked.set(origin, missing.length > 0);
    return missing;
  }

  private refuse(origin: string, row: OriginProgress, batch: BatchRequest, err: ClockAheadError): Answer {
    const message = clockAheadMessage(err.aheadMs);
    const before = this.view(origin)?.state;
    if (before?.kind !== 'refused') {
      this.deps.logger?.warn(
        { origin, aheadMs: err.aheadMs, maxAheadMs: err.maxAheadMs },
        `replication: a batch from ${origin} ${message}: not applied, its clock not adopted`,
      );
    }
    this.setView(origin, {
      pendingSince: batch.entries[0]?.createdAt ?? batch.pendingSince,
      state: {
        kind: 'refused',
        reason: 'clock_ahead',
        aheadMs: err.aheadMs,
        message,
        since: before?.kind === 'refused' ? before.since : new Date(this.now()).toISOString(),
      },
    });
    return {
      logId: row.logId,
      applied: row.seq,
      missingBlobs: [],
      refused: { reason: 'clock_ahead', aheadMs: err.aheadMs, message: `${message}: ${err.message}` },
    };
  }

  private stateAfter(origin: string, batch: BatchRequest): OriginLinkState {
    if (batch.rebuild) {
      const before = this.view(origin)?.state;
      return {
        kind: 'needs-rebuild',
        reason: batch.rebuild.reason,
        message: batch.rebuild.message,
        since: before?.kind === 'needs-rebuild' ? before.since : new Date(this.now()).toISOString(),
      };
    }
    return { kind: 'following' };
  }

  private noteRebuild(origin: string, batch: BatchRequest): void {
    if (!batch.rebuild || this.view(origin)?.state.kind === 'needs-rebuild') return;
    const state = this.stateAfter(origin, batch) as Extract<OriginLinkState, { kind: 'needs-rebuild' }>;
    this.deps.logger?.warn({ origin, reason: state.reason }, `replication: ${origin} says: ${state.message}`);
    this.setView(origin, { pendingSince: batch.pendingSince, state });
    this.deps.onRebuildNeeded?.(origin, state);
  }

  private setView(origin: string, view: Omit<OriginView, 'lastContactAt'>): void {
    this.origins.set(origin, { ...view, lastContactAt: this.now() });
  }

  private applyOne(origin: string, logId: string, entry: LogEntry): void {
    const change = entry.change;
    if (change.kind === 'barrier') {
      this.deps.store.recordBarrier(origin, change.epoch, entry.seq);
      return;
    }
    // Throws ClockAheadError for a clock too far ahead: the whole batch rolls back.
    this.deps.clock.observe(change.version.hlc);
    if (change.kind === 'item') {
      const outcome = this.deps.store.applyItem(change);
      if (outcome.outcome === 'stale') {
        this.deps.store.recordConflict({
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
    try {
      this.applyObject(origin, change);
    } catch (err) {
      if (!(err instanceof MissingBodyError)) throw err;
      // The body travels beside the log: keep the entry until it is here, go on meanwhile.
      this.deps.store.parkObject({ origin, logId, seq: entry.seq, change });
      this.mayHaveParked.delete(origin); // look again (the transaction may still roll back)
    }
  }

  /** Last-writer-wins by version: applied in any order, the same versions end up latest. */
  private applyObject(origin: string, change: ObjectChange): void {
    const before = this.deps.store.latestObject(change.bucket, change.key);
    const outcome = this.deps.store.applyObject(change);
    if (outcome === 'not-latest' && before && before.version.region !== change.version.region) {
      this.deps.store.recordConflict({
        kind: 'object',
        name: change.bucket,
        key: change.key,
        origin,
        loser: change,
        winner: before,
      });
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
