/**
 * @module `mraa state`, `mraa fence`, `mraa activate`: the routing layer's state as
 * every region sees it, and the transitions that need no drain.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { Deployment, type RegionAnswer, type RegionState } from './deployment.js';
import { dim, red, stateWord, table } from './format.js';
import { sendTransition } from './transition.js';
import { run, type GlobalOptions } from './run.js';

export function stateTable(answers: Array<RegionAnswer<RegionState>>): string {
  return table(
    ['REGION', 'ROLE', 'URL', 'STATE', 'WRITER', 'EPOCH', 'CHANGED'],
    answers.map((a) =>
      a.ok
        ? [a.region.name, a.region.role, a.region.url, stateWord(a.value!.state), a.value!.activeRegion, String(a.value!.epoch), a.value!.changedAt]
        : [a.region.name, a.region.role, a.region.url, red(a.reachable ? 'no state' : 'unreachable'), '-', '-', dim(a.error ?? '')],
    ),
  );
}

export function agreement(answers: Array<RegionAnswer<RegionState>>): string {
  const ok = answers.filter((a) => a.ok).map((a) => a.value!);
  if (ok.length === 0) return red('No region answered.');
  const epochs = new Set(ok.map((r) => r.epoch));
  const newest = ok.reduce((a, b) => (b.epoch > a.epoch ? b : a));
  const down = answers.filter((a) => !a.reachable).length;
  const unknown = answers.filter((a) => a.reachable && !a.ok).map((a) => a.region.name);
  const what = newest.state === 'fenced' ? `fenced (writes paused; writer was ${newest.activeRegion})` : `${newest.state}: ${newest.activeRegion} takes writes`;
  const head = epochs.size === 1 ? `All reachable regions agree: ${what}, epoch ${newest.epoch}.` : `Regions disagree; the newest is epoch ${newest.epoch}: ${what}.`;
  const notes = [
    ...(unknown.length ? [`${unknown.join(', ')} has no state record yet.`] : []),
    ...(down > 0 ? [`${down} region(s) unreachable.`] : []),
  ];
  return [head, ...notes].join(' ');
}

export function registerStateCommands(program: Command): void {
  program
    .command('state')
    .description('show the state as every region sees it')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) =>
      run(cmd, async (g: GlobalOptions) => {
        const dep = new Deployment(loadConfig(g.config));
        const answers = await dep.states();
        if (opts.json) return console.log(JSON.stringify(answers.map((a) => ({ region: a.region.name, ok: a.ok, state: a.value, error: a.error })), null, 2));
        console.log(stateTable(answers));
        console.log(`\n${agreement(answers)}`);
        if (!answers.some((a) => a.ok)) process.exitCode = 1;
      }),
    );

  program
    .command('fence')
    .description('stop writes in every region (reads go on, replication drains)')
    .option('--reason <text>', 'why, for the record')
    .action((opts: { reason?: string }, cmd: Command) =>
      run(cmd, async (g) => {
        const dep = new Deployment(loadConfig(g.config));
        const out = await sendTransition(dep, { state: 'fenced', reason: opts.reason ?? 'fenced by operator' });
        console.log(`Fenced at epoch ${out.record.epoch} (via ${out.via}). Writes are refused until "mraa activate" or a failover.\n`);
        console.log(stateTable(await dep.states()));
      }),
    );

  program
    .command('activate')
    .description('lift the fence: the fenced writer takes writes again, nothing moves')
    .option('--reason <text>', 'why, for the record')
    .action((opts: { reason?: string }, cmd: Command) =>
      run(cmd, async (g) => {
        const config = loadConfig(g.config);
        const dep = new Deployment(config);
        const { newest } = await dep.newestState();
        const primary = config.regions.find((r) => r.role === 'primary')!.name;
        const writer = newest?.activeRegion ?? primary;
        const out = await sendTransition(dep, {
          state: writer === primary ? 'active' : 'failover',
          activeRegion: writer,
          reason: opts.reason ?? 'activated by operator',
        });
        console.log(`${out.record.state === 'active' ? 'Active' : 'Failover'} at epoch ${out.record.epoch}: ${out.record.activeRegion} takes writes (via ${out.via}).\n`);
        console.log(stateTable(await dep.states()));
      }),
    );
}
