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
    private readonly datasync: (file: string) => Promise<void> = walSyncThread(),
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
 * checkpoint, it never replaces the file while the database is open.
 */
export function keptOpen(): (file: string) => Promise<void> {
  let handle: Promise<FileHandle> | undefined;
  let opened: string | undefined;
  return async (file) => {
    if (opened !== file) {
      void handle?.then((h) => h.close()).catch(() => undefined);
      handle = open(file, 'r+');
      opened = file;
    }
    try {
      await (await handle!).datasync();
    } catch (err) {
      handle = undefined;
      opened = undefined;
      throw err;
    }
  };
}
