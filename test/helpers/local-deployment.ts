/**
 * @module A real local deployment for scenario tests: a throwaway `mraa up`
 * (src/local/throwaway-deployment.ts), optionally with a fault proxy in front of each
 * region for inter-region traffic, its regions killed with SIGKILL and started again
 * with `mraa region` as an operator would.
 */
import type { Config } from '../../src/config/config.js';
import { startThrowawayDeployment, type ThrowawayDeployment } from '../../src/local/throwaway-deployment.js';
import { type Background, type CliResult, mraa, spawnMraa } from './cli.js';
import { FaultProxy } from './fault-proxy.js';
import { waitFor } from './wait.js';

export const ADMIN_PASSWORD = 'scenario-admin-password';

export interface LocalDeployment {
  dir: string;
  config: Config;
  /** `mraa up`: its output so far. */
  up: { output(): string };
  /** Region name → client URL. */
  url: Record<string, string>;
  proxies: Map<string, FaultProxy>;
  /** With `proxies`: the proxy every region reaches the witness through. */
  witnessProxy: FaultProxy | undefined;
  adminToken: string;
  pid(region: string): number;
  kill(region: string): Promise<void>;
  /** `env`: more environment for the restarted process (e.g. the MRAA_CLOCK_OFFSET_MS test hook). */
  restart(region: string, options?: { env?: Record<string, string> }): Promise<void>;
  cli(args: string[]): Promise<CliResult>;
  signIn(username: string, password: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDeployment(
  /** `regions`: how many region processes (2 to 5, as `mraa up --regions N`); 2 unless given. */
  options: { proxies?: boolean; regions?: number; customize?: (c: Config) => Config } = {},
): Promise<LocalDeployment> {
  const proxies = new Map<string, FaultProxy>();
  let witnessProxy: FaultProxy | undefined;
  const env = { MRAA_ADMIN_PASSWORD: ADMIN_PASSWORD };
  let d: ThrowawayDeployment;
  try {
    d = await startThrowawayDeployment({
      label: 'scenario',
      adminPassword: ADMIN_PASSWORD,
      ...(options.regions ? { regions: options.regions } : {}),
      configure: async (config, ports) => {
        if (options.proxies) {
          for (const [i, r] of config.regions.entries()) {
            const proxy = new FaultProxy(ports[i + 1]!);
            await proxy.start();
            proxies.set(r.name, proxy);
          }
          const witness = config.controlPlane.witnesses[0]!;
          const witnessPort = Number(new URL(witness.url).port);
          witnessProxy = new FaultProxy(witnessPort);
          await witnessProxy.start();
          config = {
            ...config,
            regions: config.regions.map((r) => ({ ...r, peerUrl: `http://127.0.0.1:${proxies.get(r.name)!.port}` })),
            controlPlane: {
              ...config.controlPlane,
              witnesses: [
                { ...witness, url: `http://127.0.0.1:${witnessProxy.port}`, listen: `127.0.0.1:${witnessPort}` },
              ],
            },
          };
        }
        return options.customize?.(config) ?? config;
      },
    });
  } catch (err) {
    for (const p of proxies.values()) await p.close();
    await witnessProxy?.close();
    throw err;
  }
  const url = Object.fromEntries(d.config.regions.map((r) => [r.name, r.url]));
  /** Where a region or a witness itself listens (not through a proxy). */
  const addressOf = (name: string) => {
    const w = d.config.controlPlane.witnesses.find((x) => x.name === name);
    return w ? (w.listen ? `http://${w.listen}` : w.url) : url[name];
  };
  const pids = new Map((await d.processes()).map((p) => [p.name, p.pid!]));
  const restarted = new Map<string, Background>();

  return {
    dir: d.dir,
    config: d.config,
    up: { output: d.output },
    url,
    proxies,
    witnessProxy,
    adminToken: d.adminToken,
    pid: (region) => pids.get(region)!,
    async kill(region) {
      process.kill(pids.get(region)!, 'SIGKILL');
      await waitFor(
        `${region} to stop answering`,
        async () => !(await fetch(`${addressOf(region)}/healthz`).catch(() => undefined)),
      );
    },
    async restart(region, options = {}) {
      const witness = d.config.controlPlane.witnesses.some((w) => w.name === region);
      const bg = spawnMraa(d.dir, witness ? ['witness', '--name', region] : ['region', '--region', region], {
        ...env,
        ...options.env,
      });
      restarted.set(region, bg);
      pids.set(region, bg.proc.pid!);
      if (witness) {
        await waitFor(
          `${region} to answer`,
          async () => (await fetch(`${addressOf(region)}/readyz`).catch(() => undefined))?.ok === true,
        );
      } else await d.waitReady(region);
    },
    cli: (args) => mraa(d.dir, args, env),
    signIn: d.signIn,
    async close() {
      for (const bg of restarted.values()) await bg.stop('SIGTERM');
      await d.close();
      for (const p of proxies.values()) await p.close();
      await witnessProxy?.close();
    },
  };
}
