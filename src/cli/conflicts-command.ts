/**
 * @module `mraa conflicts`: the writes that lost a last-writer-wins conflict in any
 * region, for review.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import type { ConflictRecord } from '../replication/conflicts.js';
import { Deployment } from './deployment.js';
import { dim, red, table } from './format.js';
import { run } from './run.js';

function summary(v: unknown): string {
  const o = v as { version?: { epoch: number; region: string }; item?: unknown; deleteMarker?: boolean };
  const what = o.item === null || o.deleteMarker ? 'delete' : 'write';
  return o.version ? `${what} by ${o.version.region} @ epoch ${o.version.epoch}` : what;
}

export function registerConflictsCommand(program: Command): void {
  program
    .command('conflicts')
    .description('writes that lost a conflict (last writer wins), for review')
    .option('--json', 'print every conflict with both versions as JSON')
    .action((opts: { json?: boolean }, cmd: Command) =>
      run(cmd, async (g) => {
        const dep = new Deployment(loadConfig(g.config));
        const answers = await dep.everyRegion((r) =>
          dep.api<{ conflicts: ConflictRecord[] }>(r, 'GET', '/replication/conflicts?limit=1000'),
        );
        const all = answers.flatMap((a) =>
          a.ok ? a.value!.conflicts.map((c) => ({ ...c, seenIn: a.region.name })) : [],
        );
        if (opts.json) return console.log(JSON.stringify(all, null, 2));
        for (const a of answers.filter((x) => !x.ok)) console.log(red(`${a.region.name}: ${a.error}`));
        if (all.length === 0) return console.log('No conflicts: no write has lost to another.');
        console.log(
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
        console.log(dim(`\n${all.length} conflict(s). The losing writes are kept in full: mraa conflicts --json`));
      }),
    );
}
