/**
 * @module A local deployment to measure: a throwaway `mraa up` (src/local/throwaway-deployment.ts)
 * with the bench's settings in its configuration and environment.
 */
import { join } from 'node:path';
import type { Config } from '../src/config/config.js';
import { startThrowawayDeployment } from '../src/local/throwaway-deployment.js';

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
  const d = await startThrowawayDeployment({
    label: `bench-${opts.label}`,
    adminPassword: ADMIN_PASSWORD,
    ...(opts.env ? { env: opts.env } : {}),
    configure: (c) => ({ ...c, settings: { ...c.settings, maxUploadBytes: opts.maxUploadBytes } }),
  });
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
    close: d.close,
  };
}
