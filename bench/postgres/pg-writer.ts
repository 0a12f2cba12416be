/**
 * @module The PostgreSQL load generator, a helper process of its own (forked by the
 * orchestrator, like bench/load-generator.ts): an open loop of single-row INSERTs at a
 * fixed rate into the primary, each in its own transaction (autocommit), over TCP on
 * loopback from a pool of connections opened beforehand. A write is acknowledged when
 * its commit returns to the client (synchronous_commit=on: flushed on the primary).
 */
import pg from 'pg';
import { nowNs, sleep } from '../clock.js';
import { serve } from '../rpc.js';
import { type PgAck, type PgOpenLoopResult, PROBE_DDL, PROBE_TABLE } from './probe.js';

/** Connections in the pool: far more than the writes in flight at 500/s with millisecond commits. */
const POOL_SIZE = 16;

let pool: pg.Pool | undefined;

async function connect(args: { host: string; port: number }): Promise<void> {
  pool = new pg.Pool({ host: args.host, port: args.port, user: 'postgres', database: 'postgres', max: POOL_SIZE });
  // An idle connection cut by a server shutting down: the pool replaces it; a write on it fails and is counted.
  pool.on('error', () => undefined);
  await pool.query(PROBE_DDL);
  // Open every connection now, not during the measurement.
  const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool!.connect()));
  for (const c of clients) c.release();
}

/** `rate` inserts a second for `warmupMs + durationMs`, ids from `firstId` on, whatever the commit latency. */
async function openLoop(opts: {
  rate: number;
  durationMs: number;
  warmupMs: number;
  firstId: number;
  tag: string;
}): Promise<PgOpenLoopResult> {
  const p = pool!;
  const periodNs = BigInt(Math.round(1e9 / opts.rate));
  const total = Math.round((opts.rate * (opts.durationMs + opts.warmupMs)) / 1000);
  const warmupCount = Math.round((opts.rate * opts.warmupMs) / 1000);
  const acked: PgAck[] = [];
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const startNs = nowNs();
  const write = async (i: number, dueNs: bigint) => {
    const id = opts.firstId + i;
    const sentNs = nowNs();
    try {
      await p.query({
        name: 'insert-probe',
        text: `INSERT INTO ${PROBE_TABLE} (id, message) VALUES ($1, $2)`,
        values: [id, `${opts.tag}-${i}`],
      });
      acked.push({ id, dueNs, sentNs, ackNs: nowNs(), warmup: i < warmupCount });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'network';
      errors[code] = (errors[code] ?? 0) + 1;
    }
  };
  for (let i = 0; i < total; i++) {
    const dueNs = startNs + BigInt(i) * periodNs;
    const waitMs = Number(dueNs - nowNs()) / 1e6;
    if (waitMs >= 1) await sleep(Math.floor(waitMs));
    const w = write(i, dueNs).finally(() => inFlight.delete(w));
    inFlight.add(w);
  }
  await Promise.all(inFlight);
  return { acked, attempted: total, errors, startNs, endNs: nowNs() };
}

serve({ connect, openLoop });
