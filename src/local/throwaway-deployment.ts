/**
 * @module A throwaway local deployment, for tests and benchmarks: `mraa up` in a new
 * temporary folder on free loopback ports, signed in as admin, its region processes
 * stopped and started through the edge's local controls (as the operations console
 * does), removed when closed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, defaultConfig, writeConfig } from '../config/config.js';
import { CLI_ENTRY } from '../paths.js';
import { choosePorts } from './ports.js';

export interface ThrowawayOptions {
  /** Part of the folder's name. */
  label: string;
  adminPassword: string;
  /** How many regions (2 to 5, as `mraa up --regions N`); 2 unless given. */
  regions?: number;
  /** Change the default configuration before it is written (given the ports chosen: edge, then regions, then the witness). */
  configure?: (config: Config, ports: number[]) => Config | Promise<Config>;
  /** Environment of `mraa up`, passed down to its region processes. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface RegionProcessView {
  name: string;
  pid: number | null;
  running: boolean;
}

export interface ThrowawayDeployment {
  dir: string;
  config: Config;
  /** The `mraa up` process: the supervisor and the edge. */
  up: ChildProcess;
  /** Everything `mraa up` printed so far. */
  output(): string;
  adminToken: string;
  url(region: string): string;
  signIn(username: string, password: string): Promise<string>;
  processes(): Promise<RegionProcessView[]>;
  /** SIGKILL a region's process through the edge, as the console's Stop button does. */
  stopRegion(region: string): Promise<void>;
  /** Start it again under `mraa up`; resolves once it is ready. */
  startRegion(region: string): Promise<void>;
  waitReady(region: string, timeoutMs?: number): Promise<void>;
  /** Stops `mraa up` (and so every process it started); removes the folder unless `keepFiles`. */
  close(keepFiles?: boolean): Promise<void>;
}

export async function startThrowawayDeployment(opts: ThrowawayOptions): Promise<ThrowawayDeployment> {
  const dir = await mkdtemp(join(tmpdir(), `mraa-${opts.label}-`));
  const n = opts.regions ?? 2;
  const ports = await choosePorts(n + 2, 0);
  const base = defaultConfig({ edge: ports[0]!, regions: ports.slice(1, n + 1), witness: ports[n + 1]! });
  const config = opts.configure ? await opts.configure(base, ports) : base;
  writeConfig(join(dir, 'mraa.config.json'), config);

  const up = spawn(process.execPath, [CLI_ENTRY, 'up'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', MRAA_ADMIN_PASSWORD: opts.adminPassword, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  up.stdout!.on('data', (d) => (output += d));
  up.stderr!.on('data', (d) => (output += d));
  await until(
    `mraa up to start in ${dir}`,
    () => {
      if (up.exitCode !== null) throw new Error(`mraa up exited (${up.exitCode}):\n${output}`);
      return /Ctrl-C stops every process/.test(output);
    },
    opts.startTimeoutMs ?? 60_000,
  ).catch(async (err: Error) => {
    // What mraa up said, and the end of each process's log: why it did not start.
    const logs = await readdir(join(dir, 'data', 'logs')).catch(() => [] as string[]);
    const tails = await Promise.all(
      logs.map(
        async (f) => `--- ${f}\n${(await readFile(join(dir, 'data', 'logs', f), 'utf8').catch(() => '')).slice(-3000)}`,
      ),
    );
    up.kill('SIGKILL');
    throw new Error(`${err.message}\n--- mraa up\n${output.slice(-3000)}\n${tails.join('\n')}`);
  });

  const url = (region: string) => {
    const r = config.regions.find((x) => x.name === region);
    if (!r) throw new Error(`no region ${region}`);
    return r.url;
  };
  const primary = config.regions.find((r) => r.role === 'primary')!;
  const signIn = async (username: string, password: string) => {
    const res = await fetch(`${primary.url}/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`sign-in as ${username} failed: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  // The writer creates `admin` once it holds its lease, which can follow readiness by a
  // moment. A few tries a second apart: every failed sign-in counts against its rate limit.
  let adminToken = '';
  for (let attempt = 1; !adminToken; attempt++) {
    try {
      adminToken = await signIn('admin', opts.adminPassword);
    } catch (err) {
      if (attempt < 5) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      // Never leave `mraa up` and its processes behind when the caller cannot use them.
      up.kill('SIGINT');
      await new Promise<void>((resolve) => (up.exitCode !== null ? resolve() : up.once('exit', () => resolve())));
      throw new Error(`${(err as Error).message}\n--- mraa up said ---\n${output}`);
    }
  }
  const local = async (path: string, method = 'GET') => {
    const res = await fetch(`${config.edge.url}/local/regions${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    if (!res.ok) throw new Error(`${method} /local/regions${path}: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { regions: RegionProcessView[] }).regions;
  };
  const waitReady = (region: string, timeoutMs = 30_000) =>
    until(
      `${region} to be ready`,
      async () =>
        (await fetch(`${url(region)}/readyz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined))?.ok ===
        true,
      timeoutMs,
    );

  return {
    dir,
    config,
    up,
    output: () => output,
    adminToken,
    url,
    signIn,
    processes: () => local(''),
    async stopRegion(region) {
      await local(`/${region}/stop`, 'POST');
    },
    async startRegion(region) {
      await local(`/${region}/start`, 'POST');
      await waitReady(region);
    },
    waitReady,
    async close(keepFiles = false) {
      if (up.exitCode === null && up.signalCode === null) {
        const exited = new Promise<void>((resolve) => up.once('exit', () => resolve()));
        up.kill('SIGINT');
        const timer = setTimeout(() => up.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepFiles) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
