/**
 * @module The region database's schema, applied in order by `migrate`. A region keeps
 * its tables, object metadata, change log and replication progress in one SQLite
 * file, so a data write and its change-log entry commit in one transaction.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE items (
    tbl TEXT NOT NULL, pk TEXT NOT NULL,
    data TEXT,                      -- JSON; NULL for a tombstone
    epoch INTEGER NOT NULL, hlc TEXT NOT NULL, region TEXT NOT NULL,
    PRIMARY KEY (tbl, pk)
  ) WITHOUT ROWID;

  CREATE TABLE item_index (
    tbl TEXT NOT NULL, idx TEXT NOT NULL, hv TEXT NOT NULL, sv TEXT NOT NULL, pk TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, hv, sv, pk)
  ) WITHOUT ROWID;
  CREATE INDEX item_index_by_pk ON item_index (tbl, pk);

  CREATE TABLE object_versions (
    bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL,
    sha256 TEXT, etag TEXT, size INTEGER NOT NULL, content_type TEXT,
    delete_marker INTEGER NOT NULL, last_modified TEXT NOT NULL,
    epoch INTEGER NOT NULL, hlc TEXT NOT NULL, region TEXT NOT NULL,
    PRIMARY KEY (bucket, key, version_id)
  ) WITHOUT ROWID;
  CREATE INDEX object_versions_by_sha ON object_versions (sha256);

  -- The latest version of each key, kept in step with object_versions.
  CREATE TABLE object_latest (
    bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL, delete_marker INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
  ) WITHOUT ROWID;

  -- The transactional outbox: one entry per local write, in commit order.
  CREATE TABLE changelog (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL,
    bytes INTEGER NOT NULL, created_at INTEGER NOT NULL
  );

  -- Per origin region: the highest sequence of its log applied here.
  CREATE TABLE applied (
    origin TEXT PRIMARY KEY, seq INTEGER NOT NULL, barrier_epoch INTEGER NOT NULL DEFAULT 0,
    barrier_seq INTEGER NOT NULL DEFAULT 0, origin_head INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Per peer: the highest sequence of this region's log the peer has acknowledged.
  CREATE TABLE peer_acks (
    peer TEXT PRIMARY KEY, seq INTEGER NOT NULL, acked_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Writes that lost a last-writer-wins conflict, kept for review.
  CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY, detected_at TEXT NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, key TEXT NOT NULL, origin TEXT NOT NULL,
    loser TEXT NOT NULL, winner TEXT NOT NULL
  );
  `,
  // Issue 12: a log's identity, running byte totals, progress per (origin, log id), rebuild marks.
  `
  -- The log's identity: a chain of segments, each with a random log id; a segment holds the
  -- entries after its base, up to the next one's base (the sequence continues across them).
  CREATE TABLE log_segments (
    log_id TEXT PRIMARY KEY, base INTEGER NOT NULL, started_at INTEGER NOT NULL, reason TEXT NOT NULL
  );
  INSERT INTO log_segments (log_id, base, started_at, reason)
    VALUES (lower(hex(randomblob(16))), 0, CAST(unixepoch('subsec') * 1000 AS INTEGER), 'created');

  -- Bytes of each entry and every one before it: a backlog's bytes are a subtraction.
  ALTER TABLE changelog ADD COLUMN bytes_through INTEGER NOT NULL DEFAULT 0;
  UPDATE changelog SET bytes_through = s.total
    FROM (SELECT seq, SUM(bytes) OVER (ORDER BY seq) AS total FROM changelog) AS s
    WHERE s.seq = changelog.seq;
  INSERT INTO meta (k, v) SELECT 'log_bytes', CAST(COALESCE(MAX(bytes_through), 0) AS TEXT) FROM changelog;

  -- The origin's log followed (NULL: its first log) and the peer's log acknowledged (NULL: our first).
  ALTER TABLE applied ADD COLUMN log_id TEXT;
  ALTER TABLE peer_acks ADD COLUMN log_id TEXT;

  -- Peers this region can no longer bring up to date from its log: kept until rebuilt.
  CREATE TABLE rebuild_marks (
    peer TEXT PRIMARY KEY, reason TEXT NOT NULL, message TEXT NOT NULL, marked_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // Issue 14: object entries wait for their body here while the rest of the log moves on.
  `
  CREATE TABLE parked_objects (
    origin TEXT NOT NULL, log_id TEXT NOT NULL, seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, change TEXT NOT NULL, parked_at INTEGER NOT NULL,
    PRIMARY KEY (origin, log_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX parked_objects_by_body ON parked_objects (sha256);
  `,
];
