/**
 * @module Turns a peer's snapshot (src/adapters/sqlite/snapshot.ts) into this region's
 * database, in one transaction (DESIGN §5, rebuild):
 *
 * - its tables and object metadata are kept as they are;
 * - the progress per origin is the source's, plus the source's own log up to the head
 *   the snapshot holds (its log id and head at the snapshot moment), so this region
 *   follows every log from exactly what the data contains; what the source had applied
 *   of this region's old log is dropped (a region does not apply its own log);
 * - the change log starts afresh with a new log id: the source's entries, its
 *   acknowledgements, its rebuild marks and its conflict log are the source's, not this
 *   region's, and so are its region-local tables.
 *
 * The new log is a chain of two segments from sequence 0: one that stands for every log
 * this region had before (a peer's position in any of them, or in "the first log",
 * moves to the next), and the new log id entries are appended to.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from './database.js';
import { openSqlite } from './driver.js';

export const REBUILT_META_KEY = 'rebuilt_from';

export interface RebuiltFrom {
  /** The region rebuilt. */
  region: string;
  source: string;
  snapshotId: string;
  /** The source's log id and head in the snapshot: where this region follows it from. */
  logId: string;
  head: number;
  /** The new log id of this region. */
  newLogId: string;
  at: string;
}

/** The bodies the snapshot's object versions refer to (delete markers have none). */
export function snapshotBodies(file: string): Array<{ sha256: string; size: number }> {
  const db = openSqlite(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        'SELECT sha256, MAX(size) AS size FROM object_versions WHERE sha256 IS NOT NULL GROUP BY sha256 ORDER BY sha256',
      )
      .all() as Array<{ sha256: string; size: number }>;
  } finally {
    db.close();
  }
}

/** Whether the database was already turned into a rebuilt region's (a rebuild cut after it resumes). */
export function rebuiltFrom(db: Db): RebuiltFrom | undefined {
  const row = db.prepare('SELECT v FROM meta WHERE k = ?').get(REBUILT_META_KEY) as { v: string } | undefined;
  return row ? (JSON.parse(row.v) as RebuiltFrom) : undefined;
}

export function prepareRebuiltDatabase(
  db: Db,
  options: { self: string; source: string; snapshotId: string; localTables: readonly string[]; now?: () => number },
): RebuiltFrom {
  // Done already (a rebuild cut after this step resumes): the same snapshot, turned by this region.
  const done = rebuiltFrom(db);
  if (done && done.snapshotId === options.snapshotId && done.region === options.self) return done;
  const now = (options.now ?? Date.now)();
  return db.transaction(() => {
    const seg = db.prepare('SELECT log_id FROM log_segments ORDER BY rowid DESC LIMIT 1').get() as
      | { log_id: string }
      | undefined;
    if (!seg) throw new Error('the snapshot has no log identity');
    const head =
      (
        db.prepare("SELECT CAST(v AS INTEGER) AS head FROM meta WHERE k = 'log_head'").get() as
          | { head: number }
          | undefined
      )?.head ?? 0;
    // The source's own barrier (a fenced writer's last entry): a drain check on this region finds it.
    const barrier = db
      .prepare("SELECT seq, body FROM changelog WHERE kind = 'barrier' AND seq <= ? ORDER BY seq DESC LIMIT 1")
      .get(head) as { seq: number; body: string } | undefined;
    const barrierEpoch = barrier ? Number((JSON.parse(barrier.body) as { epoch: number }).epoch) : 0;

    db.prepare('DELETE FROM changelog').run();
    db.prepare('DELETE FROM log_segments').run();
    const before = randomBytes(16).toString('hex');
    const newLogId = randomBytes(16).toString('hex');
    const addSegment = db.prepare('INSERT INTO log_segments (log_id, base, started_at, reason) VALUES (?, ?, ?, ?)');
    addSegment.run(before, 0, now, `before-rebuild: the logs ${options.self} had before it was rebuilt`);
    addSegment.run(
      newLogId,
      0,
      now,
      `rebuilt: from a snapshot of ${options.source} (its log ${seg.log_id.slice(0, 8)} up to ${head})`,
    );
    db.prepare(
      "INSERT INTO meta (k, v) VALUES ('log_head', '0'), ('log_bytes', '0') ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    ).run();

    db.prepare('DELETE FROM applied WHERE origin = ?').run(options.self);
    db.prepare(
      `INSERT INTO applied (origin, log_id, seq, barrier_epoch, barrier_seq, origin_head, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT (origin) DO UPDATE SET log_id = excluded.log_id, seq = excluded.seq,
         barrier_epoch = excluded.barrier_epoch, barrier_seq = excluded.barrier_seq,
         origin_head = excluded.origin_head, updated_at = 0`,
    ).run(options.source, seg.log_id, head, barrierEpoch, barrier?.seq ?? 0, head);
    db.prepare('DELETE FROM peer_acks').run();
    db.prepare('DELETE FROM rebuild_marks').run();
    db.prepare('DELETE FROM conflicts').run();
    for (const table of options.localTables) {
      db.prepare('DELETE FROM items WHERE tbl = ?').run(table);
      db.prepare('DELETE FROM item_index WHERE tbl = ?').run(table);
    }
    const from: RebuiltFrom = {
      region: options.self,
      source: options.source,
      snapshotId: options.snapshotId,
      logId: seg.log_id,
      head,
      newLogId,
      at: new Date(now).toISOString(),
    };
    db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(
      REBUILT_META_KEY,
      JSON.stringify(from),
    );
    return from;
  })();
}
