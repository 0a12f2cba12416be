/**
 * @module The deployment configuration, `mraa.config.json`: app, regions, edge, data
 * directory and the generated secrets. Holding secrets, the file is written with
 * mode 0600 and refused when other users can read it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_CLOCK_AHEAD_MS } from '../core/hlc.js';
import { DEFAULT_LIMITS } from '../http/limits.js';
import { resolveSecretSources, SecretSourceError } from './secret-sources.js';

export const CONFIG_FILE = 'mraa.config.json';
export const DEFAULT_APP_ID = 'photos';
/** The regions of a local deployment (`mraa up --regions N` takes the first N; the first is the primary). */
export const LOCAL_REGION_NAMES = ['us-east-1', 'ap-northeast-1', 'eu-west-1', 'us-west-2', 'sa-east-1'] as const;
/** How many regions `mraa up --regions N` may run. */
export const MIN_LOCAL_REGIONS = 2;
export const MAX_LOCAL_REGIONS = LOCAL_REGION_NAMES.length;
export const DEFAULT_BASE_PORT = 7100;
export const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

/**
 * `host:port` a process binds (`0.0.0.0:7101`, `[::]:443`, `127.0.0.1:7101` behind a
 * proxy). Unset: the host and port of its URL; a URL without a port then needs one
 * (src/config/serving.ts).
 */
const listenSchema = z
  .string()
  .regex(/^([^\s:[\]]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/, 'listen is host:port (an IPv6 host in brackets: [::]:443)')
  .optional();

/** A certificate and its key (PEM files): the process serves HTTPS. */
const tlsFilesSchema = z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional();

const regionSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a region name is lower-case letters, digits and dashes'),
  url: z.url(),
  role: z.enum(['primary', 'secondary']),
  /** Where other regions reach this one, when not at `url` (a private network, a proxy). */
  peerUrl: z.url().optional(),
  /** host:port this region binds, when not the host and port of `url` (a proxy in front, 0.0.0.0). */
  listen: listenSchema,
  /** This region's certificate and key, when not the global `tls` ones. */
  tls: tlsFilesSchema,
});

export const DEFAULT_LEASE_MS = 4000;
export const DEFAULT_MAX_CLOCK_DRIFT = 0.01;
export const WITNESS_NAME = 'witness';

const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a name is lower-case letters, digits and dashes');

/** DESIGN §3a: who votes on state changes, and the writer lease. */
const controlPlaneSchema = z
  .object({
    /** `voters`: the regions and the witnesses run CASPaxos; `etcd`: an etcd cluster holds the register. */
    kind: z.enum(['voters', 'etcd']).default('voters'),
    /** Voters that are not regions (a third site): name and URL of each `mraa witness`. */
    witnesses: z
      .array(
        z.object({
          name: nameSchema,
          url: z.url(),
          /** host:port the witness binds, when others reach it at another address (`url`: a proxy, a NAT). */
          listen: listenSchema,
          /** The witness's certificate and key, when not the global `tls` ones. */
          tls: tlsFilesSchema,
        }),
      )
      .default([]),
    /** Regions that do not vote (after a break-glass `mraa voters replace`); every other region votes. */
    nonVoting: z.array(nameSchema).default([]),
    etcd: z.object({ endpoints: z.array(z.url()).min(1), prefix: z.string().min(1).default('/mraa') }).optional(),
    /** The writer lease period, in milliseconds. */
    leaseMs: z.number().int().min(500).max(60_000).default(DEFAULT_LEASE_MS),
    /** Bound on how much the rates of two hosts' monotonic clocks may differ (0.01 = 1 %). */
    maxClockDrift: z.number().min(0).max(0.2).default(DEFAULT_MAX_CLOCK_DRIFT),
  })
  .refine((c) => c.kind !== 'etcd' || c.etcd !== undefined, 'kind "etcd" needs etcd.endpoints');

/** DESIGN §8: what one client, or all of them, may hold of a region. Defaults in src/http/limits.ts. */
const limitsSchema = z
  .object({
    /** The request line and headers must arrive within this (slowloris). */
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_LIMITS.headersTimeoutMs),
    /** A JSON body must arrive within this, plus one second per MiB declared. */
    bodyTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_LIMITS.bodyTimeoutMs),
    /** Any whole request, uploads and object bodies from peers included; 0: none. */
    requestTimeoutMs: z.number().int().min(0).max(86_400_000).default(DEFAULT_LIMITS.requestTimeoutMs),
    /** A connection with no byte in either direction for this long is closed. */
    idleTimeoutMs: z.number().int().min(1000).max(3_600_000).default(DEFAULT_LIMITS.idleTimeoutMs),
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_LIMITS.keepAliveTimeoutMs),
    maxConnections: z.number().int().min(1).default(DEFAULT_LIMITS.maxConnections),
    maxConnectionsPerAddress: z.number().int().min(1).default(DEFAULT_LIMITS.maxConnectionsPerAddress),
    maxEventStreams: z.number().int().min(1).default(DEFAULT_LIMITS.maxEventStreams),
    maxEventStreamsPerAddress: z.number().int().min(1).default(DEFAULT_LIMITS.maxEventStreamsPerAddress),
    /**
     * Loopback callers (this host's own processes, or a reverse proxy on it, all sharing
     * one address) are held to the totals only, unless this is true.
     */
    perAddressOnLoopback: z.boolean().default(DEFAULT_LIMITS.perAddressOnLoopback),
    /** Thumbnails made at once, and uploads waiting for one before new ones are refused (503 overloaded). */
    thumbnailConcurrency: z.number().int().min(1).max(16).default(DEFAULT_LIMITS.thumbnailConcurrency),
    thumbnailQueue: z.number().int().min(0).default(DEFAULT_LIMITS.thumbnailQueue),
    /** Threads hashing passwords (their own, not libuv's), and hashes waiting before sign-ins are refused. */
    passwordHashThreads: z.number().int().min(1).max(8).default(DEFAULT_LIMITS.passwordHashThreads),
    passwordHashQueue: z.number().int().min(0).default(DEFAULT_LIMITS.passwordHashQueue),
  })
  .prefault({});

export type LimitsConfig = z.infer<typeof limitsSchema>;

export const configSchema = z
  .object({
    appId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    regions: z.array(regionSchema).min(2),
    /** The web app and /config.json (`mraa edge`, or inside `mraa up`). */
    edge: z.object({ url: z.url(), listen: listenSchema, tls: tlsFilesSchema }),
    /**
     * HTTPS (docs/deploy.md): `certFile`/`keyFile` for every process without its own `tls`;
     * `caFile`: the CA that signed the regions' and witnesses' certificates, which
     * inter-region calls (and the CLI's signed calls) verify peers against.
     */
    tls: z
      .object({
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        caFile: z.string().min(1).optional(),
      })
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'tls: certFile and keyFile go together')
      .optional(),
    dataDir: z.string().min(1),
    secrets: z.object({
      tokenKey: z.string().min(32),
      replicationKey: z.string().min(32),
      /**
       * Token keys being rotated out: tokens they signed are still accepted until they
       * expire (at most settings.tokenTtlSeconds after the rotation); none is signed with them.
       */
      previousTokenKeys: z.array(z.string().min(32)).max(4).default([]),
      /** Replication keys still accepted during a rotation (src/peers/peer-auth.ts keyRing). */
      previousReplicationKeys: z.array(z.string().min(32)).max(4).default([]),
      /**
       * Optional: a bearer token that may read GET /metrics from any address (a remote
       * Prometheus). Loopback callers and administrators may read it without it.
       */
      metricsToken: z.string().min(32).optional(),
    }),
    controlPlane: controlPlaneSchema.prefault({}),
    settings: z
      .object({
        maxUploadBytes: z.number().int().positive().default(DEFAULT_MAX_UPLOAD_BYTES),
        tokenTtlSeconds: z
          .number()
          .int()
          .positive()
          .default(12 * 3600),
        /**
         * DESIGN §5, clocks: a peer's HLC timestamp more than this many ms ahead of this
         * region's wall clock is refused and reported, never adopted.
         */
        maxClockAheadMs: z.number().int().min(0).max(3_600_000).default(DEFAULT_MAX_CLOCK_AHEAD_MS),
        /**
         * DESIGN §5, retention: past this many bytes of change log kept for one peer, the peer
         * is marked as needing a rebuild and the log is compacted past it. Unset: a quarter of
         * the free space of the data directory's filesystem at start (src/config/retention.ts).
         */
        maxPeerBacklogBytes: z.number().int().positive().optional(),
        /**
         * DESIGN §5, rebuild: true makes a region that a peer says must be rebuilt (its log
         * can no longer bring it up to date) close, rebuild itself from a snapshot and start
         * again (never the writer). Unset or false: it says so and waits for the operator to
         * run `mraa region --region NAME --rebuild` (src/region/run.ts).
         */
        autoRebuild: z.boolean().optional(),
        /** Request timeouts, connection and event-stream caps, worker pools (src/http/limits.ts). */
        limits: limitsSchema,
        /**
         * Fastify's trustProxy: whose X-Forwarded-For gives the client's address (the sign-in
         * rate limit counts per address). false (default): none; true: any hop (only when
         * nothing but the proxy can reach the region); a number: that many hops; a list:
         * those proxy addresses or CIDRs (\`["127.0.0.1", "10.0.0.0/8"]\`).
         */
        trustProxy: z
          .union([z.boolean(), z.number().int().min(1).max(10), z.array(z.string().min(1)).min(1)])
          .default(false),
      })
      .prefault({}),
  })
  .refine((c) => c.regions.filter((r) => r.role === 'primary').length === 1, 'exactly one region has role "primary"')
  .refine((c) => new Set(c.regions.map((r) => r.name)).size === c.regions.length, 'region names are unique')
  .superRefine((c, ctx) => {
    // A URL without a port is announced on the scheme's port (443, 80): say where to bind.
    const check = (url: string, listen: string | undefined, path: (string | number)[]) => {
      if (listen === undefined && new URL(url).port === '')
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'listen'],
          message: `${url} has no port (it is announced on the scheme's own port): set "listen" to the host:port this process binds, e.g. "127.0.0.1:7101" behind a proxy or "0.0.0.0:443"`,
        });
    };
    for (const [i, r] of c.regions.entries()) check(r.url, r.listen, ['regions', i]);
    for (const [i, w] of c.controlPlane.witnesses.entries()) check(w.url, w.listen, ['controlPlane', 'witnesses', i]);
    check(c.edge.url, c.edge.listen, ['edge']);
  })
  .refine(
    (c) => !c.controlPlane.witnesses.some((w) => c.regions.some((r) => r.name === w.name)),
    "a witness has a name of its own, not a region's",
  );

export type Config = z.infer<typeof configSchema>;
export type RegionConfig = Config['regions'][number];
export type ControlPlaneConfig = Config['controlPlane'];

export interface LoadedConfig extends Config {
  /** Absolute path of the file it came from. */
  file: string;
  /** Absolute data directory (dataDir resolved against the file's folder). */
  dataRoot: string;
}

export class ConfigError extends Error {}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A local deployment on 127.0.0.1: one region per port in `ports.regions` (2 to 5,
 * named from LOCAL_REGION_NAMES, the first the primary), the edge and one witness.
 */
export function defaultConfig(ports: { edge: number; regions: number[]; witness: number }): Config {
  if (ports.regions.length < MIN_LOCAL_REGIONS || ports.regions.length > MAX_LOCAL_REGIONS) {
    throw new ConfigError(`a local deployment has ${MIN_LOCAL_REGIONS} to ${MAX_LOCAL_REGIONS} regions`);
  }
  return {
    appId: DEFAULT_APP_ID,
    regions: ports.regions.map((port, i) => ({
      name: LOCAL_REGION_NAMES[i]!,
      url: `http://127.0.0.1:${port}`,
      role: i === 0 ? ('primary' as const) : ('secondary' as const),
    })),
    edge: { url: `http://127.0.0.1:${ports.edge}` },
    dataDir: 'data',
    controlPlane: {
      kind: 'voters',
      witnesses: [{ name: WITNESS_NAME, url: `http://127.0.0.1:${ports.witness}` }],
      nonVoting: [],
      leaseMs: DEFAULT_LEASE_MS,
      maxClockDrift: DEFAULT_MAX_CLOCK_DRIFT,
    },
    secrets: {
      tokenKey: generateSecret(),
      replicationKey: generateSecret(),
      previousTokenKeys: [],
      previousReplicationKeys: [],
    },
    settings: {
      maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
      tokenTtlSeconds: 12 * 3600,
      maxClockAheadMs: DEFAULT_MAX_CLOCK_AHEAD_MS,
      limits: { ...DEFAULT_LIMITS },
      trustProxy: false,
    },
  };
}

export function writeConfig(file: string, config: Config): void {
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
}

export function configPath(explicit?: string): string {
  return resolve(explicit ?? CONFIG_FILE);
}

export function loadConfig(explicit?: string): LoadedConfig {
  const file = configPath(explicit);
  if (!existsSync(file)) {
    throw new ConfigError(`no ${CONFIG_FILE} here (${file}); run "mraa up" once to create one, or pass --config`);
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new ConfigError(`${file} holds secrets but has mode ${mode.toString(8)}; run: chmod 600 ${file}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    // Any secret may be {"env": NAME} or {"file": PATH} (src/config/secret-sources.ts).
    raw = resolveSecretSources(raw, file);
  } catch (err) {
    if (err instanceof SecretSourceError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`).join('\n');
    throw new ConfigError(`${file} is not a valid configuration:\n${issues}`);
  }
  const dataRoot = isAbsolute(parsed.data.dataDir) ? parsed.data.dataDir : resolve(dirname(file), parsed.data.dataDir);
  return { ...parsed.data, file, dataRoot };
}

export function findRegion(config: Config, name: string): RegionConfig {
  const region = config.regions.find((r) => r.name === name);
  if (!region)
    throw new ConfigError(
      `no region "${name}" in the configuration; regions are ${config.regions.map((r) => r.name).join(', ')}`,
    );
  return region;
}

export function primaryRegion(config: Config): RegionConfig {
  return config.regions.find((r) => r.role === 'primary')!;
}

/** The address other regions use to reach `region`. */
export function peerUrl(region: RegionConfig): string {
  return region.peerUrl ?? region.url;
}

export interface VoterAddress {
  name: string;
  url: string;
}

/** The embedded control plane's voters: every voting region (at its peer URL), then the witnesses. */
export function voterAddresses(config: Config): VoterAddress[] {
  const cp = config.controlPlane;
  return [
    ...config.regions.filter((r) => !cp.nonVoting.includes(r.name)).map((r) => ({ name: r.name, url: peerUrl(r) })),
    ...cp.witnesses.map((w) => ({ name: w.name, url: w.url })),
  ];
}
