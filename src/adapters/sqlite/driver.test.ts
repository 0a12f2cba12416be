import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openSqlite, sqliteDriverName } from './driver.js';

const hasNodeSqlite = (() => {
  try {
    return !!(process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.('node:sqlite');
  } catch {
    return false;
  }
})();

describe(`the SQLite driver (${sqliteDriverName()} on Node ${process.versions.node})`, () => {
  let db: Db;
  const count = () => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;

  beforeEach(() => {
    db = openSqlite(':memory:');
    db.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b)');
  });
  afterEach(() => {
    if (db.open) db.close();
  });

  it('is node:sqlite where the runtime has it, and then never loads better-sqlite3', () => {
    expect(sqliteDriverName()).toBe(hasNodeSqlite ? 'node:sqlite' : 'better-sqlite3');
    const cache = createRequire(import.meta.url).cache;
    const loaded = Object.keys(cache).some((k) => k.includes(`${'/'}better-sqlite3${'/'}`));
    if (hasNodeSqlite) expect(loaded).toBe(false);
  });

  it('runs, gets, lists and iterates; binds undefined as NULL', () => {
    const insert = db.prepare('INSERT INTO t (a, b) VALUES (?, ?)');
    expect(insert.run(1, 'x').changes).toBe(1);
    insert.run(2, undefined);
    insert.run(3, Buffer.from([1, 2]));
    expect(db.prepare('SELECT b FROM t WHERE a = ?').get(1)).toEqual({ b: 'x' });
    expect(db.prepare('SELECT b FROM t WHERE a = ?').get(9)).toBeUndefined();
    expect(db.prepare('SELECT a FROM t WHERE b IS NULL').all()).toEqual([{ a: 2 }]);
    expect([...db.prepare('SELECT a FROM t ORDER BY a').iterate()].map((r) => (r as { a: number }).a)).toEqual([
      1, 2, 3,
    ]);
    const blob = (db.prepare('SELECT b FROM t WHERE a = 3').get() as { b: Uint8Array }).b;
    expect([...blob]).toEqual([1, 2]);
  });

  it('reads and sets pragmas', () => {
    db.pragma('user_version = 7');
    expect(db.pragma('user_version', { simple: true })).toBe(7);
    expect(db.pragma('user_version')).toEqual([{ user_version: 7 }]);
  });

  it('commits a transaction, and rolls it back when its function throws', () => {
    expect(db.inTransaction).toBe(false);
    const seen = db.transaction((a: number) => {
      expect(db.inTransaction).toBe(true);
      db.prepare('INSERT INTO t (a) VALUES (?)').run(a);
      return a * 2;
    })(4);
    expect(seen).toBe(8);
    expect(db.inTransaction).toBe(false);
    expect(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO t (a) VALUES (5)').run();
        throw new Error('no');
      })(),
    ).toThrow('no');
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(1);
  });

  it('nests as a savepoint: an inner failure caught undoes only the inner work', () => {
    const insert = db.prepare('INSERT INTO t (a) VALUES (?)');
    db.transaction(() => {
      insert.run(1);
      expect(() =>
        db.transaction(() => {
          insert.run(2);
          throw new Error('inner');
        })(),
      ).toThrow('inner');
      expect(db.inTransaction).toBe(true);
      db.transaction(() => insert.run(3))();
    })();
    expect(db.prepare('SELECT a FROM t ORDER BY a').all()).toEqual([{ a: 1 }, { a: 3 }]);
    // An inner failure not caught rolls back the whole transaction.
    expect(() =>
      db.transaction(() => {
        insert.run(4);
        db.transaction(() => {
          insert.run(5);
          throw new Error('inner');
        })();
      })(),
    ).toThrow('inner');
    expect(count()).toBe(2);
  });

  it('rolls back when a statement fails inside, and the connection stays usable', () => {
    const insert = db.prepare('INSERT INTO t (a) VALUES (?)');
    expect(() =>
      db.transaction(() => {
        insert.run(1);
        insert.run(1);
      })(),
    ).toThrow();
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(0);
    db.transaction(() => insert.run(1))();
    expect(count()).toBe(1);
  });

  it('says whether it is open', () => {
    expect(db.open).toBe(true);
    db.close();
    expect(db.open).toBe(false);
  });

  it('refuses a missing file when it must exist', () => {
    expect(() => openSqlite('/nonexistent/mraa/region.db', { fileMustExist: true })).toThrow();
  });
});
