/**
 * @module `mraa voters list` and `mraa voters replace`: the embedded control plane's
 * voter set. `replace` is the break-glass of DESIGN §3a, for the day a site is gone for
 * good and a majority of voters can no longer be reached: after the operator types the
 * app's name, it writes a fenced record one epoch above the newest any voter or region
 * knows into a majority of the new voter set (as the operator, over the signed voter
 * endpoint), then writes the new voter set to the configuration. Regions and witnesses
 * read the voter set at start: the operator copies the file to every host, restarts
 * them, and lifts the fence (`mraa activate`) or moves writes (`mraa failover --to R`).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { type Config, type LoadedConfig, loadConfig, voterAddresses } from '../config/config.js';
import type { StateRecord } from '../core/app-state.js';
import { HttpVoterLink } from '../peers/voter-link.js';
import { majorityOf } from '../ports/control-plane.js';
import type { Accepted, VoterReply } from '../ports/voter-protocol.js';
import { Deployment, OPERATOR } from './deployment.js';
import { CliError, EXIT } from './exit-codes.js';
import { bold, dim, green, red, stderrColors, table, yellow } from './format.js';
import { errorDocument, type Outcome, run } from './run.js';

interface VoterView {
  name: string;
  url: string;
  reachable: boolean;
  accepted: Accepted | null;
  lease: string;
  error?: string;
}

async function lookAtVoters(dep: Deployment, voters: Array<{ name: string; url: string }>): Promise<VoterView[]> {
  const appId = dep.config.appId;
  return Promise.all(
    voters.map(async (v): Promise<VoterView> => {
      try {
        const reply = (await new HttpVoterLink(v.name, v.url, dep.peer).send(
          { op: 'status', appId },
          3000,
        )) as VoterReply;
        if (!reply.ok || reply.op !== 'status') throw new Error('unexpected answer');
        return {
          ...v,
          reachable: true,
          accepted: reply.accepted,
          lease: reply.lease ? `${reply.lease.holder}, epoch ${reply.lease.epoch}` : '',
        };
      } catch (err) {
        return { ...v, reachable: false, accepted: null, lease: '', error: (err as Error).message };
      }
    }),
  );
}

function votersTable(views: VoterView[]): string {
  return table(
    ['VOTER', 'URL', 'REACHABLE', 'ACCEPTED', 'LEASE GRANTED'],
    views.map((v) => {
      const r = v.accepted?.value.record;
      return [
        v.name,
        v.url,
        v.reachable ? green('yes') : red('no'),
        r ? `${r.state} ${r.activeRegion}, epoch ${r.epoch}` : dim(v.reachable ? 'nothing yet' : '-'),
        v.lease || dim(v.reachable ? 'none' : (v.error?.slice(0, 50) ?? '')),
      ];
    }),
  );
}

/** The voter set after removing `remove` and adding `witnesses`; the regions removed stop voting. */
export function replacedVoterSet(
  config: Config,
  change: { remove: string[]; addWitnesses: Array<{ name: string; url: string }> },
): Config['controlPlane'] {
  const cp = config.controlPlane;
  const known = new Set(voterAddresses(config).map((v) => v.name));
  for (const name of change.remove) if (!known.has(name)) throw new CliError('usage', `"${name}" is not a voter`);
  for (const w of change.addWitnesses) {
    if (known.has(w.name) && !change.remove.includes(w.name))
      throw new CliError('usage', `"${w.name}" is a voter already`);
  }
  const regionNames = new Set(config.regions.map((r) => r.name));
  return {
    ...cp,
    witnesses: [...cp.witnesses.filter((w) => !change.remove.includes(w.name)), ...change.addWitnesses],
    nonVoting: [...new Set([...cp.nonVoting, ...change.remove.filter((n) => regionNames.has(n))])],
  };
}

function parseWitness(value: string, previous: Array<{ name: string; url: string }> = []) {
  const m = /^([a-z0-9][a-z0-9-]{0,62})=(https?:\/\/.+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('Expected NAME=URL (a name of lower-case letters, digits and dashes).');
  return [...previous, { name: m[1]!, url: m[2]! }];
}

async function confirm(expected: string, given: string | undefined): Promise<boolean> {
  if (given !== undefined) return given === expected;
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`Type the application's name (${bold(expected)}) to go on: `)).trim() === expected;
  } finally {
    rl.close();
  }
}

async function replaceVoters(
  config: LoadedConfig,
  opts: { remove: string[]; addWitness: Array<{ name: string; url: string }>; confirm?: string },
): Promise<void> {
  if (config.controlPlane.kind !== 'voters') {
    throw new CliError(
      'usage',
      'the control plane is etcd: replace its members with etcd itself (etcdctl member remove/add)',
    );
  }
  const dep = new Deployment(config);
  const before = voterAddresses(config);
  const nextPlane = replacedVoterSet(config, { remove: opts.remove, addWitnesses: opts.addWitness });
  const nextConfig: Config = { ...config, controlPlane: nextPlane };
  const after = voterAddresses(nextConfig);
  if (after.length < 1) throw new CliError('usage', 'the new voter set would be empty');

  const everyone = [...new Map([...before, ...after].map((v) => [v.name, v])).values()];
  const views = await lookAtVoters(dep, everyone);
  console.log(bold('The voters now:'));
  console.log(votersTable(views.filter((v) => before.some((b) => b.name === v.name))));
  const reachableBefore = views.filter((v) => v.reachable && before.some((b) => b.name === v.name)).length;
  if (reachableBefore >= majorityOf(before.length)) {
    console.log(
      yellow(
        `\n${reachableBefore} of ${before.length} current voters answer: a majority. The control plane works; ` +
          'replacing voters now still fences the application and needs every region restarted.',
      ),
    );
  }

  // The newest record anyone knows: every voter's accepted value and every region's view.
  const states = await dep.states();
  const records: StateRecord[] = [
    ...views.flatMap((v) => (v.accepted ? [v.accepted.value.record] : [])),
    ...states.flatMap((s) => (s.value ? [s.value] : [])),
  ];
  const newest = records.reduce<StateRecord | undefined>((a, b) => (!a || b.epoch > a.epoch ? b : a), undefined);
  if (!newest) {
    throw new CliError('no_record', 'no voter and no region knows a state record: nothing to carry over', EXIT.failed);
  }
  const seeded: StateRecord = {
    appId: config.appId,
    state: 'fenced',
    activeRegion: newest.activeRegion,
    epoch: newest.epoch + 1,
    changedAt: new Date().toISOString(),
    reason: `voters replaced by the operator (was ${newest.state} ${newest.activeRegion}, epoch ${newest.epoch})`,
  };
  const ballotN = Math.max(0, ...views.map((v) => v.accepted?.ballot.n ?? 0)) + 1_000_000;

  console.log(`\n${bold('The voters after:')} ${after.map((v) => v.name).join(', ')}`);
  console.log(
    `The application will be ${bold('fenced')} at epoch ${seeded.epoch} (writes paused), the writer of the newest known ` +
      `record (${newest.state} ${newest.activeRegion}, epoch ${newest.epoch}) kept as the fenced writer.`,
  );
  console.log(
    red(
      '\nBreak-glass: use it only when the voters you remove are gone for good. If a removed voter comes back with ' +
        'the old configuration, or a region keeps running on it, it may still reach a majority of the OLD set.',
    ),
  );
  if (!(await confirm(config.appId, opts.confirm))) {
    console.error(stderrColors.red('Not confirmed: nothing was changed.'));
    process.exitCode = 1;
    return;
  }

  const newViews = views.filter((v) => after.some((a) => a.name === v.name));
  const results = await Promise.all(
    newViews.map(async (v) => {
      try {
        const reply = (await new HttpVoterLink(v.name, v.url, dep.peer).send(
          {
            op: 'seed',
            appId: config.appId,
            ballot: { n: ballotN, by: OPERATOR },
            value: { record: seeded, changeId: `voters-replaced-${Date.now()}` },
          },
          5000,
        )) as VoterReply;
        return { name: v.name, ok: reply.ok };
      } catch (err) {
        return { name: v.name, ok: false, error: (err as Error).message };
      }
    }),
  );
  const seededCount = results.filter((r) => r.ok).length;
  for (const r of results)
    console.log(`  ${r.name}: ${r.ok ? green('record written') : red(`failed ${r.error ?? ''}`)}`);
  if (seededCount < majorityOf(after.length)) {
    console.error(
      stderrColors.red(
        `\nOnly ${seededCount} of ${after.length} new voters took the record (${majorityOf(after.length)} needed): ` +
          'the configuration was not changed. Bring the new voters up (mraa witness --name NAME on its host) and run this again.',
      ),
    );
    process.exitCode = 1;
    return;
  }
  const backup = `${config.file}.before-voters-replace-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  copyFileSync(config.file, backup);
  const { file: _file, dataRoot: _dataRoot, ...plain } = nextConfig as LoadedConfig;
  // Secrets stay as the file had them ({"env"} and {"file"} sources are not written out as values).
  plain.secrets = (JSON.parse(readFileSync(config.file, 'utf8')) as { secrets: typeof plain.secrets }).secrets;
  writeFileSync(config.file, `${JSON.stringify(plain, null, 2)}\n`, { mode: 0o600 });
  console.log(green(`\nWrote the new voter set to ${config.file} (the old file: ${backup}).`));
  console.log(
    [
      'Next:',
      '  1. Copy this configuration to every host (regions, witnesses, edge).',
      '  2. Restart every region (mraa region --region NAME) and witness (mraa witness --name NAME).',
      '  3. Check with mraa status that every region reads the state (quorum), then lift the fence',
      '     (mraa activate) or move writes (mraa failover --to REGION).',
    ].join('\n'),
  );
}

export function registerVotersCommand(program: Command): void {
  const voters = program.command('voters').description("the control plane's voters (embedded voters only)");
  voters
    .command('list')
    .description('every voter: reachable or not, the record it accepted, the lease it granted')
    .action((_opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const config = loadConfig(g.config);
          if (config.controlPlane.kind !== 'voters') {
            const endpoints = config.controlPlane.etcd?.endpoints ?? [];
            out.line(`The control plane is etcd: ${endpoints.join(', ')}`);
            return { exit: EXIT.done, json: { kind: 'etcd', endpoints } };
          }
          const views = await lookAtVoters(new Deployment(config), voterAddresses(config));
          out.line(votersTable(views));
          const up = views.filter((v) => v.reachable).length;
          const needed = majorityOf(views.length);
          const doc = { kind: 'voters', voters: views, reachable: up, needed };
          if (up < needed) {
            const message = `Only ${up} of ${views.length} voters answer; ${needed} are needed: writes are paused.`;
            out.line(red(`\n${message}`));
            return { exit: EXIT.failed, json: errorDocument('no_quorum', message, {}, doc) };
          }
          out.line(green(`\n${up} of ${views.length} voters answer; ${needed} make a majority.`));
          const attention = views.filter((v) => !v.reachable).map((v) => `voter ${v.name} is unreachable`);
          if (attention.length) out.line(yellow(`Attention: ${attention.join('; ')}.`));
          return { exit: attention.length ? EXIT.attention : EXIT.done, json: { ...doc, attention } };
        },
        { json: true },
      ),
    );
  voters
    .command('replace')
    .description('break-glass: replace the voter set when a majority is gone for good (asks for confirmation)')
    .option('--remove <name...>', 'voters to remove (a region removed keeps running but stops voting)', [])
    .option('--add-witness <name=url>', 'a new witness voter (repeat for several)', parseWitness, [])
    .option('--confirm <app>', "the application's name, instead of typing it at the prompt")
    .action(
      (opts: { remove: string[]; addWitness: Array<{ name: string; url: string }>; confirm?: string }, cmd: Command) =>
        run(cmd, async (g) => replaceVoters(loadConfig(g.config), opts)),
    );
}
