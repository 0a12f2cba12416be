/**
 * @module The transactional outbox of a region: entries appended inside the same
 * SQLite transaction as the write they describe, read back in sequence order by
 * the shippers, compacted once every peer has acknowledged them. Its identity is a
 * chain of log ids (`log_segments`), the sequence continuing across them; each entry
 * carries the running total of bytes through it, so backlogs are subtractions.
 */

import { randomBytes } from 'node:crypto';
import type { Change, LogEntry } from '../../core/change.js';
import { DomainError } from '../../core/errors.js';
import type {
  ChangeLog as ChangeLogPort,
  EntryAfter,
  LogSegment,
  LogStats,
  RawLogEntry,
} from '../../ports/change-log.js';
import type { Db } from './database.js';

export type { LogStats, RawLogEntry } from '../../ports/change-log.js';

interface Row {
  seq: number;
  kind: string;
  body: string;
  bytes: number;
  bytes_through: number;
  created_at: number;
}

/** The head of the log and the bytes through it, as one reading. */
export interface LogTip {
  head: number;
  bytes: number;
}

export class ChangeLog implements ChangeLogPort {
  private readonly stmts;
  private readonly listeners = new Set<(seq: number) => void>();
  private durable: LogTip = { head: 0, bytes: 0 };
  private segmentList: LogSegment[];
  private held: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.stmts = {
      insert: db.prepare(
        'INSERT INTO changelog (seq, kind, body, bytes, bytes_through, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      selectAfter: db.prepare(
        'SELECT seq, kind, body, bytes, bytes_through, created_at FROM changelog WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
      ),
      entryAfter: db.prepare(
        'SELECT seq, created_at, bytes_through - bytes AS before FROM changelog WHERE seq > ? ORDER BY seq LIMIT 1',
      ),
      tip: db.prepare(
        `SELECT (SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'log_head') AS head,
                (SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'log_bytes') AS bytes`,
      ),
      setTip: db.prepare(
        "INSERT INTO meta (k, v) VALUES ('log_head', ?), ('log_bytes', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
      ),
      tail: db.prepare('SELECT MIN(seq) AS tail FROM changelog'),
      compact: db.prepare('DELETE FROM changelog WHERE seq <= ?'),
      segments: db.prepare('SELECT log_id, base, started_at, reason FROM log_segments ORDER BY rowid'),
      addSegment: db.prepare('INSERT INTO log_segments (log_id, base, started_at, reason) VALUES (?, ?, ?, ?)'),
    };
    this.segmentList = this.loadSegments();
  }

  /**
   * Append an entry. Must be called inside the transaction of the write it records;
   * the sequence is taken from a stored counter so it is never reused, even after
   * compaction removed every entry.
   */
  append(change: Change, extraBytes = 0): number {
    if (!this.db.inTransaction) throw new Error('ChangeLog.append must run inside the write transaction');
    if (this.held !== undefined) throw new DomainError('unavailable', this.held, { retryAfter: 1 });
    const tip = this.tip();
    const seq = tip.head + 1;
    const body = JSON.stringify(change);
    const bytes = Buffer.byteLength(body) + extraBytes;
    this.stmts.insert.run(seq, change.kind, body, bytes, tip.bytes + bytes, this.now());
    this.stmts.setTip.run(String(seq), String(tip.bytes + bytes));
    return seq;
  }

  holdAppends(reason: string): void {
    this.held = reason;
  }

  releaseAppends(): void {
    this.held = undefined;
  }

  /** Called once entries up to `tip.head` are on disk, to wake the shippers. */
  publishDurable(tip: LogTip): void {
    if (tip.head <= this.durable.head) return;
    this.durable = tip;
    for (const l of this.listeners) l(tip.head);
  }

  /** Listen for new entries reaching the disk. */
  onDurable(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  durableHead(): number {
    return this.durable.head;
  }

  durableBytes(): number {
    return this.durable.bytes;
  }

  head(): number {
    return this.tip().head;
  }

  tip(): LogTip {
    const r = this.stmts.tip.get() as { head: number | null; bytes: number | null };
    return { head: r.head ?? 0, bytes: r.bytes ?? 0 };
  }

  segments(): readonly LogSegment[] {
    return this.segmentList;
  }

  startNewLogId(reason: string): LogSegment {
    const segment: LogSegment = {
      logId: randomBytes(16).toString('hex'),
      base: this.head(),
      startedAt: this.now(),
      reason,
    };
    this.db.transaction(() =>
      this.stmts.addSegment.run(segment.logId, segment.base, segment.startedAt, segment.reason),
    )();
    this.segmentList = this.loadSegments();
    return segment;
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
    const rows = this.stmts.selectAfter.all(seq, upTo, limit) as Row[];
    const out: RawLogEntry[] = [];
    let bytes = 0;
    for (const r of rows) {
      if (out.length > 0 && bytes + r.body.length > maxBytes) break;
      bytes += r.body.length;
      out.push({
        seq: r.seq,
        createdAt: r.created_at,
        bytes: r.bytes,
        bytesThrough: r.bytes_through,
        kind: r.kind as Change['kind'],
        json: r.body,
      });
    }
    return out;
  }

  entryAfter(seq: number): EntryAfter | undefined {
    const r = this.stmts.entryAfter.get(seq) as { seq: number; created_at: number; before: number } | undefined;
    return r ? { seq: r.seq, createdAt: r.created_at, bytesBefore: r.before } : undefined;
  }

  /** Head, tail and the number of entries: no scan (the stored entries are tail..head). */
  stats(): LogStats {
    const tail = (this.stmts.tail.get() as { tail: number | null }).tail;
    const head = this.head();
    return tail === null ? { head, tail: head + 1, entries: 0 } : { head, tail, entries: head - tail + 1 };
  }

  /** Remove entries up to and including `seq`. Returns how many were removed. */
  compactThrough(seq: number): number {
    return this.stmts.compact.run(seq).changes;
  }

  private loadSegments(): LogSegment[] {
    return (
      this.stmts.segments.all() as Array<{ log_id: string; base: number; started_at: number; reason: string }>
    ).map((r) => ({ logId: r.log_id, base: r.base, startedAt: r.started_at, reason: r.reason }));
  }
}
