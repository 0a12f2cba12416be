/**
 * @module PostgreSQL 15 streaming replication, set up from nothing by the benchmark: a
 * primary (wal_level=replica, fsync on, synchronous_commit=on: a commit returns after
 * its local flush, replication asynchronous like mraa's) and a hot standby made with
 * `pg_basebackup -R`, whose walreceiver reaches the primary at a port the caller
 * chooses (the primary's own, or a fault proxy's in front of it). Everything lives in
 * one temporary folder owned by `postgres` (mode 0700, unix sockets there too) that is
 * removed when the pair is closed, when the run fails, or on Ctrl-C.
 */

import { rmSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { choosePorts } from '../../src/local/ports.js';
import { sleep } from '../clock.js';
import { connectionConfig, type OsUser, type PgEndpoint, PgServer, postgresUser, runAs } from './server.js';

export interface ReplicationPair {
  dir: string;
  primary: PgServer;
  standby: PgServer;
  /** The port the standby's walreceiver connects to. */
  upstreamPort: number;
  close(): Promise<void>;
}

const HBA = [
  'local all all trust',
  'host all all 127.0.0.1/32 trust',
  'local replication all trust',
  'host replication all 127.0.0.1/32 trust',
  '',
].join('\n');

const COMMON: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  max_connections: '64',
  fsync: 'on',
  synchronous_commit: 'on',
  wal_level: 'replica',
  max_wal_senders: '4',
  wal_keep_size: '512MB',
  log_min_messages: 'warning',
};

/** Pairs running now: stopped and removed on Ctrl-C or exit. */
const live = new Set<{ dir: string; servers: PgServer[]; close(): Promise<void> }>();

/**
 * Starts a primary and its standby. `upstream(primaryPort)` returns the port the
 * standby should reach the primary at (default: the primary's port, plain loopback).
 */
export async function startReplicationPair(
  upstream: (primaryPort: number) => Promise<number> = async (p) => p,
): Promise<ReplicationPair> {
  const user = postgresUser();
  const dir = await mkdtemp(join(tmpdir(), 'mraa-bench-pg-'));
  await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
  const servers: PgServer[] = [];
  let closing: Promise<void> | undefined;
  const entry = {
    dir,
    servers,
    // Once, whoever asks first (the run, or a signal handler while the run is unwinding).
    close: () =>
      (closing ??= (async () => {
        for (const s of [...servers].reverse()) await s.stop();
        await rm(dir, { recursive: true, force: true, maxRetries: 5 });
        live.delete(entry);
        if (live.size === 0) unwatchInterrupts();
      })()),
  };
  live.add(entry);
  watchInterrupts();
  try {
    const [primaryPort, standbyPort] = await choosePorts(2, 0);
    const primary = await startPrimary(user, dir, { socketDir: dir, port: primaryPort! });
    servers.push(primary);
    const upstreamPort = await upstream(primaryPort!);
    const standby = await startStandby(user, dir, { socketDir: dir, port: standbyPort! }, primaryPort!, upstreamPort);
    servers.push(standby);
    await waitStreaming(primary);
    return { dir, primary, standby, upstreamPort, close: entry.close };
  } catch (err) {
    await entry.close();
    throw err;
  }
}

/** Waits until the primary's walsender streams to the standby. */
async function waitStreaming(primary: PgServer, timeoutMs = 30_000): Promise<void> {
  const client = new pg.Client(connectionConfig(primary.endpoint));
  await client.connect();
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
      const r = await client.query<{ state: string }>('SELECT state FROM pg_stat_replication');
      if (r.rows.some((row) => row.state === 'streaming')) return;
    }
    throw new Error(`the standby is not streaming after ${timeoutMs} ms`);
  } finally {
    await client.end();
  }
}

async function startPrimary(user: OsUser, dir: string, at: PgEndpoint): Promise<PgServer> {
  const dataDir = join(dir, 'primary');
  await runAs(user, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--locale=C', '-E', 'UTF8'], dir);
  await writeFile(join(dataDir, 'pg_hba.conf'), HBA);
  return PgServer.start(user, 'primary', dataDir, at, COMMON, join(dir, 'primary.log'));
}

/** A base backup of the primary (taken directly, not through the link), started as a hot standby. */
async function startStandby(
  user: OsUser,
  dir: string,
  at: PgEndpoint,
  primaryPort: number,
  upstreamPort: number,
): Promise<PgServer> {
  const dataDir = join(dir, 'standby');
  await runAs(
    user,
    'pg_basebackup',
    ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '-c', 'fast'],
    dir,
  );
  // On the command line, so it overrides the primary_conninfo that -R wrote into postgresql.auto.conf.
  const conninfo = `host=127.0.0.1 port=${upstreamPort} user=postgres application_name=bench_standby`;
  return PgServer.start(
    user,
    'standby',
    dataDir,
    at,
    { ...COMMON, hot_standby: 'on', primary_conninfo: conninfo },
    join(dir, 'standby.log'),
  );
}

/** On Ctrl-C or a kill: stop the servers and remove their folder, then exit as the signal would. */
async function onSignal(signal: NodeJS.Signals): Promise<void> {
  console.error(`\n${signal}: stopping PostgreSQL and removing its folder`);
  await Promise.allSettled([...live].map((p) => p.close()));
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/** Last resort when the process exits with a pair still running (an uncaught error): no waiting possible. */
function onExit(): void {
  for (const pair of live) {
    for (const s of pair.servers) s.stopNow();
    try {
      rmSync(pair.dir, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      /* a server still writing: the folder is left in the temporary directory */
    }
  }
}

let watching = false;
function watchInterrupts(): void {
  if (watching) return;
  watching = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
}

function unwatchInterrupts(): void {
  if (!watching) return;
  watching = false;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', onExit);
}
