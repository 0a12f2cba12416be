/**
 * @module Writes that lost a last-writer-wins conflict, kept for review (`mraa
 * conflicts`) instead of being dropped without trace.
 */
import type { Db } from '../adapters/sqlite/database.js';

export interface ConflictRecord {
  id: number;
  detectedAt: string;
  kind: 'item' | 'object';
  /** Table or bucket. */
  name: string;
  key: string;
  /** The region whose write lost. */
  origin: string;
  loser: unknown;
  winner: unknown;
}

export class ConflictLog {
  private readonly stmts;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.stmts = {
      insert: db.prepare(
        'INSERT INTO conflicts (detected_at, kind, name, key, origin, loser, winner) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      list: db.prepare(
        'SELECT id, detected_at, kind, name, key, origin, loser, winner FROM conflicts WHERE id > ? ORDER BY id LIMIT ?',
      ),
      count: db.prepare('SELECT COUNT(*) AS n FROM conflicts'),
    };
  }

  record(c: Omit<ConflictRecord, 'id' | 'detectedAt'>): void {
    this.stmts.insert.run(
      this.now().toISOString(),
      c.kind,
      c.name,
      c.key,
      c.origin,
      JSON.stringify(c.loser),
      JSON.stringify(c.winner),
    );
  }

  list(afterId = 0, limit = 100): ConflictRecord[] {
    const rows = this.stmts.list.all(afterId, limit) as Array<Record<string, string | number>>;
    return rows.map((r) => ({
      id: Number(r.id),
      detectedAt: String(r.detected_at),
      kind: r.kind as ConflictRecord['kind'],
      name: String(r.name),
      key: String(r.key),
      origin: String(r.origin),
      loser: JSON.parse(String(r.loser)),
      winner: JSON.parse(String(r.winner)),
    }));
  }

  count(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }
}
