/**
 * @module WAL checkpoints off the event loop. SQLite's automatic checkpoint runs in
 * the committing connection and fsyncs the WAL and the database there: a stall of the
 * region's only thread every thousand pages. A worker thread with its own connection
 * checkpoints (PASSIVE: it never blocks a writer) twice a second instead; the
 * automatic checkpoint stays on, far higher, only as a safety net.
 */
import { Worker } from 'node:worker_threads';
import type { Db } from './database.js';
import { sqliteDriver, WORKER_SQLITE } from './driver.js';

export const CHECKPOINT_INTERVAL_MS = 500;
/** Pages of WAL after which the committing connection checkpoints itself (if the worker is stuck). */
export const SAFETY_AUTOCHECKPOINT_PAGES = 20_000;

const WORKER = `${WORKER_SQLITE}
const { workerData, parentPort } = require('node:worker_threads');
const db = openSqlite(workerData.driver, workerData.file);
db.exec('PRAGMA busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.get('PRAGMA wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err && err.message || err)); }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); process.exit(0); });
`;

export class Checkpointer {
  private readonly worker: Worker;

  private closing: Promise<void> | undefined;

  constructor(db: Db, file: string, onError: (message: string) => void = () => undefined) {
    db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
    // The same driver as the region's connection (never better-sqlite3 on a Node that has node:sqlite).
    const driver = sqliteDriver();
    this.worker = new Worker(WORKER, { eval: true, workerData: { driver, file, intervalMs: CHECKPOINT_INTERVAL_MS } });
    this.worker.on('message', (m: string) => onError(m));
    this.worker.on('error', (err) => onError(err.message));
    this.worker.unref();
  }

  /** Stops the worker; idempotent (a second close waits for the same exit). */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('stop');
    });
    return this.closing;
  }
}
