/**
 * @module Group commit without blocking the event loop. The database runs WAL with
 * synchronous=NORMAL, so a commit only writes the WAL; before a write is acknowledged
 * (to a client, or to a peer that will then compact its log) its transaction is made
 * durable by an fdatasync of the WAL file on a thread of its own (wal-sync-thread.ts:
 * never queued behind password hashing, image work or any other user of libuv's pool).
 * One fdatasync covers every transaction committed before it started, so concurrent
 * writes share it.
 *
 * The change log's head is published as durable only after such a sync: shippers send
 * nothing a power loss could take back. That holds at start-up too: what the database
 * holds when it is opened (after a crash, the WAL may still be only in the page cache)
 * is published once `open()` has synced it.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { ChangeLog } from './change-log.js';
import { walSyncThread } from './wal-sync-thread.js';

/** An fdatasync of a file; `close` (if any) releases what it keeps open. */
export type DataSync = ((file: string) => Promise<void>) & { close?: () => Promise<void> };

export class Durability {
  /** Commits so far, and how many of them the last completed sync covered. */
  private committed = 0;
  private flushed = 0;
  private running: Promise<void> | undefined;
  /**
   * Told of each fdatasync of the WAL: how long it took, in seconds, and whether it
   * succeeded (metrics; set by whoever wires them, never required).
   */
  syncObserver: ((seconds: number, ok: boolean) => void) | undefined;

  constructor(
    private readonly walFile: string | undefined,
    private readonly log: ChangeLog,
    private readonly datasync: DataSync = walSyncThread(),
    private readonly onFailure: (err: Error) => void = (err) => {
      // The kernel may have dropped the dirty pages: nothing written since can be trusted.
      process.stderr.write(`fatal: fdatasync of the write-ahead log failed: ${err.message}\n`);
      process.exit(70);
    },
  ) {}

  /**
   * At start: make what the database holds durable (an fdatasync of the WAL), then
   * publish its log head. Until then `durableHead` is 0 and nothing is shipped.
   */
  async open(): Promise<void> {
    await this.sync({ force: true });
  }

  /** The highest change-log sequence known to be on disk (0 until `open()` has synced). */
  get durableHead(): number {
    return this.log.durableHead();
  }

  /** Called after every commit: starts a sync (if none runs) so the commit reaches the disk. */
  noteCommit(): void {
    this.committed++;
    void this.sync();
  }

  /**
   * Resolves once everything committed before the call is on disk. `force`: sync even if
   * no commit is known to be pending (what an earlier process committed, at start-up).
   */
  async sync(options: { force?: boolean } = {}): Promise<void> {
    if (options.force) this.committed++;
    const target = this.committed;
    while (this.flushed < target) {
      this.running ??= this.flush();
      await this.running;
    }
  }

  /**
   * Waits for a sync under way, then closes the WAL handle kept open (none is left for the
   * garbage collector: Node warns of that, DEP0137, and from Node 26 throws). A sync asked
   * for after this opens the file for that sync only.
   */
  async close(): Promise<void> {
    while (this.running) await this.running;
    await this.datasync.close?.();
  }

  private async flush(): Promise<void> {
    const covered = this.committed;
    const tip = this.log.tip();
    const started = performance.now();
    let failed: Error | undefined;
    try {
      if (this.walFile) await this.datasync(this.walFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') failed = err as Error;
    } finally {
      this.running = undefined;
    }
    if (this.walFile) this.syncObserver?.((performance.now() - started) / 1000, !failed);
    if (failed) this.onFailure(failed);
    this.flushed = Math.max(this.flushed, covered);
    this.log.publishDurable(tip);
  }
}

/**
 * fdatasync of the WAL through a handle kept open: SQLite rewinds the WAL in place at a
 * checkpoint, it never replaces the file while the database is open. Every handle it
 * opens is closed: the one replaced (another file, or after a failed sync) at once, the
 * last one by `close()`; after `close()` each sync opens and closes its own.
 */
export function keptOpen(): DataSync {
  let handle: Promise<FileHandle> | undefined;
  let opened: string | undefined;
  let closed = false;
  const release = async (h: Promise<FileHandle> | undefined): Promise<void> => {
    await h?.then((fh) => fh.close()).catch(() => undefined);
  };
  const datasync: DataSync = async (file) => {
    if (closed) {
      const fh = await open(file, 'r+');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      return;
    }
    if (opened !== file) {
      void release(handle);
      handle = open(file, 'r+');
      opened = file;
    }
    const current = handle!;
    try {
      await (await current).datasync();
    } catch (err) {
      if (handle === current) {
        handle = undefined;
        opened = undefined;
      }
      void release(current);
      throw err;
    }
  };
  datasync.close = async () => {
    closed = true;
    const h = handle;
    handle = undefined;
    opened = undefined;
    await release(h);
  };
  return datasync;
}
