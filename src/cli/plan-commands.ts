/**
 * @module The operator's plans from the command line: `mraa fence`, `mraa activate`,
 * `mraa failover [--to R] [--ungraceful] [--timeout S]`, `mraa failback`. They run the
 * same plan module as the web console (src/orchestration/plan.ts), which checks before
 * it changes anything that the regions it needs answer and reach a majority of voters.
 * A plan with nothing to do (a second fence, a failover to the writer) exits 0 and
 * says "nothing to do: already ...".
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { describeLoss } from '../orchestration/loss-words.js';
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
import { EXIT } from './exit-codes.js';
import { bold, formatMs, stderrColors, yellow } from './format.js';
import { reason, secondsOption, name as validName } from './options.js';
import { progressPrinter, timelineTable } from './plan-output.js';
import { describeFailure, errorDocument, type Outcome, type Output, run } from './run.js';
import { agreement, stateDocument, stateTable, waitUntilSeen } from './state-commands.js';

const MAX_TIMEOUT_S = 86_400;

async function runPlan(
  configFile: string | undefined,
  out: Output,
  name: string,
  plan: (env: PlanEnvironment, onProgress: PlanProgress) => Promise<PlanResult>,
): Promise<Outcome> {
  const dep = new Deployment(loadConfig(configFile));
  const env = await dep.planEnv();
  let result: PlanResult;
  try {
    result = await plan(env, out.json ? undefined : progressPrinter());
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    const f = describeFailure(err);
    if (!out.json) printFailure(name, err);
    return { exit: f.exit, json: errorDocument(f.code, f.message, f.details, { plan: name }) };
  }
  const r = result.record;
  if (result.nothingToDo !== undefined) {
    out.line(`${bold(`${name}: nothing to do`)}: ${result.nothingToDo}.`);
  } else {
    out.line(
      `\n${bold(`${name}: ${r.state} at epoch ${r.epoch}`)}${r.state === 'fenced' ? ` (writes paused; writer was ${r.activeRegion})` : `: ${r.activeRegion} takes writes`} in ${formatMs(result.totalMs)}.`,
    );
  }
  if (r.waitedForLease) {
    const w = r.waitedForLease;
    out.line(
      `Waited ${formatMs(w.waitedMs)} for the writer lease of ${w.holder} (epoch ${w.epoch}) to run out at a majority of ` +
        `voters: until then ${w.holder} may still have been admitting writes, so no other region could.`,
    );
  }
  const words = describeLoss(r, formatMs);
  if (words) {
    out.line(yellow(words.loss));
    out.line(yellow(words.recovery));
  }
  if (result.timeline.length > 1) out.line(`\n${timelineTable(result.timeline)}`);
  await waitUntilSeen(dep, r.epoch);
  const answers = await dep.states();
  out.line(`\n${stateTable(answers)}\n\n${agreement(answers)}`);
  return {
    exit: EXIT.done,
    json: { ...result, regions: stateDocument(answers).regions },
  };
}

type PlanProgress = ReturnType<typeof progressPrinter> | undefined;

function printFailure(name: string, err: PlanError): void {
  const { red } = stderrColors;
  // A plan that failed before its first step changed nothing: it did not start.
  const started = err.timeline.length > 0;
  const said = err.message.startsWith(`${name} not started`);
  console.error(red(`\n${said ? '' : `${name} ${started ? 'stopped' : 'not started'}: `}${err.message}`));
  if (err.code === 'drain_timeout') {
    console.error(`\nTo keep waiting:   mraa ${name === 'failback' ? 'failback' : 'failover'} --timeout 300`);
    console.error('To back out:       mraa activate   (the fenced writer takes writes again)');
    console.error('If the writer is gone for good: mraa failover --ungraceful   (what it did not ship may be lost)');
  } else if (err.code === 'not_drained') {
    console.error(
      'The target has not applied everything the writer accepted; run the plan again (it waits for the drain).',
    );
  } else if (err.code === 'writer_unreachable' && name !== 'activate') {
    console.error('If the writer region is down: mraa failover --ungraceful');
  } else if (err.code === 'target_unreachable') {
    console.error('Start the target again (mraa region --region NAME on its host), or choose another: --to REGION.');
  } else if (err.code === 'no_quorum') {
    console.error('See which voters answer: mraa status (or mraa voters list). Bring one back, then run this again.');
  } else if (err.code === 'unreachable' && started) {
    console.error('If the writer region is down, fail over with --ungraceful.');
  }
}

const timeoutOption = (cmd: Command) =>
  cmd.addOption(
    secondsOption(
      '--timeout <seconds>',
      `how long to wait for the drain before stopping, more than 0 and at most ${MAX_TIMEOUT_S} (the application stays fenced)`,
      MAX_TIMEOUT_S,
      60,
    ),
  );

export function registerPlanCommands(program: Command): void {
  program
    .command('fence')
    .description('stop writes in every region (reads go on, replication drains)')
    .option('--reason <text>', 'why, for the record (up to 500 characters)', reason)
    .action((opts: { reason?: string }, cmd: Command) =>
      run(cmd, (g, out) => runPlan(g.config, out, 'fence', (env, onProgress) => fence(env, { ...opts, onProgress })), {
        json: true,
      }),
    );

  program
    .command('activate')
    .description('lift the fence: the fenced writer takes writes again, nothing moves')
    .option('--reason <text>', 'why, for the record (up to 500 characters)', reason)
    .action((opts: { reason?: string }, cmd: Command) =>
      run(
        cmd,
        (g, out) => runPlan(g.config, out, 'activate', (env, onProgress) => activate(env, { ...opts, onProgress })),
        { json: true },
      ),
    );

  timeoutOption(
    program
      .command('failover')
      .description('fence, wait until the target has every write, switch writes to it; or --ungraceful: switch at once')
      .option('--to <region>', 'the region to take writes (default: the only secondary)', validName)
      .option('--ungraceful', 'the writer does not answer: switch at once, reporting what may be lost'),
  )
    .option('--reason <text>', 'why, for the record (up to 500 characters)', reason)
    .action((opts: { to?: string; ungraceful?: boolean; timeout: number; reason?: string }, cmd: Command) =>
      run(
        cmd,
        (g, out) =>
          runPlan(g.config, out, 'failover', (env, onProgress) =>
            failover(env, {
              ...(opts.to ? { to: opts.to } : {}),
              ...(opts.reason ? { reason: opts.reason } : {}),
              force: opts.ungraceful ?? false,
              timeoutMs: opts.timeout,
              onProgress,
            }),
          ),
        { json: true },
      ),
    );

  timeoutOption(
    program.command('failback').description('the graceful reverse: fence, drain, and move writes back to the primary'),
  )
    .option('--reason <text>', 'why, for the record (up to 500 characters)', reason)
    .action((opts: { timeout: number; reason?: string }, cmd: Command) =>
      run(
        cmd,
        (g, out) =>
          runPlan(g.config, out, 'failback', (env, onProgress) =>
            failback(env, {
              ...(opts.reason ? { reason: opts.reason } : {}),
              timeoutMs: opts.timeout,
              onProgress,
            }),
          ),
        { json: true },
      ),
    );
}
