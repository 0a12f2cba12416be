/**
 * @module `mraa state`: the routing layer's state as every region sees it, whether they
 * agree (exit 3 when they do not, or some do not answer; 1 when none answers).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { Deployment, type RegionAnswer, type RegionState } from './deployment.js';
import { EXIT } from './exit-codes.js';
import { dim, red, stateWord, table } from './format.js';
import { errorDocument, type GlobalOptions, type Outcome, type Output, run } from './run.js';

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

/** What the regions' answers say together: the newest record, whether they agree, who did not answer. */
export function agreementOf(answers: Array<RegionAnswer<RegionState>>) {
  const ok = answers.filter((a) => a.ok).map((a) => a.value!);
  const newest = ok.length ? ok.reduce((a, b) => (b.epoch > a.epoch ? b : a)) : null;
  const unreachable = answers.filter((a) => !a.reachable).map((a) => a.region.name);
  const noRecord = answers.filter((a) => a.reachable && !a.ok).map((a) => a.region.name);
  const agree = new Set(ok.map((r) => r.epoch)).size <= 1;
  const attention = [
    ...(ok.length && !agree ? [`regions disagree; the newest is epoch ${newest!.epoch}`] : []),
    ...noRecord.map((n) => `${n} has no state record yet`),
    ...unreachable.map((n) => `${n} is unreachable`),
  ];
  return { answered: ok.length, agree, newest, unreachable, noRecord, attention };
}

export function agreement(answers: Array<RegionAnswer<RegionState>>): string {
  const { newest, agree, unreachable, noRecord } = agreementOf(answers);
  if (!newest) return red('No region answered.');
  const what =
    newest.state === 'fenced'
      ? `fenced (writes paused; writer was ${newest.activeRegion})`
      : `${newest.state}: ${newest.activeRegion} takes writes`;
  const head = agree
    ? `All reachable regions agree: ${what}, epoch ${newest.epoch}.`
    : `Regions disagree; the newest is epoch ${newest.epoch}: ${what}.`;
  const notes = [
    ...(noRecord.length ? [`${noRecord.join(', ')} has no state record yet.`] : []),
    ...(unreachable.length > 0 ? [`${unreachable.length} region(s) unreachable.`] : []),
  ];
  return [head, ...notes].join(' ');
}

/** `mraa state --json`, and the regions after a plan. */
export function stateDocument(answers: Array<RegionAnswer<RegionState>>) {
  const { agree, newest, attention } = agreementOf(answers);
  return {
    regions: answers.map((a) => ({
      region: a.region.name,
      role: a.region.role,
      url: a.region.url,
      ok: a.ok,
      reachable: a.reachable,
      state: a.value ?? null,
      ...(a.error ? { error: a.error } : {}),
    })),
    agree,
    newest,
    attention,
  };
}

export function registerStateCommands(program: Command): void {
  program
    .command('state')
    .description('show the state as every region sees it (exit 3 when regions disagree or some do not answer)')
    .action((_opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g: GlobalOptions, out: Output): Promise<Outcome> => {
          const dep = new Deployment(loadConfig(g.config));
          const answers = await dep.states();
          const doc = stateDocument(answers);
          out.line(stateTable(answers));
          out.line(`\n${agreement(answers)}`);
          if (!doc.newest) {
            const message = `No region answered: ${answers.map((a) => `${a.region.name} (${a.error})`).join(', ')}.`;
            return { exit: EXIT.failed, json: errorDocument('unreachable', message, {}, doc) };
          }
          return { exit: doc.attention.length ? EXIT.attention : EXIT.done, json: doc };
        },
        { json: true },
      ),
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
