/**
 * @module A local deployment to measure: a throwaway `mraa up` (src/local/throwaway-deployment.ts)
 * with the bench's settings in its configuration and environment; optionally with a
 * fault proxy (test/helpers/fault-proxy.ts) in front of each region's peer URL and of
 * the witness, so a region can be cut from every other voter while clients still
 * reach it (as test/helpers/local-deployment.ts does for the scenario tests), or so
 * that the regions' links can be made long (a delay each way, a bandwidth cap).
 */
import { join } from 'node:path';
import type { Config } from '../src/config/config.js';
import { startThrowawayDeployment } from '../src/local/throwaway-deployment.js';
import { FaultProxy, type LinkOptions } from '../test/helpers/fault-proxy.js';

const ADMIN_PASSWORD = 'bench-admin-password-0123456789';

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
  /** With `proxies`: cuts `region` from every other voter, both ways (clients still reach it). */
  isolate(region: string): void;
  /** With `proxies`: lets every inter-region and witness connection through again. */
  heal(): void;
  /** With `proxies`: each region's proxy (the one its peers reach it through), by region name; empty without. */
  regionProxies: ReadonlyMap<string, FaultProxy>;
  /** With `proxies`: the same link (delay, bandwidth cap) on every region's proxy; the witness's is left as it is. */
  setRegionLinks(link: LinkOptions): void;
  /** Stops every process; removes the folder unless `keepFiles`. */
  close(keepFiles?: boolean): Promise<void>;
}

export interface DeploymentOptions {
  label: string;
  /** Environment of `mraa up`, passed down to its region processes (e.g. MRAA_REPLICATION=off). */
  env?: Record<string, string>;
  maxUploadBytes: number;
  /** Put a fault proxy in front of each region's peer URL and of the witness (for `isolate`). */
  proxies?: boolean;
}

export async function startDeployment(opts: DeploymentOptions): Promise<BenchDeployment> {
  /** Voter name → the proxy every other voter reaches it through. */
  const proxies = new Map<string, FaultProxy>();
  const closeProxies = async () => {
    for (const p of proxies.values()) await p.close();
  };
  let d: Awaited<ReturnType<typeof startThrowawayDeployment>>;
  try {
    d = await startThrowawayDeployment({
      label: `bench-${opts.label}`,
      adminPassword: ADMIN_PASSWORD,
      ...(opts.env ? { env: opts.env } : {}),
      configure: async (c, ports) => {
        const config = { ...c, settings: { ...c.settings, maxUploadBytes: opts.maxUploadBytes } };
        return opts.proxies ? await behindProxies(config, ports, proxies) : config;
      },
    });
  } catch (err) {
    await closeProxies();
    throw err;
  }
  const regionProxies = new Map(
    d.config.regions.flatMap((r) => (proxies.has(r.name) ? [[r.name, proxies.get(r.name)!] as const] : [])),
  );
  const primary = d.config.regions.find((r) => r.role === 'primary')!;
  const secondary = d.config.regions.find((r) => r.role !== 'primary')!;
  return {
    label: opts.label,
    dir: d.dir,
    config: d.config,
    primary: { name: primary.name, url: primary.url },
    secondary: { name: secondary.name, url: secondary.url },
    edgeUrl: d.config.edge.url,
    adminToken: d.adminToken,
    upPid: d.up.pid!,
    async pid(region) {
      const pid = (await d.processes()).find((r) => r.name === region)?.pid;
      if (!pid) throw new Error(`region ${region} of ${opts.label} is not running`);
      return pid;
    },
    dataDir: (region) => join(d.dir, d.config.dataDir, region),
    stopRegion: d.stopRegion,
    startRegion: d.startRegion,
    isolate(region) {
      if (proxies.size === 0) throw new Error(`deployment ${opts.label} has no fault proxies`);
      const others = [...proxies.keys()].filter((n) => n !== region);
      for (const [name, proxy] of proxies) {
        if (name === region) proxy.cutFrom(...others);
        else proxy.cutFrom(region);
      }
    },
    heal() {
      for (const p of proxies.values()) p.heal();
    },
    regionProxies,
    setRegionLinks(link) {
      if (regionProxies.size === 0) throw new Error(`deployment ${opts.label} has no fault proxies`);
      for (const p of regionProxies.values()) p.setLink(link);
    },
    async close(keepFiles) {
      await d.close(keepFiles);
      await closeProxies();
    },
  };
}

/** Every region's peer URL and the witness's URL through a proxy of their own (the witness binds its real port). */
async function behindProxies(config: Config, ports: number[], proxies: Map<string, FaultProxy>): Promise<Config> {
  for (const [i, r] of config.regions.entries()) {
    const proxy = new FaultProxy(ports[i + 1]!);
    await proxy.start();
    proxies.set(r.name, proxy);
  }
  const witness = config.controlPlane.witnesses[0]!;
  const witnessPort = Number(new URL(witness.url).port);
  const witnessProxy = new FaultProxy(witnessPort);
  await witnessProxy.start();
  proxies.set(witness.name, witnessProxy);
  return {
    ...config,
    regions: config.regions.map((r) => ({ ...r, peerUrl: `http://127.0.0.1:${proxies.get(r.name)!.port}` })),
    controlPlane: {
      ...config.controlPlane,
      witnesses: [{ ...witness, url: `http://127.0.0.1:${witnessProxy.port}`, listen: `127.0.0.1:${witnessPort}` }],
    },
  };
}
