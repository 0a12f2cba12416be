/**
 * @module `mraa up`: a whole deployment on this machine. On the first run it writes
 * mraa.config.json (mode 0600, generated secrets) for `--regions N` regions (2 to 5:
 * us-east-1, the primary, then ap-northeast-1, eu-west-1, us-west-2, sa-east-1) and a
 * witness, on free loopback ports; it starts one process per region
 * and the edge, prints where everything is and the admin credentials, and stops
 * every process it started on Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { generatePassword } from '../auth/passwords.js';
import { TokenSigner } from '../auth/tokens.js';
import {
  configPath,
  DEFAULT_BASE_PORT,
  defaultConfig,
  LOCAL_REGION_NAMES,
  type LoadedConfig,
  loadConfig,
  MAX_LOCAL_REGIONS,
  MIN_LOCAL_REGIONS,
  writeConfig,
} from '../config/config.js';
import { requirePrivateDataDir } from '../config/file-modes.js';
import { startEdge } from '../edge/edge.js';
import { localControls } from '../edge/local-controls.js';
import { isLoopback } from '../http/auth-guards.js';
import { LOG_REDACT } from '../http/log-redact.js';
import { choosePorts } from '../local/ports.js';
import { Supervisor } from '../local/supervisor.js';
import { Deployment } from './deployment.js';
import { CliError } from './exit-codes.js';
import { bold, dim, green, red, table, yellow } from './format.js';
import { integer } from './options.js';
import { run } from './run.js';
import { agreement } from './state-commands.js';

const READY_TIMEOUT_MS = 30_000;
/** The edge, the regions and the witness take N + 2 ports from --base-port on (4 with two regions). */
const MAX_BASE_PORT = 65_535 - 3;
const DEFAULT_LOCAL_REGIONS = 2;

async function waitReady(url: string, alive: () => boolean): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && alive()) {
    try {
      const res = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function adminPasswordWorks(config: LoadedConfig, password: string): Promise<boolean> {
  const primary = config.regions.find((r) => r.role === 'primary')!;
  try {
    const res = await fetch(new URL('/auth/signin', primary.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
      signal: AbortSignal.timeout(5000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run a local deployment: the edge and one process per region, on loopback')
    .option(
      '--base-port <port>',
      `first of 4 ports on a new deployment (edge, regions, witness), 0 to ${MAX_BASE_PORT} (0: any free ports); taken ports fall back to free ones`,
      integer(0, MAX_BASE_PORT, 'a port number'),
      DEFAULT_BASE_PORT,
    )
    .option(
      '--regions <n>',
      `regions of a new deployment, ${MIN_LOCAL_REGIONS} to ${MAX_LOCAL_REGIONS} (${LOCAL_REGION_NAMES.join(', ')}; the first is the primary)`,
      integer(MIN_LOCAL_REGIONS, MAX_LOCAL_REGIONS, 'a number of regions'),
      DEFAULT_LOCAL_REGIONS,
    )
    .action((opts: { basePort: number; regions: number }, cmd: Command) =>
      run(cmd, async (g) => {
        const file = configPath(g.config);
        let created = false;
        if (!existsSync(file)) {
          const n = opts.regions;
          if (opts.basePort + n + 1 > 65_535) {
            throw new CliError(
              'usage',
              `--base-port ${opts.basePort} leaves no room for ${n + 2} ports (the edge, ${n} regions, the witness): at most ${65_535 - n - 1}`,
            );
          }
          const ports = await choosePorts(n + 2, opts.basePort);
          writeConfig(file, defaultConfig({ edge: ports[0]!, regions: ports.slice(1, n + 1), witness: ports[n + 1]! }));
          created = true;
        }
        const config = loadConfig(file);
        // --regions shapes a new configuration only: an existing one keeps its regions.
        if (cmd.getOptionValueSource('regions') === 'cli' && config.regions.length !== opts.regions) {
          throw new CliError(
            'usage',
            `${file} already exists with ${config.regions.length} regions (${config.regions.map((r) => r.name).join(', ')}); --regions ${opts.regions} applies only when creating a new configuration: run it in an empty folder, or without --regions`,
          );
        }
        requirePrivateDataDir(config.dataRoot);
        const here = (p: string) => relative(process.cwd(), p) || '.';
        console.log(bold(`mraa: local deployment of "${config.appId}"`));
        if (created) console.log(`Created ${here(file)} (mode 0600) with generated secrets.`);

        const fromEnv = process.env.MRAA_ADMIN_PASSWORD;
        const candidate = fromEnv || generatePassword();
        const supervisor = new Supervisor(config, { MRAA_ADMIN_PASSWORD: candidate });
        const logger = pino({ base: { component: 'edge' }, redact: LOG_REDACT, level: 'warn' });
        let stopping = false;
        supervisor.on('exit', (p) => {
          if (stopping) return;
          const how = p.exit?.signal ? `signal ${p.exit.signal}` : `exit code ${p.exit?.code}`;
          const witness = config.controlPlane.witnesses.some((w) => w.name === p.name);
          const what = witness ? 'the witness voter is down' : 'a region outage';
          console.log(red(`\n! ${p.name} (pid ${p.pid}) died (${how}): ${what}. It is not restarted.`));
          const again = witness ? `mraa witness --name ${p.name}` : `mraa region --region ${p.name}`;
          console.log(
            `  Start it again with: ${again}${g.config ? ` --config ${g.config}` : ''}   (log: ${here(p.logFile)})`,
          );
        });

        // The witness first: with it and one region, a majority of voters is up.
        const witnesses = config.controlPlane.witnesses;
        for (const w of witnesses) supervisor.start(w.name);
        for (const r of config.regions) supervisor.start(r.name);
        const loopback = isLoopback(new URL(config.edge.url).hostname);
        const edge = await startEdge({
          config,
          logger,
          ...(loopback
            ? {
                extend: (app: FastifyInstance) =>
                  localControls(app, {
                    supervisor,
                    tokens: new TokenSigner(
                      config.secrets.tokenKey,
                      config.appId,
                      config.settings.tokenTtlSeconds,
                      config.secrets.previousTokenKeys,
                    ),
                    dataRoot: config.dataRoot,
                    regions: [...config.regions.map((r) => r.name), ...witnesses.map((w) => w.name)],
                    log: (line) => console.log(yellow(`\n${line}`)),
                  }),
              }
            : {}),
        });

        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          console.log(`\n${signal}: stopping every process started here...`);
          await supervisor.stopAll();
          await edge.close();
          console.log('Stopped.');
          process.exit(0);
        };
        process.on('SIGINT', () => void stop('Ctrl-C'));
        process.on('SIGTERM', () => void stop('SIGTERM'));

        const procs = supervisor.list();
        const members = [
          ...config.regions.map((r) => ({ name: r.name, role: r.role as string, url: r.url })),
          ...witnesses.map((w) => ({ name: w.name, role: 'witness (voter)', url: w.url })),
        ];
        const ready = await Promise.all(
          members.map((m) => waitReady(m.url, () => supervisor.list().find((p) => p.name === m.name)!.running)),
        );
        console.log('');
        console.log(
          table(
            ['PROCESS', 'ROLE', 'URL', 'PID', 'STATUS', 'LOG'],
            [
              ...members.map((r, i) => [
                r.name,
                r.role,
                r.url,
                String(procs[i]!.pid ?? '-'),
                ready[i] ? green('ready') : red('not ready'),
                here(procs[i]!.logFile),
              ]),
              ['edge', 'web app', config.edge.url, String(process.pid), green('ready'), dim('(this process)')],
            ],
          ),
        );
        console.log('');
        console.log(`Web app:   ${bold(config.edge.url)}`);
        // The writer creates `admin` once it holds its lease: give it a moment after readiness.
        let adminWorks = false;
        for (let deadline = Date.now() + 15_000; !adminWorks && Date.now() < deadline; ) {
          adminWorks = await adminPasswordWorks(config, candidate);
          if (!adminWorks) await new Promise((r) => setTimeout(r, 250));
        }
        if (adminWorks) {
          console.log(
            `Admin:     username ${bold('admin')}  password ${bold(candidate)}${fromEnv ? ' (from MRAA_ADMIN_PASSWORD)' : yellow('  (shown once: keep it)')}`,
          );
        } else {
          console.log('Admin:     username admin, with the password set at first start');
        }
        console.log(`Data:      ${here(config.dataRoot)}    Config: ${here(config.file)}`);
        const states = await new Deployment(config).states();
        console.log(`State:     ${agreement(states)}`);
        console.log(
          dim(
            '\nCtrl-C stops every process started here. Try: mraa state, mraa fence, mraa activate (in another terminal, this folder).',
          ),
        );
        if (ready.some((r) => !r)) process.exitCode = 1;
      }),
    );
}
