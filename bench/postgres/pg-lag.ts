/**
 * @module PostgreSQL 15 streaming replication lag, measured as mraa's is
 * (bench/lag-phase.ts): an open loop of single-row inserts at a fixed rate in one
 * helper process (pg-writer.ts), the standby watched from another (pg-observer.ts),
 * lag = visible on the standby - commit acknowledged to the client, both on
 * CLOCK_MONOTONIC. A `PostgresBench` holds a running pair and its two helpers for as
 * many measurements as a run makes.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LagFigures, lagFigures } from '../lag-phase.js';
import { CpuMeter } from '../proc-stats.js';
import { type Helper, startHelper } from '../rpc.js';
import type { PgOpenLoopResult } from './probe.js';
import { type ReplicationPair, startReplicationPair } from './replication-pair.js';
import { standbyMethod } from './standby-watch.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface PgLagSamples {
  rate: number;
  durationMs: number;
  warmupMs: number;
}

export interface PgLagResult extends LagFigures {
  /** How the standby reached the primary: "loopback", or the proxy's one-way delay. */
  link: string;
  observer: {
    polls: number;
    commits: number;
    foundBy: { event: number; fallback: number };
    pollRttUs: number;
    cpuShare: number;
    errors: string[];
  };
  /** Cores used while the load ran: each server (postmaster and children), the two helpers, the machine. */
  cpu: Record<string, number>;
  method: string;
  /** All lag samples, for charts (not written to JSON). */
  values: number[];
}

type Seen = PgLagResult['observer'] & { visible: Map<number, bigint> };

export class PostgresBench {
  private nextId = 1;

  private constructor(
    readonly pair: ReplicationPair,
    private readonly writer: Helper,
    private readonly observer: Helper,
  ) {}

  /** Starts a primary and standby (`upstream`: where the standby reaches the primary) and the two helpers. */
  static async start(upstream?: (primaryPort: number) => Promise<number>): Promise<PostgresBench> {
    const pair = await startReplicationPair(upstream);
    const writer = startHelper(join(here, 'pg-writer.js'));
    const observer = startHelper(join(here, 'pg-observer.js'));
    const bench = new PostgresBench(pair, writer, observer);
    try {
      await writer.call('connect', { host: '127.0.0.1', port: pair.primary.endpoint.port });
    } catch (err) {
      await bench.close();
      throw err;
    }
    return bench;
  }

  get pids(): Record<string, number> {
    return { pgWriter: this.writer.pid, pgObserver: this.observer.pid };
  }

  async measure(s: PgLagSamples, link: string): Promise<PgLagResult> {
    const { primary, standby } = this.pair;
    const firstId = this.nextId;
    this.nextId += Math.round((s.rate * (s.durationMs + s.warmupMs)) / 1000) + 1;
    await this.observer.call('watch', {
      host: standby.endpoint.socketDir,
      port: standby.endpoint.port,
      walDir: join(standby.dataDir, 'pg_wal'),
      firstId,
    });
    const cpu = new CpuMeter(this.pids);
    const server0 = { pgPrimary: primary.cpuSeconds(), pgStandby: standby.cpuSeconds() };
    const t0 = process.hrtime.bigint();
    const run = await this.writer.call<PgOpenLoopResult>('openLoop', { ...s, firstId, tag: 'bench-pg-lag' });
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const servers = {
      pgPrimary: Math.round(((primary.cpuSeconds() - server0.pgPrimary) / wallS) * 100) / 100,
      pgStandby: Math.round(((standby.cpuSeconds() - server0.pgStandby) / wallS) * 100) / 100,
    };
    const shares = cpu.stop();
    const counted = run.acked.filter((a) => !a.warmup);
    await this.observer.call('awaitIds', { ids: counted.map((a) => a.id), timeoutMs: 30_000 });
    const seen = await this.observer.call<Seen>('stop');
    const values: number[] = [];
    let neverVisible = 0;
    for (const a of counted) {
      const at = seen.visible.get(a.id);
      if (at === undefined) neverVisible++;
      else values.push(Number(at - a.ackNs) / 1e6);
    }
    const { visible: _visible, ...observer } = seen;
    return {
      link,
      ...lagFigures(counted, values, neverVisible, s.rate, run.errors),
      observer,
      cpu: withServers(shares, servers),
      method: standbyMethod(seen.pollRttUs),
      values,
    };
  }

  /** Stops the helpers (their connections close as they exit) and the pair. */
  async close(): Promise<void> {
    await this.writer.close();
    await this.observer.close();
    await this.pair.close();
  }
}

/** CpuMeter's shares with the servers' added: "others" is what is left of the machine's. */
function withServers(shares: Record<string, number>, servers: Record<string, number>): Record<string, number> {
  const all = { ...servers, ...shares };
  const ours = Object.entries(all)
    .filter(([k]) => !['machine', 'others', 'steal'].includes(k))
    .reduce((n, [, v]) => n + v, 0);
  return { ...all, others: Math.max(0, Math.round(((shares.machine ?? 0) - ours) * 100) / 100) };
}
