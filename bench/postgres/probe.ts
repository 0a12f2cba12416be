/**
 * @module What the PostgreSQL writer and observer agree on: the probe table (one row a
 * write, ids given by the writer in schedule order) and the shape of a write's times.
 */
export const PROBE_TABLE = 'lag_probe';
export const PROBE_DDL = `CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (id bigint PRIMARY KEY, message text NOT NULL)`;

/** One acknowledged INSERT: when it was due by the schedule, sent, and its commit returned (CLOCK_MONOTONIC ns). */
export interface PgAck {
  id: number;
  dueNs: bigint;
  sentNs: bigint;
  ackNs: bigint;
  warmup: boolean;
}

export interface PgOpenLoopResult {
  acked: PgAck[];
  attempted: number;
  errors: Record<string, number>;
  startNs: bigint;
  endNs: bigint;
}
