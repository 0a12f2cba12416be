/**
 * @module `mraa conflicts`: the writes that lost a last-writer-wins conflict in any
 * region, for review. Exit 1 when no region answers (never "No conflicts" then), 3
 * when some do not (the list may miss theirs).
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import type { ConflictRecord } from '../replication/conflicts.js';
import { Deployment } from './deployment.js';
import { EXIT } from './exit-codes.js';
import { dim, red, stderrColors, table, yellow } from './format.js';
import { errorDocument, type Outcome, run } from './run.js';

function summary(v: unknown): string {
  const o = v as { version?: { epoch: number; region: string }; item?: unknown; deleteMarker?: boolean };
  const what = o.item === null || o.deleteMarker ? 'delete' : 'write';
  return o.version ? `${what} by ${o.version.region} @ epoch ${o.version.epoch}` : what;
}

export function registerConflictsCommand(program: Command): void {
  program
    .command('conflicts')
    .description('writes that lost a conflict (last writer wins), for review (--json: with both versions)')
    .action((_opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const dep = new Deployment(loadConfig(g.config));
          const answers = await dep.everyRegion((r) =>
            dep.api<{ conflicts: ConflictRecord[] }>(r, 'GET', '/replication/conflicts?limit=1000'),
          );
          const all = answers.flatMap((a) =>
            a.ok ? a.value!.conflicts.map((c) => ({ ...c, seenIn: a.region.name })) : [],
          );
          const down = answers.filter((x) => !x.ok);
          const regions = answers.map((a) => ({
            region: a.region.name,
            ok: a.ok,
            ...(a.error ? { error: a.error } : {}),
          }));
          if (down.length === answers.length) {
            // Nobody answered: that is not "no conflicts".
            const message = `No region answered: ${down.map((a) => `${a.region.name} (${a.error})`).join(', ')}.`;
            out.note(stderrColors.red(message));
            return { exit: EXIT.failed, json: errorDocument('unreachable', message, {}, { regions }) };
          }
          for (const a of down) out.line(red(`${a.region.name}: ${a.error}`));
          if (all.length === 0) out.line('No conflicts: no write has lost to another.');
          else {
            out.line(
              table(
                ['SEEN IN', 'WHEN', 'KIND', 'WHERE', 'KEY', 'LOST', 'WON'],
                all.map((c) => [
                  c.seenIn,
                  c.detectedAt,
                  c.kind,
                  c.name,
                  JSON.stringify(c.key).slice(0, 40),
                  summary(c.loser),
                  summary(c.winner),
                ]),
              ),
            );
            out.line(dim(`\n${all.length} conflict(s). The losing writes are kept in full: mraa conflicts --json`));
          }
          const attention = down.map((a) => `${a.region.name} did not answer: its conflicts are not listed`);
          for (const line of attention) out.line(yellow(`${line}.`));
          return {
            exit: attention.length ? EXIT.attention : EXIT.done,
            json: { conflicts: all, regions, attention },
          };
        },
        { json: true },
      ),
    );
}
