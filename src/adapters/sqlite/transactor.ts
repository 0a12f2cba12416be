/**
 * @module Runs work in one SQLite transaction and, once the outermost transaction has
 * committed, runs what the work queued for after the commit (pushing live events) and
 * starts making it durable (src/adapters/sqlite/durability.ts); `durable()` waits for
 * that before a write is acknowledged. Nested calls join the outer transaction.
 */

import type { ChangeLog } from './change-log.js';
import type { Db } from './database.js';
import type { Durability } from './durability.js';

export interface TxContext {
  /** Run `fn` after the outermost transaction commits; dropped if it rolls back. */
  afterCommit(fn: () => void): void;
}

export class Transactor {
  private depth = 0;
  private pending: Array<() => void> = [];

  constructor(
    readonly db: Db,
    readonly log: ChangeLog,
    private readonly durability: Durability,
  ) {}

  /**
   * Resolves once every transaction committed so far is on disk (group commit); `force`:
   * sync even if no commit of this process is pending (what was there at start).
   */
  durable(options: { force?: boolean } = {}): Promise<void> {
    return this.durability.sync(options);
  }

  run<T>(work: (tx: TxContext) => T): T {
    if (this.depth > 0) return this.nested(work);
    this.depth++;
    this.pending = [];
    let result: T;
    try {
      result = this.db.transaction(() => work(this.context))();
    } catch (err) {
      this.pending = [];
      throw err;
    } finally {
      this.depth--;
    }
    const queued = this.pending;
    this.pending = [];
    // Make it durable even if no caller waits (the shippers send only what is on disk).
    this.durability.noteCommit();
    for (const fn of queued) fn();
    return result;
  }

  /**
   * A nested call joins the outer transaction without a savepoint: an error it throws
   * aborts the whole transaction unless caught, and callers that catch one (the
   * applier, on a body not yet arrived) do so before anything was written.
   */
  private nested<T>(work: (tx: TxContext) => T): T {
    const mark = this.pending.length;
    this.depth++;
    try {
      return work(this.context);
    } catch (err) {
      this.pending.length = mark;
      throw err;
    } finally {
      this.depth--;
    }
  }

  private readonly context: TxContext = {
    afterCommit: (fn) => {
      this.pending.push(fn);
    },
  };
}
