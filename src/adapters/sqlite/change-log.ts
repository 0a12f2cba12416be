/**
 * @module The transactional outbox of a region: entries appended inside the same
 * SQLite transaction as the write they describe, read back in sequence order by
 * the shippers, compacted once every peer has acknowledged them.
 */

import type { Change, LogEntry } from '../../core/change.js';
import type { Db } from './database.js';

interface Row {
  seq: number;
  kind: string;
  body: string;
  bytes: number;
  created_at: number;
}

export interface RawLogEntry {
  seq: number;
  createdAt: number;
  bytes: number;
  kind: Change['kind'];
  /** The change as stored: JSON text. */
  json: string;
}

export interface LogStats {
  /** Highest sequence ever appended (0 if none). */
  head: number;
  /** Lowest sequence still stored, or head + 1 when the log is empty. */
  tail: number;
  entries: number;
}

export class ChangeLog {
  private readonly insert;
  private readonly selectAfter;
  private readonly selectHead;
  private readonly setHead;
  private readonly listeners = new Set<(seq: number) => void>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.insert = db.prepare('INSERT INTO changelog (seq, kind, body, bytes, created_at) VALUES (?, ?, ?, ?, ?)');
    this.selectAfter = db.prepare(
      'SELECT seq, kind, body, bytes, created_at FROM changelog WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    );
    this.selectHead = db.prepare("SELECT CAST(v AS INTEGER) AS head FROM meta WHERE k = 'log_head'");
    this.setHead = db.prepare(
      "INSERT INTO meta (k, v) VALUES ('log_head', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    );
  }

  /**
   * Append an entry. Must be called inside the transaction of the write it records;
   * the sequence is taken from a stored counter so it is never reused, even after
   * compaction removed every entry.
   */
  append(change: Change, extraBytes = 0): number {
    if (!this.db.inTransaction) throw new Error('ChangeLog.append must run inside the write transaction');
    const seq = ((this.selectHead.get() as { head: number } | undefined)?.head ?? 0) + 1;
    const body = JSON.stringify(change);
    this.insert.run(seq, change.kind, body, Buffer.byteLength(body) + extraBytes, this.now());
    this.setHead.run(String(seq));
    return seq;
  }

  /** Called once entries up to `head` are on disk, to wake the shippers. */
  notifyDurable(head: number): void {
    for (const l of this.listeners) l(head);
  }

  /** Listen for new entries reaching the disk. */
  onDurable(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  head(): number {
    return (this.selectHead.get() as { head: number } | undefined)?.head ?? 0;
  }

  /** Entries after `seq` (see `readRawAfter`), with their changes parsed. */
  readAfter(seq: number, limit: number, maxBytes = Infinity, upTo = Number.MAX_SAFE_INTEGER): LogEntry[] {
    return this.readRawAfter(seq, limit, maxBytes, upTo).map((r) => ({
      seq: r.seq,
      createdAt: r.createdAt,
      bytes: r.bytes,
      change: JSON.parse(r.json) as Change,
    }));
  }

  /**
   * Entries after `seq` (up to `upTo`), in order, with each change as its stored JSON
   * text (shippers send it as is): at most `limit` of them and about `maxBytes` of
   * entry JSON (at least one). Object bodies travel apart and do not count.
   */
  readRawAfter(seq: number, limit: number, maxBytes = Infinity, upTo = Number.MAX_SAFE_INTEGER): RawLogEntry[] {
    const rows = this.selectAfter.all(seq, upTo, limit) as Row[];
    const out: RawLogEntry[] = [];
    let bytes = 0;
    for (const r of rows) {
      if (out.length > 0 && bytes + r.body.length > maxBytes) break;
      bytes += r.body.length;
      out.push({ seq: r.seq, createdAt: r.created_at, bytes: r.bytes, kind: r.kind as Change['kind'], json: r.body });
    }
    return out;
  }

  /** Entries and bytes after `seq`, and the commit time of the oldest of them. */
  backlogAfter(seq: number): { entries: number; bytes: number; oldestAt: number | null } {
    const row = this.db
      .prepare(
        'SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b, MIN(created_at) AS oldest FROM changelog WHERE seq > ?',
      )
      .get(seq) as { n: number; b: number; oldest: number | null };
    return { entries: row.n, bytes: row.b, oldestAt: row.oldest };
  }

  stats(): LogStats {
    const row = this.db.prepare('SELECT MIN(seq) AS tail, COUNT(*) AS n FROM changelog').get() as {
      tail: number | null;
      n: number;
    };
    const head = this.head();
    return { head, tail: row.tail ?? head + 1, entries: row.n };
  }

  /** Remove entries up to and including `seq`. Returns how many were removed. */
  compactThrough(seq: number): number {
    return this.db.prepare('DELETE FROM changelog WHERE seq <= ?').run(seq).changes;
  }
}
