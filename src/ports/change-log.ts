/**
 * @module Change-log port: a region's transactional outbox as replication sees it
 * (DESIGN §5). The embedded adapter is src/adapters/sqlite/change-log.ts.
 *
 * Contract:
 * - `append` runs inside the transaction of the write it records; the entry commits
 *   with the write or not at all.
 * - Sequence numbers follow commit order, one apart, and are never reused: not after
 *   compaction, not after a new log id. Compaction removes a prefix only, so the
 *   stored entries are exactly `tail..head`.
 * - The log has an identity. It is a chain of segments, each with a log id made at
 *   random: the first when the log was created, a new one when the region starts one
 *   (`startNewLogId`: it was restored from a backup, or lost an unsynced tail, so a
 *   peer may hold entries under sequence numbers this log will issue again). A
 *   segment holds the entries after its `base` up to the next segment's base; the
 *   sequence continues across segments. A peer's progress is a (log id, sequence) pair.
 * - Nothing above `durableHead()` is shipped: only what a power loss cannot take back.
 *   `onDurable` listeners hear each new durable head.
 * - `bytes` of an entry count its JSON and, for an object, its body. `bytesThrough` of
 *   an entry is the sum of `bytes` of it and every entry before it (compacted or not),
 *   so a backlog's bytes are a subtraction, never a scan.
 * - While appends are held (`holdAppends`, at start-up until the log's identity is
 *   settled with the peers), `append` throws DomainError `unavailable`.
 */
import type { Change } from '../core/change.js';

export interface RawLogEntry {
  seq: number;
  createdAt: number;
  bytes: number;
  /** Bytes of this entry and of every entry before it. */
  bytesThrough: number;
  kind: Change['kind'];
  /** The change as stored: JSON text (shipped as is, never parsed and serialised again). */
  json: string;
}

export interface LogSegment {
  logId: string;
  /** The sequence before this segment's first entry. */
  base: number;
  /** When the segment was started (ms since the epoch). */
  startedAt: number;
  /** Why: `created` for the first; otherwise what made the region start a new log id. */
  reason: string;
}

export interface LogStats {
  /** Highest sequence ever appended (0 if none). */
  head: number;
  /** Lowest sequence still stored, or head + 1 when the log is empty. */
  tail: number;
  entries: number;
}

/** Where a backlog starts: the first stored entry after a sequence. */
export interface EntryAfter {
  seq: number;
  createdAt: number;
  /** Bytes of every entry before this one. */
  bytesBefore: number;
}

export interface ChangeLog {
  append(change: Change, extraBytes?: number): number;
  head(): number;
  /** The highest sequence known to be on disk, and the bytes through it. */
  durableHead(): number;
  durableBytes(): number;
  onDurable(listener: (head: number) => void): () => void;
  /** Every segment, oldest first; the last is the one appended to. */
  segments(): readonly LogSegment[];
  /** Start a new segment after the current head (not inside another transaction). */
  startNewLogId(reason: string): LogSegment;
  /** Entries after `seq` up to `upTo`, at most `limit` and about `maxBytes` of JSON (at least one). */
  readRawAfter(seq: number, limit: number, maxBytes?: number, upTo?: number): RawLogEntry[];
  entryAfter(seq: number): EntryAfter | undefined;
  stats(): LogStats;
  /** Remove entries up to and including `seq`; returns how many. */
  compactThrough(seq: number): number;
  holdAppends(reason: string): void;
  releaseAppends(): void;
}
