/**
 * @module When replicated object bodies arrived in a region and when their metadata was
 * applied, seen from another process (its folder, and its database read-only).
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Db, Statement } from '../src/adapters/sqlite/driver.js';
import { nowNs, sleep } from './clock.js';
import { openReadOnly } from './comment-visibility.js';

/**
 * Object replication seen from the receiving region: when the first body started to
 * arrive (a file in its blobs/tmp folder) and when the origin's log was applied up
 * to `targetSeq` (every body in place, its metadata committed: no object entry left
 * waiting for its body). Polls every ms.
 */
export class ObjectWatch {
  firstBodyNs: bigint | null = null;
  appliedNs: bigint | null = null;
  private db: Db | undefined;
  private query: Statement | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly dataDir: string,
    private readonly origin: string,
    private readonly targetSeq: number,
    private readonly timeoutMs: number,
  ) {
    this.done = this.loop();
  }

  /**
   * How far the origin's log is applied with every body in place: object entries whose
   * body is still on its way are parked (the position moves past them), so until none
   * is left the answer is 0.
   */
  private appliedSeq(): number {
    try {
      this.db ??= openReadOnly(join(this.dataDir, 'region.db'));
      this.query ??= this.db.prepare(
        `SELECT (SELECT seq FROM applied WHERE origin = ?) AS seq,
                (SELECT COUNT(*) FROM parked_objects WHERE origin = ?) AS parked`,
      );
      const row = this.query.get(this.origin, this.origin) as { seq: number | null; parked: number };
      return row.parked > 0 ? 0 : (row.seq ?? 0);
    } catch {
      // The region is (re)starting: try again on the next poll.
      this.db?.close();
      this.db = undefined;
      this.query = undefined;
      return 0;
    }
  }

  private async loop(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (Date.now() < deadline) {
      if (this.firstBodyNs === null) {
        try {
          if (readdirSync(join(this.dataDir, 'blobs', 'tmp')).length > 0) this.firstBodyNs = nowNs();
        } catch {
          /* the region is starting: its tmp folder is recreated */
        }
      }
      if (this.appliedSeq() >= this.targetSeq) {
        this.appliedNs = nowNs();
        break;
      }
      await sleep(1);
    }
    this.db?.close();
  }
}
