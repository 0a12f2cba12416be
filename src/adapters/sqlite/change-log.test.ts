import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDomainError } from '../../core/errors.js';
import { ChangeLog } from './change-log.js';
import { type Db, openDatabase } from './database.js';
import { openSqlite } from './driver.js';
import { MIGRATIONS } from './schema.js';

const barrier = (epoch: number) => ({ kind: 'barrier' as const, appId: 'a', epoch });

describe('SQLite change log: identity and running totals', () => {
  let dir: string;
  let db: Db;
  let log: ChangeLog;
  const append = (extra = 0) => db.transaction(() => log.append(barrier(1), extra))();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-changelog-'));
    db = openDatabase(join(dir, 'region.db'));
    log = new ChangeLog(db);
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is created with one random log id', () => {
    const segs = log.segments();
    expect(segs).toHaveLength(1);
    expect(segs[0]).toMatchObject({ base: 0, reason: 'created' });
    expect(segs[0]!.logId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('starts a new log id after the head, the sequence continuing, and keeps it across a reopen', () => {
    append();
    append();
    const next = log.startNewLogId('behind-peer: restored');
    expect(next.base).toBe(2);
    expect(append()).toBe(3);
    const reopened = new ChangeLog(db);
    expect(reopened.segments().map((s) => s.logId)).toEqual(log.segments().map((s) => s.logId));
    expect(reopened.segments()[1]).toMatchObject({ base: 2, reason: 'behind-peer: restored' });
  });

  it('keeps the bytes through each entry, so a backlog is a subtraction, also past compaction', () => {
    append(100);
    append(200);
    append(300);
    const [a, b, c] = log.readRawAfter(0, 10);
    expect(b!.bytesThrough - a!.bytesThrough).toBe(b!.bytes);
    expect(c!.bytesThrough).toBe(a!.bytes + b!.bytes + c!.bytes);
    log.compactThrough(1);
    expect(log.entryAfter(1)).toMatchObject({ seq: 2, bytesBefore: a!.bytes });
    expect(log.entryAfter(3)).toBeUndefined();
    expect(log.tip()).toEqual({ head: 3, bytes: c!.bytesThrough });
    expect(log.stats()).toEqual({ head: 3, tail: 2, entries: 2 });
    log.compactThrough(3);
    expect(log.stats()).toEqual({ head: 3, tail: 4, entries: 0 });
  });

  it('refuses appends while held (start-up), with a retryable unavailable', () => {
    log.holdAppends('starting');
    let err: unknown;
    try {
      append();
    } catch (e) {
      err = e;
    }
    expect(isDomainError(err, 'unavailable')).toBe(true);
    log.releaseAppends();
    expect(append()).toBe(1);
  });

  it('migrates a log made before log ids: one log id, the running totals filled in', async () => {
    const file = join(dir, 'old.db');
    const old = openSqlite(file);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    const insert = old.prepare('INSERT INTO changelog (seq, kind, body, bytes, created_at) VALUES (?, ?, ?, ?, ?)');
    for (const [seq, bytes] of [
      [7, 10],
      [8, 20],
      [9, 30],
    ])
      insert.run(seq, 'barrier', '{}', bytes, 0);
    old.prepare("INSERT INTO meta (k, v) VALUES ('log_head', '9')").run();
    old.prepare("INSERT INTO applied (origin, seq, updated_at) VALUES ('x', 5, 0)").run();
    old.close();
    const migrated = openDatabase(file);
    const l = new ChangeLog(migrated);
    expect(l.segments()).toHaveLength(1);
    expect(l.readRawAfter(0, 10).map((e) => e.bytesThrough)).toEqual([10, 30, 60]);
    expect(l.tip()).toEqual({ head: 9, bytes: 60 });
    expect(migrated.prepare("SELECT log_id, seq FROM applied WHERE origin = 'x'").get()).toEqual({
      log_id: null,
      seq: 5,
    });
    migrated.transaction(() => l.append(barrier(2)))();
    expect(l.readRawAfter(9, 1)[0]).toMatchObject({ seq: 10 });
    expect(l.tip().bytes).toBe(60 + l.readRawAfter(9, 1)[0]!.bytes);
    migrated.close();
  });
});
