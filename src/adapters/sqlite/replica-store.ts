/**
 * @module The embedded replica store (src/ports/replica-store.ts): applies peers'
 * changes through the table and object stores, and keeps replication's own records
 * in the region database: progress per origin (`applied`), acknowledgements per peer
 * (`peer_acks`), rebuild marks, the conflict log, and the digests of `mraa verify`.
 */
import { createHash } from 'node:crypto';
import type { ItemChange, ObjectChange } from '../../core/change.js';
import type { ObjectVersion } from '../../ports/object-store.js';
import {
  type ConflictRecord,
  type DataDigest,
  type ItemApplyOutcome,
  type KeyFingerprints,
  MissingBodyError,
  type NewConflict,
  type ObjectApplyOutcome,
  type OriginProgress,
  type ParkedObject,
  type PeerAck,
  type RebuildMark,
  type RebuildReason,
  type ReplicaStore,
} from '../../ports/replica-store.js';
import { type DiskObjectStore, MissingBlobError } from '../disk/object-store.js';
import type { Db } from './database.js';
import type { SqliteTableStore } from './table-store.js';
import type { Transactor } from './transactor.js';

type Row = Record<string, string | number | null>;

export class SqliteReplicaStore implements ReplicaStore {
  private readonly db: Db;
  private readonly stmts;

  constructor(
    private readonly deps: {
      tx: Transactor;
      tables: SqliteTableStore;
      objects: DiskObjectStore;
      /** Region-local tables: never replicated, so not compared. */
      localTables: readonly string[];
      now?: () => Date;
    },
  ) {
    const db = deps.tx.db;
    this.db = db;
    this.stmts = {
      progress: db.prepare(
        'SELECT origin, log_id, seq, barrier_epoch, barrier_seq, origin_head, updated_at FROM applied WHERE origin = ?',
      ),
      setApplied: db.prepare(
        `INSERT INTO applied (origin, log_id, seq, origin_head, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (origin) DO UPDATE SET log_id = excluded.log_id, seq = excluded.seq,
           origin_head = MAX(applied.origin_head, excluded.origin_head), updated_at = excluded.updated_at`,
      ),
      // An upsert: a barrier may come in the very first batch from an origin, before its row exists.
      setBarrier: db.prepare(
        `INSERT INTO applied (origin, seq, barrier_epoch, barrier_seq, updated_at) VALUES (?, 0, ?, ?, 0)
         ON CONFLICT (origin) DO UPDATE SET barrier_epoch = MAX(applied.barrier_epoch, excluded.barrier_epoch), barrier_seq = excluded.barrier_seq`,
      ),
      ack: db.prepare(
        `INSERT INTO peer_acks (peer, log_id, seq, acked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (peer) DO UPDATE SET log_id = excluded.log_id, seq = excluded.seq, acked_at = excluded.acked_at`,
      ),
      acks: db.prepare('SELECT peer, log_id, seq, acked_at FROM peer_acks'),
      marks: db.prepare('SELECT peer, reason, message, marked_at FROM rebuild_marks'),
      mark: db.prepare(
        `INSERT INTO rebuild_marks (peer, reason, message, marked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (peer) DO UPDATE SET reason = excluded.reason, message = excluded.message, marked_at = excluded.marked_at`,
      ),
      unmark: db.prepare('DELETE FROM rebuild_marks WHERE peer = ?'),
      insertConflict: db.prepare(
        'INSERT INTO conflicts (detected_at, kind, name, key, origin, loser, winner) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      conflicts: db.prepare(
        'SELECT id, detected_at, kind, name, key, origin, loser, winner FROM conflicts WHERE id > ? ORDER BY id LIMIT ?',
      ),
      conflictCount: db.prepare('SELECT COUNT(*) AS n FROM conflicts'),
      referenced: db.prepare(
        'SELECT 1 FROM object_versions WHERE sha256 = ? UNION ALL SELECT 1 FROM parked_objects WHERE sha256 = ? LIMIT 1',
      ),
      park: db.prepare(
        `INSERT INTO parked_objects (origin, log_id, seq, sha256, size, change, parked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      parkedFor: db.prepare(
        'SELECT origin, log_id, seq, change FROM parked_objects WHERE sha256 = ? ORDER BY origin, parked_at, seq',
      ),
      unpark: db.prepare('DELETE FROM parked_objects WHERE origin = ? AND log_id = ? AND seq = ?'),
      parkedBodies: db.prepare(
        'SELECT sha256, MAX(size) AS size FROM parked_objects WHERE origin = ? GROUP BY sha256 ORDER BY MIN(parked_at) LIMIT ?',
      ),
      parkedCount: db.prepare(
        'SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM parked_objects WHERE origin = ? AND seq <= ?',
      ),
    };
  }

  transaction<T>(work: () => T): T {
    return this.deps.tx.run(() => work());
  }

  durable(options: { force?: boolean } = {}): Promise<void> {
    return this.deps.tx.durable(options);
  }

  applyItem(change: ItemChange): ItemApplyOutcome {
    const r = this.deps.tables.applyRemote(change);
    return r.outcome === 'stale' ? { outcome: 'stale', current: r.current } : { outcome: r.outcome };
  }

  applyObject(change: ObjectChange): ObjectApplyOutcome {
    try {
      return this.deps.objects.applyRemote(change);
    } catch (err) {
      if (err instanceof MissingBlobError) throw new MissingBodyError(err.sha256);
      throw err;
    }
  }

  latestObject(bucket: string, key: string): ObjectVersion | undefined {
    return this.deps.objects.latestVersion(bucket, key);
  }

  progress(origin: string): OriginProgress {
    const r = this.stmts.progress.get(origin) as Row | undefined;
    return r
      ? {
          origin,
          logId: r.log_id === null ? null : String(r.log_id),
          seq: Number(r.seq),
          barrierEpoch: Number(r.barrier_epoch),
          barrierSeq: Number(r.barrier_seq),
          originHead: Number(r.origin_head),
          updatedAt: Number(r.updated_at),
        }
      : { origin, logId: null, seq: 0, barrierEpoch: 0, barrierSeq: 0, originHead: 0, updatedAt: 0 };
  }

  setApplied(origin: string, logId: string | null, seq: number, originHead: number, now: number): void {
    this.stmts.setApplied.run(origin, logId, seq, originHead, now);
  }

  recordBarrier(origin: string, epoch: number, seq: number): void {
    this.stmts.setBarrier.run(origin, epoch, seq);
  }

  acks(): Map<string, PeerAck> {
    const out = new Map<string, PeerAck>();
    for (const r of this.stmts.acks.all() as Row[]) {
      const peer = String(r.peer);
      out.set(peer, {
        peer,
        logId: r.log_id === null ? null : String(r.log_id),
        seq: Number(r.seq),
        ackedAt: Number(r.acked_at),
      });
    }
    return out;
  }

  recordAcks(acks: readonly PeerAck[]): void {
    this.deps.tx.run(() => {
      for (const a of acks) this.stmts.ack.run(a.peer, a.logId, a.seq, a.ackedAt);
    });
  }

  rebuildMarks(): Map<string, RebuildMark> {
    const out = new Map<string, RebuildMark>();
    for (const r of this.stmts.marks.all() as Row[]) {
      const peer = String(r.peer);
      out.set(peer, {
        peer,
        reason: String(r.reason) as RebuildReason,
        message: String(r.message),
        markedAt: Number(r.marked_at),
      });
    }
    return out;
  }

  markRebuild(mark: RebuildMark): void {
    this.deps.tx.run(() => this.stmts.mark.run(mark.peer, mark.reason, mark.message, mark.markedAt));
  }

  clearRebuild(peer: string): void {
    this.deps.tx.run(() => this.stmts.unmark.run(peer));
  }

  recordConflict(c: NewConflict): void {
    this.stmts.insertConflict.run(
      (this.deps.now ?? (() => new Date()))().toISOString(),
      c.kind,
      c.name,
      c.key,
      c.origin,
      JSON.stringify(c.loser),
      JSON.stringify(c.winner),
    );
  }

  conflicts(afterId = 0, limit = 100): ConflictRecord[] {
    return (this.stmts.conflicts.all(afterId, limit) as Row[]).map((r) => ({
      id: Number(r.id),
      detectedAt: String(r.detected_at),
      kind: r.kind as ConflictRecord['kind'],
      name: String(r.name),
      key: String(r.key),
      origin: String(r.origin),
      loser: JSON.parse(String(r.loser)),
      winner: JSON.parse(String(r.winner)),
    }));
  }

  conflictCount(): number {
    return (this.stmts.conflictCount.get() as { n: number }).n;
  }

  isBodyReferenced(sha256: string): boolean {
    return this.stmts.referenced.get(sha256, sha256) !== undefined;
  }

  parkObject(p: ParkedObject): void {
    const c = p.change;
    this.stmts.park.run(p.origin, p.logId, p.seq, c.sha256, c.size, JSON.stringify(c), Date.now());
  }

  parkedFor(sha256: string): ParkedObject[] {
    return (this.stmts.parkedFor.all(sha256) as Row[]).map((r) => ({
      origin: String(r.origin),
      logId: String(r.log_id),
      seq: Number(r.seq),
      change: JSON.parse(String(r.change)) as ObjectChange,
    }));
  }

  unpark(p: Pick<ParkedObject, 'origin' | 'logId' | 'seq'>): void {
    this.stmts.unpark.run(p.origin, p.logId, p.seq);
  }

  parkedBodies(origin: string, limit: number): Array<{ sha256: string; size: number }> {
    return (this.stmts.parkedBodies.all(origin, limit) as Row[]).map((r) => ({
      sha256: String(r.sha256),
      size: Number(r.size),
    }));
  }

  parkedCount(origin: string, throughSeq = Number.MAX_SAFE_INTEGER): { entries: number; bytes: number } {
    const r = this.stmts.parkedCount.get(origin, throughSeq) as { n: number; bytes: number };
    return { entries: Number(r.n), bytes: Number(r.bytes) };
  }

  digest(): DataDigest {
    const tables = new Map<string, { hash: ReturnType<typeof createHash>; items: number; live: number }>();
    for (const r of this.db
      .prepare('SELECT tbl, pk, data, epoch, hlc, region FROM items ORDER BY tbl, pk')
      .iterate() as Iterable<Row>) {
      if (this.deps.localTables.includes(String(r.tbl))) continue;
      let t = tables.get(String(r.tbl));
      if (!t) {
        t = { hash: createHash('sha256'), items: 0, live: 0 };
        tables.set(String(r.tbl), t);
      }
      t.items++;
      if (r.data !== null) t.live++;
      t.hash.update(itemLine(r));
    }
    const buckets = new Map<string, { hash: ReturnType<typeof createHash>; versions: number }>();
    for (const r of this.db
      .prepare(
        'SELECT bucket, key, version_id, sha256, delete_marker, epoch, hlc, region FROM object_versions ORDER BY bucket, key, version_id',
      )
      .iterate() as Iterable<Row>) {
      let b = buckets.get(String(r.bucket));
      if (!b) {
        b = { hash: createHash('sha256'), versions: 0 };
        buckets.set(String(r.bucket), b);
      }
      b.versions++;
      b.hash.update(objectLine(r));
    }
    return {
      tables: Object.fromEntries(
        [...tables].map(([name, t]) => [name, { items: t.items, live: t.live, digest: t.hash.digest('hex') }]),
      ),
      buckets: Object.fromEntries(
        [...buckets].map(([name, b]) => [name, { versions: b.versions, digest: b.hash.digest('hex') }]),
      ),
    };
  }

  keyFingerprints(kind: 'table' | 'bucket', name: string): KeyFingerprints {
    const out: KeyFingerprints = {};
    if (kind === 'table') {
      for (const r of this.db
        .prepare('SELECT tbl, pk, data, epoch, hlc, region FROM items WHERE tbl = ? ORDER BY pk')
        .iterate(name) as Iterable<Row>) {
        out[String(r.pk)] = createHash('sha256').update(itemLine(r)).digest('hex').slice(0, 16);
      }
      return out;
    }
    const hashes = new Map<string, ReturnType<typeof createHash>>();
    for (const r of this.db
      .prepare(
        'SELECT bucket, key, version_id, sha256, delete_marker, epoch, hlc, region FROM object_versions WHERE bucket = ? ORDER BY key, version_id',
      )
      .iterate(name) as Iterable<Row>) {
      const key = String(r.key);
      if (!hashes.has(key)) hashes.set(key, createHash('sha256'));
      hashes.get(key)!.update(objectLine(r));
    }
    for (const [key, h] of hashes) out[key] = h.digest('hex').slice(0, 16);
    return out;
  }
}

function itemLine(r: Row): string {
  return `${r.pk}\u0000${r.epoch}\u0000${r.hlc}\u0000${r.region}\u0000${r.data ?? '\u0000tombstone'}\n`;
}

function objectLine(r: Row): string {
  return `${r.key}\u0000${r.version_id}\u0000${r.sha256 ?? ''}\u0000${r.delete_marker}\u0000${r.epoch}\u0000${r.hlc}\u0000${r.region}\n`;
}
