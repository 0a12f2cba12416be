/**
 * @module The operator's plans from the command line: `mraa fence`, `mraa activate`,
 * `mraa failover [--to R] [--ungraceful] [--timeout S]`, `mraa failback`. They run the
 * same plan module as the web console (src/orchestration/plan.ts).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import {
  activate,
  failback,
  failover,
  fence,
  type PlanEnvironment,
  PlanError,
  type PlanResult,
} from '../orchestration/plan.js';
import { Deployment } from './deployment.js';
import { bold, formatMs, red, yellow } from './format.js';
import { progressPrinter, timelineTable } from './plan-output.js';
import { run } from './run.js';
import { agreement, stateTable, waitUntilSeen } from './state-commands.js';

async function runPlan(
  configFile: string | undefined,
  name: string,
  plan: (env: PlanEnvironment) => Promise<PlanResult>,
): Promise<void> {
  const dep = new Deployment(loadConfig(configFile));
  const env = await dep.planEnv();
  try {
    const result = await plan(env);
    const r = result.record;
    const loss = r.possibleLoss;
    console.log(
      `\n${bold(`${name}: ${r.state} at epoch ${r.epoch}`)}${r.state === 'fenced' ? ` (writes paused; writer was ${r.activeRegion})` : `: ${r.activeRegion} takes writes`} in ${formatMs(result.totalMs)}.`,
    );
    if (r.waitedForLease) {
      const w = r.waitedForLease;
      console.log(
        `Waited ${formatMs(w.waitedMs)} for the writer lease of ${w.holder} (epoch ${w.epoch}) to run out at a majority of ` +
          `voters: until then ${w.holder} may still have been admitting writes, so no other region could.`,
      );
    }
    if (loss) {
      const known = loss.entries === null ? 'an unknown number of' : `at least ${loss.entries}`;
      const tail = loss.unreportedMs
        ? `, and any it acknowledged in the ${formatMs(loss.unreportedMs)} after its last report while its lease ran`
        : '';
      console.log(
        yellow(
          `Possible loss: ${loss.region} had ${known} logged write(s) not yet applied by ${r.activeRegion}${tail}` +
            `${loss.basis ? ` (${loss.basis})` : ''}.`,
        ),
      );
      console.log(
        yellow(
          `They are not lost if ${loss.region} comes back with its data: its stranded writes are shipped and merged (see mraa conflicts).`,
        ),
      );
    }
    if (result.timeline.length > 1) console.log(`\n${timelineTable(result.timeline)}`);
    await waitUntilSeen(dep, r.epoch);
    const answers = await dep.states();
    console.log(`\n${stateTable(answers)}\n\n${agreement(answers)}`);
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    console.error(red(`\n${name} stopped: ${err.message}`));
    if (err.code === 'drain_timeout') {
      console.error(`\nTo keep waiting:   mraa ${name === 'failback' ? 'failback' : 'failover'} --timeout 300`);
      console.error('To back out:       mraa activate   (the fenced writer takes writes again)');
      console.error('If the writer is gone for good: mraa failover --ungraceful   (what it did not ship may be lost)');
    } else if (err.code === 'not_drained') {
      console.error(
        'The target has not applied everything the writer accepted; run the plan again (it waits for the drain).',
      );
    } else if (err.code === 'unreachable') {
      console.error('If the writer region is down, fail over with --ungraceful.');
    }
    process.exitCode = 1;
  }
}

export function registerPlanCommands(program: Command): void {
  program
    .command('fence')
    .description('stop writes in every region (reads go on, replication drains)')
    .option('--reason <text>', 'why, for the record')
    .action((opts: { reason?: string }, cmd: Command) =>
      run(cmd, (g) => runPlan(g.config, 'fence', (env) => fence(env, { ...opts, onProgress: progressPrinter() }))),
    );

  program
    .command('activate')
    .description('lift the fence: the fenced writer takes writes again, nothing moves')
    .option('--reason <text>', 'why, for the record')
    .action((opts: { reason?: string }, cmd: Command) =>
      run(cmd, (g) =>
        runPlan(g.config, 'activate', (env) => activate(env, { ...opts, onProgress: progressPrinter() })),
      ),
    );

  program
    .command('failover')
    .description('fence, wait until the target has every write, switch writes to it; or --ungraceful: switch at once')
    .option('--to <region>', 'the region to take writes (default: the only secondary)')
    .option('--ungraceful', 'the writer does not answer: switch at once, reporting what may be lost')
    .option(
      '--timeout <seconds>',
      'how long to wait for the drain before stopping (the application stays fenced)',
      '60',
    )
    .option('--reason <text>', 'why, for the record')
    .action((opts: { to?: string; ungraceful?: boolean; timeout: string; reason?: string }, cmd: Command) =>
      run(cmd, (g) =>
        runPlan(g.config, 'failover', (env) =>
          failover(env, {
            ...(opts.to ? { to: opts.to } : {}),
            ...(opts.reason ? { reason: opts.reason } : {}),
            force: opts.ungraceful ?? false,
            timeoutMs: Number(opts.timeout) * 1000,
            onProgress: progressPrinter(),
          }),
        ),
      ),
    );

  program
    .command('failback')
    .description('the graceful reverse: fence, drain, and move writes back to the primary')
    .option(
      '--timeout <seconds>',
      'how long to wait for the drain before stopping (the application stays fenced)',
      '60',
    )
    .option('--reason <text>', 'why, for the record')
    .action((opts: { timeout: string; reason?: string }, cmd: Command) =>
      run(cmd, (g) =>
        runPlan(g.config, 'failback', (env) =>
          failback(env, {
            ...(opts.reason ? { reason: opts.reason } : {}),
            timeoutMs: Number(opts.timeout) * 1000,
            onProgress: progressPrinter(),
          }),
        ),
      ),
    );
}
