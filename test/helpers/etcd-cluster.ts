/**
 * @module A throwaway etcd cluster for the tests: N members on loopback (free ports,
 * never 2379/2380, so a system etcd does not collide), static bootstrap with
 * `--initial-cluster`, data in a temporary folder, members killed and restarted on
 * demand, everything removed on close. Needs the `etcd` binary (Debian:
 * `apt-get install etcd-server`; CI installs it in .ci/run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { waitFor } from './wait.js';

/** The etcd binary on the PATH (or Debian's /usr/bin/etcd), if installed. */
/**
 * Whether the etcd tests can run here. Outside CI a missing binary skips them (with a
 * message naming the package); in CI (.ci/run installs it) it fails them instead, so a
 * broken install can never pass as a skip.
 */
export function etcdAvailable(): boolean {
  if (findEtcd()) return true;
  if (process.env.CI)
    throw new Error('etcd is not installed, and CI must run the etcd tests (apt-get install etcd-server)');
  return false;
}

export function findEtcd(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, 'etcd');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface EtcdCluster {
  /** Client URLs, one per member. */
  endpoints: string[];
  /** SIGKILLs member i (its data stays). */
  kill(i: number): Promise<void>;
  /** Starts member i again on its data. */
  restart(i: number): Promise<void>;
  close(): Promise<void>;
}

export interface EtcdClusterOptions {
  members?: number;
  /** Raft heartbeat; etcd's minimum lease TTL is ceil(1.5 × election timeout) seconds. */
  heartbeatMs?: number;
  electionMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const binary = findEtcd();
  if (!binary) throw new Error('etcd is not installed (apt-get install etcd-server)');
  const n = options.members ?? 3;
  const root = await mkdtemp(join(tmpdir(), 'mraa-etcd-'));
  const ports = await freePorts(2 * n);
  const members = Array.from({ length: n }, (_, i) => ({
    name: `m${i}`,
    client: `http://127.0.0.1:${ports[2 * i]}`,
    peer: `http://127.0.0.1:${ports[2 * i + 1]}`,
    dir: join(root, `m${i}`),
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const token = `mraa-test-${randomUUID()}`;
  const children: Array<ChildProcess | undefined> = [];
  const logs: string[] = members.map(() => '');

  const start = (i: number) => {
    const m = members[i]!;
    const child = spawn(
      binary,
      [
        `--name=${m.name}`,
        `--data-dir=${m.dir}`,
        `--listen-client-urls=${m.client}`,
        `--advertise-client-urls=${m.client}`,
        `--listen-peer-urls=${m.peer}`,
        `--initial-advertise-peer-urls=${m.peer}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${token}`,
        `--heartbeat-interval=${options.heartbeatMs ?? 50}`,
        `--election-timeout=${options.electionMs ?? 500}`,
        '--logger=zap',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (d: Buffer) => {
      logs[i] = (logs[i]! + d.toString()).slice(-4000);
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    children[i] = child;
  };

  const stop = async (i: number) => {
    const child = children[i];
    children[i] = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };

  const healthy = (i: number) =>
    waitFor(
      `etcd member ${members[i]!.name} to be healthy`,
      async () => {
        const child = children[i];
        if (!child || child.exitCode !== null) {
          throw new Error(`etcd member ${members[i]!.name} exited: ${logs[i]}`);
        }
        const res = await fetch(`${members[i]!.client}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { health?: string };
        return body.health === 'true';
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );

  const cluster: EtcdCluster = {
    endpoints: members.map((m) => m.client),
    kill: stop,
    restart: async (i) => {
      await stop(i);
      start(i);
    },
    close: async () => {
      await Promise.all(members.map((_, i) => stop(i)));
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < n; i++) start(i);
    await Promise.all(members.map((_, i) => healthy(i)));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** Ports the kernel hands out for port 0 (ephemeral range, never 2379/2380). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
