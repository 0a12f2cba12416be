/**
 * @module A real local deployment for scenario tests: `mraa up` in a temporary folder
 * (optionally with a fault proxy in front of each region for inter-region traffic),
 * its region processes killed and restarted as an operator would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, writeConfig, type Config } from '../../src/config/config.js';
import { choosePorts } from '../../src/local/ports.js';
import { mraa, spawnMraa, type Background, type CliResult } from './cli.js';
import { FaultProxy } from './fault-proxy.js';
import { waitFor } from './wait.js';

export const ADMIN_PASSWORD = 'scenario-admin-password';

export interface LocalDeployment {
  dir: string;
  config: Config;
  up: Background;
  /** Region name → client URL. */
  url: Record<string, string>;
  proxies: Map<string, FaultProxy>;
  adminToken: string;
  pid(region: string): number;
  kill(region: string): Promise<void>;
  restart(region: string): Promise<void>;
  cli(args: string[]): Promise<CliResult>;
  signIn(username: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDeployment(options: { proxies?: boolean; customize?: (c: Config) => Config } = {}): Promise<LocalDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'mraa-scenario-'));
  const ports = await choosePorts(3, 0);
  let config = defaultConfig({ edge: ports[0]!, regions: ports.slice(1) });
  const proxies = new Map<string, FaultProxy>();
  if (options.proxies) {
    for (const [i, r] of config.regions.entries()) {
      const proxy = new FaultProxy(ports[i + 1]!);
      await proxy.start();
      proxies.set(r.name, proxy);
    }
    config = { ...config, regions: config.regions.map((r) => ({ ...r, peerUrl: `http://127.0.0.1:${proxies.get(r.name)!.port}` })) };
  }
  config = options.customize?.(config) ?? config;
  writeConfig(join(dir, 'mraa.config.json'), config);
  const env = { MRAA_ADMIN_PASSWORD: ADMIN_PASSWORD };
  const up = spawnMraa(dir, ['up'], env);
  await up.waitForOutput(/Ctrl-C stops every process/);
  const url = Object.fromEntries(config.regions.map((r) => [r.name, r.url]));
  const pids = new Map<string, number>();
  for (const r of config.regions) pids.set(r.name, Number(up.output().match(new RegExp(`${r.name}\\s+\\w+\\s+\\S+\\s+(\\d+)`))![1]));
  const restarted = new Map<string, Background>();

  const signIn = async (username: string, password: string) => {
    const primary = config.regions.find((r) => r.role === 'primary')!;
    const res = await fetch(`${primary.url}/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };

  const deployment: LocalDeployment = {
    dir,
    config,
    up,
    url,
    proxies,
    adminToken: await signIn('admin', ADMIN_PASSWORD),
    pid: (region) => pids.get(region)!,
    async kill(region) {
      const pid = pids.get(region)!;
      process.kill(pid, 'SIGKILL');
      await waitFor(`${region} to stop answering`, async () => !(await fetch(`${url[region]}/healthz`).catch(() => undefined)));
    },
    async restart(region) {
      const bg = spawnMraa(dir, ['region', '--region', region], env);
      restarted.set(region, bg);
      pids.set(region, bg.proc.pid!);
      await waitFor(`${region} to be ready again`, async () => (await fetch(`${url[region]}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 30_000 });
    },
    cli: (args) => mraa(dir, args, env),
    signIn,
    async close() {
      for (const bg of restarted.values()) await bg.stop('SIGTERM');
      await up.stop('SIGINT');
      for (const p of proxies.values()) await p.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return deployment;
}
