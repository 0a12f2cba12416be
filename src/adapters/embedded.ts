/**
 * @module Opens a region's embedded storage under one data directory:
 * `region.db` (tables, object metadata, change log) and `blobs/` (object bodies).
 */
import { join } from 'node:path';
import type { Hlc } from '../core/hlc.js';
import type { TableDefinition } from '../ports/table-store.js';
import { BlobFiles, fsyncDirectory } from './disk/blob-files.js';
import { DiskObjectStore } from './disk/object-store.js';
import { ChangeLog } from './sqlite/change-log.js';
import { Checkpointer } from './sqlite/checkpointer.js';
import { type Db, type OpenOptions, openDatabase } from './sqlite/database.js';
import { Durability } from './sqlite/durability.js';
import { SqliteTableStore } from './sqlite/table-store.js';
import { Transactor } from './sqlite/transactor.js';

export interface EmbeddedStorage {
  dataDir: string;
  db: Db;
  log: ChangeLog;
  tx: Transactor;
  durability: Durability;
  tables: SqliteTableStore;
  objects: DiskObjectStore;
  blobs: BlobFiles;
  /**
   * The highest HLC of any version held here, items and objects (tombstones and delete
   * markers included): the region's clock starts above it, so it never goes back across
   * a restart. Undefined for an empty store.
   */
  highestHlc(): Hlc | undefined;
  /**
   * Closes the database once the checkpoint worker has stopped (it writes the WAL until
   * then) and the WAL handle kept for fdatasync is closed.
   */
  close(): Promise<void>;
}

export async function openEmbeddedStorage(
  dataDir: string,
  tables: readonly TableDefinition[],
  options: OpenOptions = {},
): Promise<EmbeddedStorage> {
  const dbFile = join(dataDir, 'region.db');
  const db = openDatabase(dbFile, options);
  const log = new ChangeLog(db);
  const durability = new Durability(options.durability === 'FULL' ? undefined : `${dbFile}-wal`, log);
  const tx = new Transactor(db, log, durability);
  const checkpointer = new Checkpointer(db, dbFile);
  const blobs = new BlobFiles(join(dataDir, 'blobs'));
  await blobs.init();
  // The database and its WAL exist now: make their directory entries durable once.
  await fsyncDirectory(dataDir);
  // What an earlier process committed may not be on disk yet: sync before publishing the head.
  await durability.open();
  const tableStore = new SqliteTableStore(tx, tables);
  const objects = new DiskObjectStore(tx, blobs);
  return {
    dataDir,
    db,
    log,
    tx,
    durability,
    tables: tableStore,
    objects,
    blobs,
    highestHlc: () => {
      const [a, b] = [tableStore.highestHlc(), objects.highestHlc()];
      // Fixed-width timestamps: string order is time order.
      return a === undefined ? b : b === undefined || a > b ? a : b;
    },
    close: async () => {
      await checkpointer.close();
      await durability.close();
      if (db.open) db.close();
    },
  };
}
