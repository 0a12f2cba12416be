/**
 * @module One PostgreSQL 15 server run by the benchmark (Debian's postgresql-15): its
 * binaries run as the `postgres` user (PostgreSQL refuses root), a `postgres` process
 * spawned directly (no pg_ctl) with every setting on its command line, stderr to a log
 * file, ready once a client can connect; stopped with a fast shutdown.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { sleep } from '../clock.js';
import { cpuSeconds } from '../proc-stats.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface OsUser {
  uid: number;
  gid: number;
}

/** Why PostgreSQL cannot run here (binaries or user missing), or null when it can. */
export function postgresMissing(): string | null {
  for (const bin of ['initdb', 'postgres', 'pg_basebackup']) {
    try {
      accessSync(`${PG_BIN}/${bin}`, constants.X_OK);
    } catch {
      return `${PG_BIN}/${bin} not found (Debian package postgresql-15 not installed)`;
    }
  }
  try {
    postgresUser();
  } catch {
    return 'no "postgres" user on this machine';
  }
  if (process.getuid?.() !== 0) return 'the benchmark must run as root to start PostgreSQL as the postgres user';
  return null;
}

export function postgresUser(): OsUser {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Runs a PostgreSQL binary as `user` in `cwd`; rejects with its output when it fails. */
export function runAs(user: OsUser, bin: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      `${PG_BIN}/${bin}`,
      args,
      { uid: user.uid, gid: user.gid, cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${bin} failed: ${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

/** Where a client reaches a server: its unix socket folder (host) and port. */
export interface PgEndpoint {
  socketDir: string;
  port: number;
}

export function connectionConfig(at: PgEndpoint, database = 'postgres'): pg.ClientConfig {
  return { host: at.socketDir, port: at.port, user: 'postgres', database };
}

export class PgServer {
  private constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly endpoint: PgEndpoint,
    private readonly proc: ChildProcess,
    private readonly logFile: string,
  ) {}

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts `postgres -D dataDir` with `settings` (each a `-c name=value`) and waits until it accepts connections. */
  static async start(
    user: OsUser,
    name: string,
    dataDir: string,
    endpoint: PgEndpoint,
    settings: Record<string, string>,
    logFile: string,
  ): Promise<PgServer> {
    const args = ['-D', dataDir, '-p', String(endpoint.port), '-k', endpoint.socketDir];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const log = openSync(logFile, 'a');
    const proc = spawn(`${PG_BIN}/postgres`, args, {
      uid: user.uid,
      gid: user.gid,
      cwd: endpoint.socketDir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const server = new PgServer(name, dataDir, endpoint, proc, logFile);
    try {
      await server.waitReady(60_000);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`PostgreSQL ${this.name} exited at start:\n${this.logTail()}`);
      const client = new pg.Client(connectionConfig(this.endpoint));
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(
            `PostgreSQL ${this.name} not ready in ${timeoutMs} ms: ${(err as Error).message}\n${this.logTail()}`,
          );
      } finally {
        await client.end().catch(() => undefined);
      }
      await sleep(50);
    }
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Fast shutdown (SIGINT), then immediate (SIGQUIT) and SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGINT');
    const quit = setTimeout(() => this.proc.kill('SIGQUIT'), 10_000);
    const kill = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(quit);
    clearTimeout(kill);
  }

  /** CPU seconds used so far by the server: the postmaster and its children (backends, walsender or walreceiver, ...). */
  cpuSeconds(): number {
    let total = cpuSeconds(this.pid);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === this.pid) total += cpuSeconds(Number(entry)) || 0;
      } catch {
        /* gone meanwhile */
      }
    }
    return total;
  }

  /** For a process exit handler: immediate shutdown, without waiting. */
  stopNow(): void {
    if (this.running) this.proc.kill('SIGQUIT');
  }
}
