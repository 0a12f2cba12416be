/**
 * @module When each comment became visible in a region's database, seen from another
 * process that has it open read-only: SQLite in WAL mode shows a transaction to every
 * reader the moment it commits, as it does to the region's own handlers.
 */

import { type FSWatcher, watch } from 'node:fs';
import { type Db, openSqlite, type Statement } from '../src/adapters/sqlite/driver.js';
import { nowNs } from './clock.js';

/** After a WAL write: poll until the commit shows and then no change for QUIET_NS, at most BURST_MAX_NS. */
const QUIET_NS = 300_000n;
const BURST_MAX_NS = 20_000_000n;
const FALLBACK_POLL_MS = 2;
/** ms of id prefix re-read on each poll: ids sort by the primary's clock, not strictly by commit order. */
const ID_MARGIN_MS = 5;
const pause = new Int32Array(new SharedArrayBuffer(4));

export function openReadOnly(file: string): Db {
  return openSqlite(file, { readonly: true, fileMustExist: true });
}

function idPrefix(ms: number): string {
  return Math.max(0, ms).toString(36).padStart(9, '0');
}

/**
 * Comments as they become visible in the secondary. A commit there writes the WAL
 * file first, so an inotify event on it (fs.watch) wakes the observer, which then
 * polls every `intervalUs` until the commit shows (after its fsync) and a little longer,
 * for commits close behind. A slow poll is the safety net for anything the events
 * miss; how many rows each path found is reported.
 */
export class CommentWatch {
  private readonly db: Db;
  private readonly appliedSeq: Statement;
  private readonly newRows: Statement;
  private readonly watcher: FSWatcher;
  private readonly fallback: NodeJS.Timeout;
  readonly visible = new Map<string, bigint>();
  private watermark: string;
  private maxMs: number;
  private lastSeq = -1;
  polls = 0;
  /** Commits seen to move the sequence (the secondary's applied batches, or the primary's write transactions). */
  commits = 0;
  foundBy = { event: 0, fallback: 0 };
  private readonly t0 = nowNs();
  private readonly cpu0 = process.cpuUsage();

  /** `origin`: the region whose applied sequence shows a commit; null to watch the region's own log head (its local writes). */
  constructor(
    dbPath: string,
    private readonly origin: string | null,
    private readonly intervalUs: number,
  ) {
    this.db = openReadOnly(dbPath);
    // The cheap check of every poll: has a batch from the origin (or a local write) committed since the last one?
    this.appliedSeq = origin
      ? this.db.prepare('SELECT seq AS v FROM applied WHERE origin = ?')
      : this.db.prepare("SELECT CAST(v AS INTEGER) AS v FROM meta WHERE k = 'log_head' AND ? IS NULL");
    this.newRows = this.db.prepare("SELECT pk FROM items WHERE tbl = 'comments' AND pk > ?");
    const last = (
      this.db.prepare("SELECT MAX(pk) AS pk FROM items WHERE tbl = 'comments'").get() as { pk: string | null }
    ).pk;
    this.maxMs = last ? parseInt(last.slice(0, 9), 36) : 0;
    this.watermark = idPrefix(this.maxMs - ID_MARGIN_MS);
    for (const id of this.pks()) this.visible.set(id, 0n);
    this.lastSeq = this.seq();
    this.watcher = watch(`${dbPath}-wal`, () => this.afterWalWrite());
    this.fallback = setInterval(() => this.pollOnce('fallback'), FALLBACK_POLL_MS);
  }

  /** One poll; whether the origin's applied sequence moved. */
  /** The origin's applied sequence (or the log head): moves with every commit. */
  private seq(): number {
    return (this.appliedSeq.get(this.origin) as { v: number } | undefined)?.v ?? 0;
  }

  /** Comment ids from the watermark on. */
  private pks(): string[] {
    return (this.newRows.all(this.watermark) as Array<{ pk: string }>).map((r) => r.pk);
  }

  private pollOnce(path: 'event' | 'fallback'): boolean {
    this.polls++;
    const seq = this.seq();
    if (seq === this.lastSeq) return false;
    this.lastSeq = seq;
    this.commits++;
    const rows = this.pks();
    const at = nowNs();
    for (const id of rows) {
      if (this.visible.has(id)) continue;
      this.visible.set(id, at);
      this.foundBy[path]++;
      const ms = parseInt(id.slice(0, 9), 36);
      if (ms > this.maxMs) this.maxMs = ms;
    }
    this.watermark = idPrefix(this.maxMs - ID_MARGIN_MS);
    return true;
  }

  /** A commit is being written: poll until it shows and nothing more moves for a while (blocking, sub-ms sleeps). */
  private afterWalWrite(): void {
    const start = nowNs();
    let lastChange = -1n;
    for (;;) {
      const t = nowNs();
      if (this.pollOnce('event')) lastChange = t;
      if (lastChange >= 0n && t - lastChange > QUIET_NS) return;
      if (t - start > BURST_MAX_NS) return;
      Atomics.wait(pause, 0, 0, this.intervalUs / 1000);
    }
  }

  async stop() {
    this.watcher.close();
    clearInterval(this.fallback);
    this.pollOnce('fallback');
    this.db.close();
    const wallS = Number(nowNs() - this.t0) / 1e9;
    const cpu = process.cpuUsage(this.cpu0);
    return {
      visible: new Map([...this.visible].filter(([, at]) => at !== 0n)),
      polls: this.polls,
      commits: this.commits,
      foundBy: this.foundBy,
      intervalUs: this.intervalUs,
      cpuShare: (cpu.user + cpu.system) / 1e6 / wallS,
    };
  }
}
