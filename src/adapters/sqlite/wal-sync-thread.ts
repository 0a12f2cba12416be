/**
 * @module The fdatasync that acknowledges writes, on a thread of its own. Through
 * `fs/promises` it ran on libuv's four-thread pool, queued behind whatever else uses
 * it (scrypt, sharp's file reads, WebCrypto, zlib, every other fs call): a burst there
 * held every acknowledgement. Here one worker thread keeps the WAL open and runs
 * `fdatasyncSync` on it, so a sync waits for the disk and nothing else. Its calls never
 * touch the pool (synchronous fs calls run on the calling thread).
 *
 * The worker is referenced only while a sync is under way (an idle one never keeps the
 * process alive); if it dies, the sync in flight fails and the next one starts another.
 */
import { Worker } from 'node:worker_threads';

/** An fdatasync of a file, with `close` to release the handle and the thread. */
export type ThreadedDataSync = ((file: string) => Promise<void>) & { close: () => Promise<void> };

const WORKER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
let fd;
let opened;
const release = () => {
  if (fd !== undefined) { try { fs.closeSync(fd); } catch {} }
  fd = undefined;
  opened = undefined;
};
parentPort.on('message', (m) => {
  if (m.op === 'close') { release(); parentPort.postMessage({ id: m.id }); return; }
  try {
    if (opened !== m.file) { release(); fd = fs.openSync(m.file, 'r+'); opened = m.file; }
    fs.fdatasyncSync(fd);
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    release();
    parentPort.postMessage({ id: m.id, error: { message: String((err && err.message) || err), code: err && err.code } });
  }
});
`;

interface Reply {
  id: number;
  error?: { message: string; code?: string };
}

export function walSyncThread(): ThreadedDataSync {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void; w: Worker }>();

  /** Fails what was asked of `w` (not of a thread started after it). */
  const failAll = (w: Worker, err: Error) => {
    for (const [id, p] of pending) {
      if (p.w !== w) continue;
      pending.delete(id);
      p.reject(err);
    }
  };
  const started = (): Worker => {
    if (worker) return worker;
    const w = new Worker(WORKER, { eval: true, name: 'mraa-wal-sync' });
    w.on('message', (reply: Reply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (![...pending.values()].some((q) => q.w === w)) w.unref();
      if (!reply.error) return p.resolve();
      const err = new Error(reply.error.message) as NodeJS.ErrnoException;
      if (reply.error.code) err.code = reply.error.code;
      p.reject(err);
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(w, err);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      failAll(w, new Error(`the WAL sync thread exited (${code})`));
    });
    w.unref();
    worker = w;
    return w;
  };
  const ask = (message: { op: 'sync'; file: string } | { op: 'close' }, w = started()): Promise<void> => {
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject, w });
      w.ref();
      w.postMessage({ ...message, id });
    });
  };

  const datasync = ((file: string) => ask({ op: 'sync', file })) as ThreadedDataSync;
  datasync.close = async () => {
    const w = worker;
    if (!w) return;
    // A sync asked for from now on goes to a thread of its own: never to this one, which
    // is ending (its end would fail that sync, and a failed sync is fatal). What was
    // asked of it before is answered before it reads the close.
    worker = undefined;
    await ask({ op: 'close' }, w).catch(() => undefined);
    await w.terminate();
  };
  return datasync;
}
