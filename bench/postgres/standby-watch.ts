/**
 * @module When each probe row became visible on the PostgreSQL standby, seen by a client
 * of the standby (hot standby: a row is visible to a new snapshot once its commit record
 * is replayed). Like bench/comment-visibility.ts for mraa's secondary: an inotify event
 * on the standby's pg_wal folder (its walreceiver writes the WAL there, then flushes it,
 * then the startup process replays it) starts a burst of queries sent back to back, no
 * pause, until the row shows and nothing new comes for a while; a slow poll is the
 * safety net.
 */
import { type FSWatcher, watch } from 'node:fs';
import pg from 'pg';
import { nowNs, sleep } from '../clock.js';
import { PROBE_TABLE } from './probe.js';

/** After a WAL write: query until a row shows and then nothing new for QUIET_NS, at most BURST_MAX_NS. */
const QUIET_NS = 300_000n;
const BURST_MAX_NS = 20_000_000n;
const FALLBACK_POLL_MS = 2;
/** A missing id this far behind the newest seen is given up (a failed write), so queries stay short. */
const GIVE_UP_IDS = 2000;

export const standbyMethod = (pollRttUs: number) =>
  "ack = the INSERT's commit returning to the writer process (node-postgres over TCP on loopback, one transaction per row); " +
  'visible = the first query that returns the row, by a separate process on a connection to the hot standby (unix socket), ' +
  "woken by inotify on every write to the standby's pg_wal folder (the walreceiver writes WAL there, flushes it, and " +
  'the startup process replays it), then querying back to back with no pause until the row shows and nothing new comes ' +
  `for 0.3 ms (at most 20 ms), with a 2 ms poll as a safety net; a query's round trip took ${pollRttUs.toFixed(0)} µs on ` +
  'average (the time is taken when its answer arrives); both times on CLOCK_MONOTONIC; lag = visible - ack';

export class StandbyWatch {
  readonly visible = new Map<number, bigint>();
  /** Every id up to here has been seen (or given up). */
  private floor: number;
  private maxSeen: number;
  private busy = false;
  private again = false;
  private stopped = false;
  private readonly watcher: FSWatcher;
  private readonly fallback: NodeJS.Timeout;
  polls = 0;
  /** Queries that found new rows. */
  commits = 0;
  foundBy = { event: 0, fallback: 0 };
  private rttNs = 0n;
  readonly errors: string[] = [];
  private readonly t0 = nowNs();
  private readonly cpu0 = process.cpuUsage();

  private constructor(
    private readonly client: pg.Client,
    walDir: string,
    firstId: number,
  ) {
    this.floor = firstId - 1;
    this.maxSeen = firstId - 1;
    this.watcher = watch(walDir, () => this.wake('event'));
    this.fallback = setInterval(() => this.wake('fallback'), FALLBACK_POLL_MS);
  }

  /** Connects to the standby and watches for ids from `firstId` on (once the probe table has replicated). */
  static async open(conn: pg.ClientConfig, walDir: string, firstId: number): Promise<StandbyWatch> {
    const client = new pg.Client(conn);
    // A server shutting down: the next query fails and is recorded in `errors`.
    client.on('error', () => undefined);
    await client.connect();
    for (const deadline = Date.now() + 30_000; ; await sleep(20)) {
      const r = await client.query('SELECT to_regclass($1) AS t', [PROBE_TABLE]);
      if (r.rows[0].t !== null) break;
      if (Date.now() > deadline) throw new Error(`table ${PROBE_TABLE} did not reach the standby`);
    }
    return new StandbyWatch(client, walDir, firstId);
  }

  private async pollOnce(path: 'event' | 'fallback'): Promise<boolean> {
    const sent = nowNs();
    const r = await this.client.query<[string]>({
      name: 'new-probes',
      text: `SELECT id FROM ${PROBE_TABLE} WHERE id > $1`,
      values: [this.floor],
      rowMode: 'array',
    });
    const at = nowNs();
    this.polls++;
    this.rttNs += at - sent;
    let found = false;
    for (const [text] of r.rows) {
      const id = Number(text);
      if (this.visible.has(id)) continue;
      this.visible.set(id, at);
      this.foundBy[path]++;
      found = true;
      if (id > this.maxSeen) this.maxSeen = id;
    }
    if (found) this.commits++;
    this.floor = Math.max(this.floor, this.maxSeen - GIVE_UP_IDS);
    while (this.visible.has(this.floor + 1)) this.floor++;
    return found;
  }

  private wake(path: 'event' | 'fallback'): void {
    this.burst(path).catch((err: Error) => {
      this.busy = false;
      this.errors.push(err.message);
    });
  }

  /**
   * A WAL write on the standby (`event`): query until a row shows and nothing more comes
   * for a while; an event while a burst runs starts another after it. `fallback`: one query.
   */
  private async burst(path: 'event' | 'fallback'): Promise<void> {
    if (this.stopped) return;
    if (this.busy) {
      if (path === 'event') this.again = true;
      return;
    }
    this.busy = true;
    try {
      const start = nowNs();
      let lastChange = -1n;
      for (;;) {
        const changed = await this.pollOnce(path);
        if (path === 'fallback') break;
        const t = nowNs();
        if (changed) lastChange = t;
        if (lastChange >= 0n && t - lastChange > QUIET_NS) break;
        if (t - start > BURST_MAX_NS) break;
      }
    } finally {
      this.busy = false;
    }
    if (this.again) {
      this.again = false;
      await this.burst('event');
    }
  }

  async stop() {
    this.stopped = true;
    this.watcher.close();
    clearInterval(this.fallback);
    while (this.busy) await sleep(1);
    await this.pollOnce('fallback');
    await this.client.end();
    const wallS = Number(nowNs() - this.t0) / 1e9;
    const cpu = process.cpuUsage(this.cpu0);
    return {
      visible: this.visible,
      polls: this.polls,
      commits: this.commits,
      foundBy: this.foundBy,
      pollRttUs: this.polls ? Number(this.rttNs / BigInt(this.polls)) / 1000 : Number.NaN,
      cpuShare: (cpu.user + cpu.system) / 1e6 / wallS,
      errors: this.errors.slice(0, 5),
    };
  }
}
