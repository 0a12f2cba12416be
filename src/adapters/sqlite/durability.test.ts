import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeLog } from './change-log.js';
import { type Db, openDatabase } from './database.js';
import { type DataSync, Durability, keptOpen } from './durability.js';
import { Transactor } from './transactor.js';

describe('group commit durability', () => {
  let dir: string;
  let db: Db;
  let log: ChangeLog;
  let syncs: Array<{ release: () => void; head: number }>;
  let durability: Durability;
  let tx: Transactor;
  const append = () => tx.run(() => log.append({ kind: 'barrier', appId: 'a', epoch: 1 }));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mraa-durability-'));
    db = openDatabase(join(dir, 'region.db'));
    log = new ChangeLog(db);
    syncs = [];
    // A controllable fdatasync: each call waits until the test releases it.
    durability = new Durability(
      join(dir, 'region.db-wal'),
      log,
      () => new Promise<void>((release) => syncs.push({ release, head: log.head() })),
    );
    tx = new Transactor(db, log, durability);
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const settle = () => new Promise((r) => setImmediate(r));

  it('acknowledges a commit only after an fdatasync that began after it', async () => {
    append();
    let done = false;
    const acked = tx.durable().then(() => (done = true));
    await settle();
    expect(syncs).toHaveLength(1);
    expect(done).toBe(false);
    syncs[0]!.release();
    await acked;
    expect(done).toBe(true);
  });

  it('makes a commit during a running sync wait for the next one', async () => {
    append();
    const first = tx.durable();
    await settle();
    append(); // committed while the first sync runs: it may not be covered
    let secondDone = false;
    const second = tx.durable().then(() => (secondDone = true));
    syncs[0]!.release();
    await first;
    await settle();
    expect(secondDone).toBe(false);
    expect(syncs).toHaveLength(2);
    syncs[1]!.release();
    await second;
    expect(secondDone).toBe(true);
  });

  it('covers every commit made before a sync with that one sync', async () => {
    for (let i = 0; i < 10; i++) append();
    const waits = Array.from({ length: 10 }, () => tx.durable());
    await settle();
    syncs[0]!.release();
    await settle();
    for (const s of syncs.slice(1)) s.release();
    await Promise.all(waits);
    expect(syncs.length).toBeLessThanOrEqual(2);
  });

  it('publishes the log head as durable only once it is on disk', async () => {
    const heard: number[] = [];
    log.onDurable((head) => heard.push(head));
    append();
    append();
    expect(durability.durableHead).toBe(0);
    await settle();
    expect(heard).toEqual([]);
    syncs[0]!.release();
    await settle();
    expect(durability.durableHead).toBe(1);
    expect(heard).toEqual([1]);
    for (const s of syncs.slice(1)) s.release();
    await settle();
    expect(durability.durableHead).toBe(2);
    expect(heard.at(-1)).toBe(2);
  });

  it('publishes the head found at start only after an fdatasync (issue 12, case 1)', async () => {
    append();
    append();
    let flushed = false;
    void tx.durable().then(() => (flushed = true));
    while (!flushed) {
      for (const s of syncs) s.release();
      await settle();
    }
    // A new process opens the same database: nothing is durable until open() has synced.
    const syncs2: Array<() => void> = [];
    const reopened = new Durability(
      join(dir, 'region.db-wal'),
      new ChangeLog(db),
      () => new Promise<void>((release) => syncs2.push(release)),
    );
    expect(reopened.durableHead).toBe(0);
    const opened = reopened.open();
    await settle();
    expect(syncs2).toHaveLength(1);
    expect(reopened.durableHead).toBe(0);
    syncs2[0]!();
    await opened;
    expect(reopened.durableHead).toBe(2);
  });

  it('closes what its fdatasync keeps open, once the sync under way has finished (issue 15)', async () => {
    const events: string[] = [];
    let release: () => void = () => undefined;
    const datasync: DataSync = Object.assign(
      () =>
        new Promise<void>((r) => {
          events.push('sync');
          release = r;
        }),
      { close: async () => void events.push('close') },
    );
    const d = new Durability(join(dir, 'region.db-wal'), log, datasync);
    const t = new Transactor(db, log, d);
    t.run(() => log.append({ kind: 'barrier', appId: 'a', epoch: 1 }));
    await settle();
    const closed = d.close();
    await settle();
    expect(events).toEqual(['sync']);
    release();
    await closed;
    expect(events).toEqual(['sync', 'close']);
  });
});

describe('keptOpen (the fdatasync through a handle kept open)', () => {
  it('closes its handle on close(), and syncs after it with a handle of its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mraa-keptopen-'));
    try {
      const file = join(dir, 'f');
      await writeFile(file, 'x');
      const datasync = keptOpen();
      await datasync(file);
      await datasync(file);
      await datasync.close?.();
      await datasync(file);
      await datasync.close?.();
      await expect(datasync(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
