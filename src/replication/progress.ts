/**
 * @module Replication progress in the region database: per origin, what this region
 * has applied (and the last barrier seen); per peer, what the peer acknowledged.
 */
import type { Db } from '../adapters/sqlite/database.js';

export interface AppliedRow {
  origin: string;
  seq: number;
  barrierEpoch: number;
  barrierSeq: number;
  /** The origin's log head as it last reported it. */
  originHead: number;
  updatedAt: number;
}

export class ReplicationProgress {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      applied: db.prepare(
        'SELECT origin, seq, barrier_epoch, barrier_seq, origin_head, updated_at FROM applied WHERE origin = ?',
      ),
      allApplied: db.prepare(
        'SELECT origin, seq, barrier_epoch, barrier_seq, origin_head, updated_at FROM applied ORDER BY origin',
      ),
      setApplied: db.prepare(
        `INSERT INTO applied (origin, seq, origin_head, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq, origin_head = MAX(applied.origin_head, excluded.origin_head), updated_at = excluded.updated_at`,
      ),
      setHead: db.prepare(
        `INSERT INTO applied (origin, seq, origin_head, updated_at) VALUES (?, 0, ?, ?)
         ON CONFLICT (origin) DO UPDATE SET origin_head = MAX(applied.origin_head, excluded.origin_head)`,
      ),
      // An upsert: a barrier may come in the very first batch from an origin, before its row exists.
      setBarrier: db.prepare(
        `INSERT INTO applied (origin, seq, barrier_epoch, barrier_seq, updated_at) VALUES (?, 0, ?, ?, 0)
         ON CONFLICT (origin) DO UPDATE SET barrier_epoch = MAX(applied.barrier_epoch, excluded.barrier_epoch), barrier_seq = excluded.barrier_seq`,
      ),
      ack: db.prepare(
        `INSERT INTO peer_acks (peer, seq, acked_at) VALUES (?, ?, ?)
         ON CONFLICT (peer) DO UPDATE SET seq = MAX(peer_acks.seq, excluded.seq), acked_at = excluded.acked_at`,
      ),
      acks: db.prepare('SELECT peer, seq, acked_at FROM peer_acks'),
    };
  }

  applied(origin: string): AppliedRow {
    const r = this.stmts.applied.get(origin) as Record<string, number | string> | undefined;
    return r ? toApplied(r) : { origin, seq: 0, barrierEpoch: 0, barrierSeq: 0, originHead: 0, updatedAt: 0 };
  }

  allApplied(): AppliedRow[] {
    return (this.stmts.allApplied.all() as Array<Record<string, number | string>>).map(toApplied);
  }

  /** Record the highest sequence applied from `origin`; call inside the applying transaction. */
  setApplied(origin: string, seq: number, originHead: number, now = Date.now()): void {
    this.stmts.setApplied.run(origin, seq, originHead, now);
  }

  noteOriginHead(origin: string, originHead: number, now = Date.now()): void {
    this.stmts.setHead.run(origin, originHead, now);
  }

  recordBarrier(origin: string, epoch: number, seq: number): void {
    this.stmts.setBarrier.run(origin, epoch, seq);
  }

  recordAck(peer: string, seq: number, now = Date.now()): void {
    this.stmts.ack.run(peer, seq, now);
  }

  acks(): Map<string, { seq: number; ackedAt: number }> {
    const out = new Map<string, { seq: number; ackedAt: number }>();
    for (const r of this.stmts.acks.all() as Array<{ peer: string; seq: number; acked_at: number }>)
      out.set(r.peer, { seq: r.seq, ackedAt: r.acked_at });
    return out;
  }
}

function toApplied(r: Record<string, number | string>): AppliedRow {
  return {
    origin: String(r.origin),
    seq: Number(r.seq),
    barrierEpoch: Number(r.barrier_epoch),
    barrierSeq: Number(r.barrier_seq),
    originHead: Number(r.origin_head),
    updatedAt: Number(r.updated_at),
  };
}
