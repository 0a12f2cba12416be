/**
 * @module A deployment in a temporary folder: a configuration on free loopback ports,
 * regions started in this process (for API tests) and tokens minted from its key.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type Role, TokenSigner } from '../../src/auth/tokens.js';
import { type Config, defaultConfig, type LoadedConfig, loadConfig, writeConfig } from '../../src/config/config.js';
import { choosePorts } from '../../src/local/ports.js';
import { type RegionOptions, type RunningRegion, startRegion } from '../../src/region/region.js';
import { startWitness } from '../../src/witness/witness.js';

export interface Fixture {
  dir: string;
  config: LoadedConfig;
  regions: Map<string, RunningRegion>;
  /** `options`: extra region options (e.g. the clockOffsetMs test hook). */
  start(name: string, options?: Partial<Pick<RegionOptions, 'clockOffsetMs'>>): Promise<RunningRegion>;
  stop(name: string): Promise<void>;
  token(username: string, role: Role): Promise<string>;
  url(name: string): string;
  close(): Promise<void>;
}

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export async function createFixture(customize: (c: Config) => Config = (c) => c): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mraa-fixture-'));
  const ports = await choosePorts(4, 0);
  const file = join(dir, 'mraa.config.json');
  writeConfig(file, customize(defaultConfig({ edge: ports[0]!, regions: ports.slice(1, 3), witness: ports[3]! })));
  const config = loadConfig(file);
  // The witness votes from the start: with it, one region alone has a majority.
  const witnesses = await Promise.all(
    config.controlPlane.witnesses.map((w) =>
      startWitness({ config, name: w.name, logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }) }),
    ),
  );
  const regions = new Map<string, RunningRegion>();
  const signer = new TokenSigner(config.secrets.tokenKey, config.appId, 3600);
  const fixture: Fixture = {
    dir,
    config,
    regions,
    async start(name, options = {}) {
      const running = await startRegion({
        config,
        region: name,
        logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
        adminPassword: ADMIN_PASSWORD,
        ...options,
      });
      regions.set(name, running);
      return running;
    },
    async stop(name) {
      await regions.get(name)?.close();
      regions.delete(name);
    },
    async token(username, role) {
      return (await signer.issue({ username, role })).token;
    },
    url(name) {
      return config.regions.find((r) => r.name === name)!.url;
    },
    async close() {
      for (const r of regions.values()) await r.close();
      for (const w of witnesses) await w.close();
      regions.clear();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** fetch with JSON in and out; returns status, headers and the parsed body. */
export async function call(
  url: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const res = await fetch(new URL(path, url), { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep text */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
