/**
 * @module A local deployment to measure: `mraa up` in a temporary folder on free
 * loopback ports (as test/helpers/local-deployment.ts does), with the bench's settings
 * in its configuration and environment; region processes stopped and started through
 * the edge's local controls, as an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, writeConfig, type Config } from '../src/config/config.js';
import { choosePorts } from '../src/local/ports.js';
import { CLI_ENTRY } from '../src/paths.js';
import { sleep } from './clock.js';

const ADMIN_PASSWORD = 'bench-admin-password-0123456789';
const START_TIMEOUT_MS = 60_000;

export interface BenchDeployment {
  label: string;
  dir: string;
  config: Config;
  primary: { name: string; url: string };
  secondary: { name: string; url: string };
  edgeUrl: string;
  adminToken: string;
  /** The `mraa up` process (the edge and the supervisor). */
  upPid: number;
  pid(region: string): Promise<number>;
  dataDir(region: string): string;
  /** SIGKILL a region's process (an outage), through the edge. */
  stopRegion(region: string): Promise<void>;
  /** Start it again under `mraa up`; resolves once it is ready. */
  startRegion(region: string): Promise<void>;
  /** Stops every process; removes the folder unless `keepFiles`. */
  close(keepFiles?: boolean): Promise<void>;
}

export interface DeploymentOptions {
  label: string;
  /** Environment of `mraa up`, passed down to its region processes (e.g. MRAA_REPLICATION=off). */
  env?: Record<string, string>;
  maxUploadBytes: number;
}

export async function startDeployment(opts: DeploymentOptions): Promise<BenchDeployment> {
  const dir = await mkdtemp(join(tmpdir(), `mraa-bench-${opts.label}-`));
  const ports = await choosePorts(3, 0);
  const base = defaultConfig({ edge: ports[0]!, regions: ports.slice(1) });
  const config: Config = { ...base, settings: { ...base.settings, maxUploadBytes: opts.maxUploadBytes } };
  writeConfig(join(dir, 'mraa.config.json'), config);

  const up = spawn(process.execPath, [CLI_ENTRY, 'up'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', MRAA_ADMIN_PASSWORD: ADMIN_PASSWORD, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  up.stdout!.on('data', (d) => (output += d));
  up.stderr!.on('data', (d) => (output += d));
  await waitForOutput(up, () => output, /Ctrl-C stops every process/);

  const primary = config.regions.find((r) => r.role === 'primary')!;
  const secondary = config.regions.find((r) => r.role !== 'primary')!;
  const adminToken = await signIn(primary.url);
  const edgeUrl = config.edge.url;
  const local = async (path: string, method = 'GET') => {
    const res = await fetch(`${edgeUrl}/local/regions${path}`, { method, headers: { authorization: `Bearer ${adminToken}` } });
    if (!res.ok) throw new Error(`${method} /local/regions${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { regions: Array<{ name: string; pid: number | null; running: boolean }> };
  };
  const urlOf = (region: string) => config.regions.find((r) => r.name === region)!.url;

  return {
    label: opts.label,
    dir,
    config,
    primary: { name: primary.name, url: primary.url },
    secondary: { name: secondary.name, url: secondary.url },
    edgeUrl,
    adminToken,
    upPid: up.pid!,
    async pid(region) {
      const pid = (await local('')).regions.find((r) => r.name === region)?.pid;
      if (!pid) throw new Error(`region ${region} of ${opts.label} is not running`);
      return pid;
    },
    dataDir: (region) => join(dir, config.dataDir, region),
    async stopRegion(region) {
      await local(`/${region}/stop`, 'POST');
    },
    async startRegion(region) {
      await local(`/${region}/start`, 'POST');
      await waitReady(urlOf(region));
    },
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

async function waitForOutput(proc: ChildProcess, output: () => string, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!pattern.test(output())) {
    if (proc.exitCode !== null) throw new Error(`mraa up exited (${proc.exitCode}):\n${output()}`);
    if (Date.now() > deadline) throw new Error(`mraa up did not start in ${START_TIMEOUT_MS} ms:\n${output()}`);
    await sleep(50);
  }
}

export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    if (res?.ok) return;
    if (Date.now() > deadline) throw new Error(`${url} was not ready within ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function signIn(url: string): Promise<string> {
  const res = await fetch(`${url}/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (!res.ok) throw new Error(`sign-in failed: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}
