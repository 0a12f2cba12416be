/**
 * @module `mraa region --region NAME`: runs one region server in the foreground, with
 * its own data directory (production: one per host; locally: how a dead region of
 * `mraa up` is started again).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { peerCa } from '../config/serving.js';
import { trustPeerCa } from '../peers/peer-client.js';
import { runRegion } from '../region/run.js';
import { stderrColors } from './format.js';
import { name as validName } from './options.js';
import { run } from './run.js';

export function registerRegionCommand(program: Command): void {
  program
    .command('region')
    .description('run one region server in the foreground')
    .requiredOption('--region <name>', 'the region to run, as named in the configuration', validName)
    .option(
      '--rebuild',
      "rebuild the region from a peer's snapshot before serving (the old data directory is moved aside, never deleted; the voter's state is kept)",
    )
    .option('--rebuild-from <name>', 'take the snapshot from this region (default: the writer)', validName)
    .action((opts: { region: string; rebuild?: boolean; rebuildFrom?: string }, cmd: Command) =>
      run(cmd, async (g) => {
        const config = loadConfig(g.config);
        // A rebuild calls peers before the region starts: they are verified against tls.caFile too.
        trustPeerCa(peerCa(config));
        const running = await runRegion({
          config,
          region: opts.region,
          ...(opts.rebuild ? { rebuild: true } : {}),
          ...(opts.rebuildFrom ? { rebuildFrom: opts.rebuildFrom } : {}),
          ...(process.env.MRAA_ADMIN_PASSWORD ? { adminPassword: process.env.MRAA_ADMIN_PASSWORD } : {}),
          // For benchmarks only: MRAA_REPLICATION=off runs the region without shipping its log.
          replication: process.env.MRAA_REPLICATION !== 'off',
          // Test hook only: MRAA_CLOCK_OFFSET_MS=-5000 runs the region's hybrid logical
          // clock on a wall clock 5 s behind (as if the host's clock were set back).
          clockOffsetMs: clockOffsetFromEnv(process.env.MRAA_CLOCK_OFFSET_MS),
          onGeneratedAdminPassword: (password) => {
            // Shown once, to the operator's terminal, never to the log.
            process.stderr.write(
              `\n${stderrColors.bold('Created the admin user.')} username: admin  password: ${password}\nIt is not shown again.\n\n`,
            );
          },
        });
        stopWithSupervisor(() => running.close());
      }),
    );
}

/** MRAA_CLOCK_OFFSET_MS (a test hook): whole milliseconds, signed; unset or empty is 0. */
export function clockOffsetFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  const ms = Number(value);
  if (!Number.isSafeInteger(ms)) throw new Error(`MRAA_CLOCK_OFFSET_MS must be whole milliseconds, not "${value}"`);
  return ms;
}

/** Stops on SIGINT/SIGTERM, and when started by `mraa up`, when the supervisor goes away. */
export function stopWithSupervisor(close: () => Promise<void>): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (process.env.MRAA_SUPERVISED === '1') {
    // Started by `mraa up`: stop when the supervisor goes away (its end of stdin closes).
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
  }
}
