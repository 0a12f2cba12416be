/**
 * @module Opens a region's embedded storage under one data directory:
 * `region.db` (tables, object metadata, change log) and `blobs/` (object bodies).
 */
import { join } from 'node:path';
import { openDatabase, type Db, type OpenOptions } from './sqlite/database.js';
import { ChangeLog } from './sqlite/change-log.js';
import { Transactor } from './sqlite/transactor.js';
import { SqliteTableStore } from './sqlite/table-store.js';
import { BlobFiles } from './disk/blob-files.js';
import { DiskObjectStore } from './disk/object-store.js';
import type { TableDefinition } from '../ports/table-store.js';

export interface EmbeddedStorage {
  dataDir: string;
  db: Db;
  log: ChangeLog;
  tx: Transactor;
  tables: SqliteTableStore;
  objects: DiskObjectStore;
  blobs: BlobFiles;
  close(): void;
}

export async function openEmbeddedStorage(
  dataDir: string,
  tables: readonly TableDefinition[],
  options: OpenOptions = {},
): Promise<EmbeddedStorage> {
  const db = openDatabase(join(dataDir, 'region.db'), options);
  const log = new ChangeLog(db);
  const tx = new Transactor(db, log);
  const blobs = new BlobFiles(join(dataDir, 'blobs'));
  await blobs.init();
  return {
    dataDir,
    db,
    log,
    tx,
    tables: new SqliteTableStore(tx, tables),
    objects: new DiskObjectStore(tx, blobs),
    blobs,
    close: () => db.close(),
  };
}
