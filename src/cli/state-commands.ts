/**
 * @module `mraa state`, `mraa fence`, `mraa activate`: the routing layer's state as
 * every region sees it, and the transitions that need no drain.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { Deployment, type RegionAnswer, type RegionState } from './deployment.js';
import { dim, red, stateWord, table } from './format.js';
import { type GlobalOptions, run } from './run.js';

export function stateTable(answers: Array<RegionAnswer<RegionState>>): string {
  return table(
    ['REGION', 'ROLE', 'URL', 'STATE', 'WRITER', 'EPOCH', 'CHANGED'],
    answers.map((a) =>
      a.ok
        ? [
            a.region.name,
            a.region.role,
            a.region.url,
            stateWord(a.value!.state),
            a.value!.activeRegion,
            String(a.value!.epoch),
            a.value!.changedAt,
          ]
        : [
            a.region.name,
            a.region.role,
            a.region.url,
            red(a.reachable ? 'no state' : 'unreachable'),
            '-',
            '-',
            dim(a.error ?? ''),
          ],
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
  const what =
    newest.state === 'fenced'
      ? `fenced (writes paused; writer was ${newest.activeRegion})`
      : `${newest.state}: ${newest.activeRegion} takes writes`;
  const head =
    epochs.size === 1
      ? `All reachable regions agree: ${what}, epoch ${newest.epoch}.`
      : `Regions disagree; the newest is epoch ${newest.epoch}: ${what}.`;
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
        if (opts.json)
          return console.log(
            JSON.stringify(
              answers.map((a) => ({ region: a.region.name, ok: a.ok, state: a.value, error: a.error })),
              null,
              2,
            ),
          );
        console.log(stateTable(answers));
        console.log(`\n${agreement(answers)}`);
        if (!answers.some((a) => a.ok)) process.exitCode = 1;
      }),
    );
}

/** Wait (up to a few seconds) until every region that answers reports `epoch` or newer. */
export async function waitUntilSeen(dep: Deployment, epoch: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answers = await dep.states();
    if (answers.filter((a) => a.reachable).every((a) => a.ok && a.value!.epoch >= epoch)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}
