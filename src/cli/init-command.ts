/**
 * @module `mraa init`: a configuration for named hosts (docs/deploy.md). Two or more
 * regions (`--region NAME=URL`, the first the primary unless `--primary`) and either
 * witnesses (`--witness NAME=URL`) or an etcd cluster (`--etcd URL,...`); the edge at
 * `--edge URL` (default: the primary's host, port 7100). Every process listens on all
 * interfaces at its URL's port (`listen: "0.0.0.0:PORT"`); `--tls-ca/--tls-cert/--tls-key`
 * (all three) make every process serve HTTPS with the certificate and key at those paths
 * on its own host and verify peers against the CA. The secrets are generated. The file
 * is written with mode 0600 and never over an existing one. It prints what to copy
 * where and what to run on each host.
 */
import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type Config,
  configPath,
  configSchema,
  DEFAULT_APP_ID,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_CLOCK_DRIFT,
  DEFAULT_MAX_UPLOAD_BYTES,
  generateSecret,
  writeConfig,
} from '../config/config.js';
import { DEFAULT_MAX_CLOCK_AHEAD_MS } from '../core/hlc.js';
import { DEFAULT_LIMITS } from '../http/limits.js';
import { CliError, EXIT } from './exit-codes.js';
import { bold, dim, table } from './format.js';
import { name as validName } from './options.js';
import { type Outcome, run } from './run.js';

/** Where docs/deploy.md and deploy/systemd/ put things on each host. */
export const HOST_CONFIG_FILE = '/etc/mraa/mraa.config.json';
export const HOST_DATA_DIR = '/var/lib/mraa';
const DEFAULT_EDGE_PORT = 7100;

interface Named {
  name: string;
  url: string;
}

/** An http(s) URL with a port and nothing after it (`https://host:7101`). */
function processUrl(value: string, what: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`Expected ${what} URL such as https://host.example:7101.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidArgumentError(`Expected an http:// or https:// URL for ${what}.`);
  if (u.port === '')
    throw new InvalidArgumentError(
      `Expected a port in the URL (https://${u.hostname}:7101): the services run without privileges and cannot bind ${u.protocol === 'https:' ? 443 : 80}; put a proxy on it and set "listen" by hand if you need it.`,
    );
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username || u.password)
    throw new InvalidArgumentError('Expected a URL with no path, query or user (https://host.example:7101).');
  return u.origin;
}

/** `NAME=URL`, collected into a list. */
function namedUrl(what: string) {
  return (value: string, previous: Named[] = []): Named[] => {
    const at = value.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`Expected NAME=URL (us-east-1=https://use1.example.com:7101).`);
    const name = validName(value.slice(0, at));
    return [...previous, { name, url: processUrl(value.slice(at + 1), what) }];
  };
}

function etcdEndpoints(value: string): string[] {
  const urls = value.split(',').map((s) => s.trim());
  if (urls.some((u) => u === '')) throw new InvalidArgumentError('Expected URL,URL,... with no empty entry.');
  return urls.map((u) => processUrl(u, 'an etcd endpoint'));
}

function fileOption(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('Expected a file path.');
  return value;
}

interface InitOptions {
  region: Named[];
  witness: Named[];
  etcd?: string[];
  primary?: string;
  edge?: string;
  appId: string;
  dataDir: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

const listenOf = (url: string) => `0.0.0.0:${new URL(url).port}`;

/** The configuration `mraa init` writes, or a usage error saying what is missing. */
export function initConfig(o: InitOptions): Config {
  if (o.region.length < 2) throw new CliError('usage', 'give two or more regions: --region NAME=URL --region NAME=URL');
  if (o.etcd && o.witness.length > 0)
    throw new CliError(
      'usage',
      'give either --witness (the voters: the regions and the witnesses) or --etcd, not both',
    );
  if (!o.etcd && o.witness.length === 0)
    throw new CliError(
      'usage',
      'give a witness (--witness NAME=URL, a voter on a third host) or an etcd cluster (--etcd URL,...): with two regions alone, losing either stops writes',
    );
  const tls = [o.tlsCa, o.tlsCert, o.tlsKey];
  if (tls.some((t) => t !== undefined) && tls.some((t) => t === undefined))
    throw new CliError('usage', '--tls-ca, --tls-cert and --tls-key go together');
  const primary = o.primary ?? o.region[0]!.name;
  if (!o.region.some((r) => r.name === primary))
    throw new CliError(
      'usage',
      `--primary ${primary} is not one of the regions (${o.region.map((r) => r.name).join(', ')})`,
    );
  const first = new URL(o.region.find((r) => r.name === primary)!.url);
  const edgeUrl = o.edge ?? `${first.protocol}//${first.hostname}:${DEFAULT_EDGE_PORT}`;

  const withTls = o.tlsCert !== undefined;
  const all = [...o.region, ...o.witness, { name: 'edge', url: edgeUrl }];
  const seen = new Map<string, string>();
  for (const p of all) {
    const u = new URL(p.url);
    const at = `${u.hostname}:${u.port}`;
    const other = seen.get(at);
    if (other)
      throw new CliError(
        'usage',
        `${other} and ${p.name} are both at ${at}: give each its own port${o.edge ? '' : ' (the edge: --edge URL)'}`,
      );
    seen.set(at, p.name);
    if (withTls && u.protocol !== 'https:')
      throw new CliError('usage', `${p.name} is at ${p.url}: with --tls-* every URL is https://`);
  }

  const config: Config = {
    appId: o.appId,
    regions: o.region.map((r) => ({
      name: r.name,
      url: r.url,
      role: r.name === primary ? ('primary' as const) : ('secondary' as const),
      listen: listenOf(r.url),
    })),
    edge: { url: edgeUrl, listen: listenOf(edgeUrl) },
    ...(withTls ? { tls: { caFile: o.tlsCa!, certFile: o.tlsCert!, keyFile: o.tlsKey! } } : {}),
    dataDir: o.dataDir,
    secrets: {
      tokenKey: generateSecret(),
      replicationKey: generateSecret(),
      previousTokenKeys: [],
      previousReplicationKeys: [],
    },
    controlPlane: {
      kind: o.etcd ? 'etcd' : 'voters',
      witnesses: o.witness.map((w) => ({ name: w.name, url: w.url, listen: listenOf(w.url) })),
      nonVoting: [],
      ...(o.etcd ? { etcd: { endpoints: o.etcd, prefix: '/mraa' } } : {}),
      leaseMs: DEFAULT_LEASE_MS,
      maxClockDrift: DEFAULT_MAX_CLOCK_DRIFT,
    },
    settings: {
      maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
      tokenTtlSeconds: 12 * 3600,
      maxClockAheadMs: DEFAULT_MAX_CLOCK_AHEAD_MS,
      limits: { ...DEFAULT_LIMITS },
      trustProxy: false,
    },
  };
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(file)'}: ${i.message}`).join('\n');
    throw new CliError('usage', `these options make no valid configuration:\n${issues}`);
  }
  return config;
}

interface HostRow {
  process: string;
  role: string;
  url: string;
  listen: string;
  run: string;
  systemd: string;
}

function hostRows(config: Config): HostRow[] {
  const oneWitness = config.controlPlane.witnesses.length === 1;
  return [
    ...config.regions.map((r) => ({
      process: r.name,
      role: r.role,
      url: r.url,
      listen: r.listen!,
      run: `mraa region --region ${r.name}`,
      systemd: `systemctl enable --now mraa-region@${r.name}`,
    })),
    ...config.controlPlane.witnesses.map((w) => ({
      process: w.name,
      role: 'witness (voter)',
      url: w.url,
      listen: w.listen!,
      run: `mraa witness --name ${w.name}`,
      systemd: oneWitness
        ? 'systemctl enable --now mraa-witness'
        : `(mraa-witness.service runs the only witness: add --name ${w.name} to its ExecStart)`,
    })),
    {
      process: 'edge',
      role: 'web app',
      url: config.edge.url,
      listen: config.edge.listen!,
      run: 'mraa edge',
      systemd: 'systemctl enable --now mraa-edge',
    },
  ];
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a configuration for named hosts (regions, a witness or etcd), with generated secrets')
    .option('--region <name=url>', 'a region and its URL (two or more; the first is the primary)', namedUrl('a region'))
    .option('--witness <name=url>', 'a witness voter on a third host (or use --etcd)', namedUrl('a witness'))
    .option('--etcd <urls>', 'an etcd cluster holds the state register instead of voters: URL,URL,...', etcdEndpoints)
    .option('--primary <name>', 'the region that takes writes at first (default: the first --region)', validName)
    .option('--edge <url>', `the web app's URL (default: the primary's host, port ${DEFAULT_EDGE_PORT})`, (v) =>
      processUrl(v, 'the edge'),
    )
    .option('--app-id <id>', 'the application id', validName, DEFAULT_APP_ID)
    .option('--data-dir <dir>', 'the data directory on every host', fileOption, HOST_DATA_DIR)
    .option('--tls-ca <file>', "the private CA's certificate, as found on every host", fileOption)
    .option('--tls-cert <file>', "each host's own certificate, at this path on that host", fileOption)
    .option('--tls-key <file>', "each host's own private key, at this path on that host", fileOption)
    .addHelpText(
      'after',
      `
Example (docs/deploy.md):
  mraa init --region us-east-1=https://use1.example.com:7101 \\
            --region eu-west-1=https://euw1.example.com:7101 \\
            --witness witness=https://wit.example.com:7103 \\
            --tls-ca /etc/mraa/tls/ca.crt --tls-cert /etc/mraa/tls/host.crt --tls-key /etc/mraa/tls/host.key`,
    )
    .action((opts: Partial<InitOptions>, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const file = configPath(g.config);
          if (existsSync(file))
            throw new CliError(
              'exists',
              `${file} already exists: mraa init never overwrites a configuration (move it aside, or pass --config NEW_FILE)`,
            );
          const config = initConfig({
            region: opts.region ?? [],
            witness: opts.witness ?? [],
            appId: opts.appId ?? DEFAULT_APP_ID,
            dataDir: opts.dataDir ?? HOST_DATA_DIR,
            ...(opts.etcd ? { etcd: opts.etcd } : {}),
            ...(opts.primary ? { primary: opts.primary } : {}),
            ...(opts.edge ? { edge: opts.edge } : {}),
            ...(opts.tlsCa ? { tlsCa: opts.tlsCa } : {}),
            ...(opts.tlsCert ? { tlsCert: opts.tlsCert } : {}),
            ...(opts.tlsKey ? { tlsKey: opts.tlsKey } : {}),
          });
          writeConfig(file, config);
          const rows = hostRows(config);
          printGuide(out, file, config, rows);
          return {
            exit: EXIT.done,
            json: {
              file,
              mode: '0600',
              copyTo: HOST_CONFIG_FILE,
              dataDir: config.dataDir,
              tls: config.tls ?? null,
              controlPlane: config.controlPlane.kind,
              hosts: rows,
            },
          };
        },
        { json: true },
      ),
    );
}

function printGuide(out: { line(text?: string): void }, file: string, config: Config, rows: HostRow[]): void {
  out.line(bold(`Wrote ${file} (mode 0600) for "${config.appId}", with generated secrets.`));
  out.line('');
  out.line(
    table(
      ['PROCESS', 'ROLE', 'URL', 'LISTENS ON', 'RUN ON ITS HOST'],
      rows.map((r) => [r.process, r.role, r.url, r.listen, r.run]),
    ),
  );
  if (config.controlPlane.kind === 'etcd')
    out.line(`\nControl plane: the etcd cluster at ${config.controlPlane.etcd!.endpoints.join(', ')} (no witness).`);
  out.line('');
  out.line(bold('On every host'));
  out.line(
    `  1. Install Node.js (20, 22 or 24) and mraa; create the user: useradd --system --home ${config.dataDir} mraa`,
  );
  out.line(
    `  2. Copy ${file} to ${HOST_CONFIG_FILE}: owner mraa, mode 0600 (install -o mraa -g mraa -m 0600 FILE ${HOST_CONFIG_FILE}).`,
  );
  out.line('     It holds the secrets: copy it over SSH, never by mail or a ticket.');
  if (config.tls) {
    out.line(
      `  3. Certificates: ${config.tls.caFile} (the CA, on every host), and the host's own certificate and key at ${config.tls.certFile} and ${config.tls.keyFile} (mode 0600, owner mraa), issued for the host name in its URL.`,
    );
  } else {
    out.line(
      '  3. No TLS: traffic between hosts is plain HTTP (signed, not encrypted). See docs/deploy.md for a private CA.',
    );
  }
  out.line(
    '  4. The unit files: install -m 0644 deploy/systemd/*.service /etc/systemd/system/ && systemctl daemon-reload',
  );
  out.line('');
  out.line(bold('Then start, in this order (the witness first, then the regions, then the edge):'));
  const order = [
    ...rows.filter((r) => r.role.startsWith('witness')),
    ...rows.filter((r) => !r.role.startsWith('witness')),
  ];
  for (const r of order)
    out.line(`  ${r.process.padEnd(Math.max(...rows.map((x) => x.process.length)))}  ${r.systemd}`);
  out.line(
    dim(`  (in the foreground instead: ${rows.map((r) => r.run).join('; ')}; each with --config ${HOST_CONFIG_FILE})`),
  );
  out.line('');
  out.line(
    `Open the ports between the hosts: ${rows.map((r) => `${r.process} ${new URL(r.url).port}`).join(', ')}; the edge's and the regions' to clients.`,
  );
  out.line(`Then: mraa status --config ${HOST_CONFIG_FILE}   (docs/deploy.md: a planned failover, a drill, backups)`);
}
