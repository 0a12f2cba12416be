/**
 * @module Opens a region's SQLite database: WAL journal, migrations applied in order.
 * Durability: by default synchronous=NORMAL, with every acknowledged write made
 * durable by an fdatasync of the WAL off the event loop (src/adapters/sqlite/durability.ts);
 * synchronous=FULL fsyncs inside every commit instead, blocking the event loop.
 * The database holds password hashes: its folder is 0700, the file and its -wal and
 * -shm 0600 (SQLite gives those the main file's mode).
 * SQLite itself comes through ./driver.ts (node:sqlite, or better-sqlite3 on Node 20).
 */

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Db, openSqlite } from './driver.js';
import { MIGRATIONS } from './schema.js';

export type { Db, Statement } from './driver.js';

export interface OpenOptions {
  /** 'group' (default): NORMAL plus a WAL fdatasync before each acknowledgement; 'FULL': an fsync in every commit. */
  durability?: 'group' | 'FULL';
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Created private before SQLite sees it; one from an older version is made private.
    closeSync(openSync(file, 'a', 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  }
  const db = openSqlite(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.durability === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
