/**
 * @module `mraa verify`: waits for replication to settle, then compares a digest of
 * every table and bucket across regions; names the keys that differ; exits 1 when
 * anything differs or a region cannot be checked.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import type { DataDigest, KeyFingerprints } from '../replication/digest.js';
import { compareDigests, compareKeys } from '../replication/verify.js';
import { Deployment } from './deployment.js';
import { EXIT } from './exit-codes.js';
import { dim, formatMs, green, red, table, yellow } from './format.js';
import { secondsOption } from './options.js';
import { errorDocument, type Outcome, run } from './run.js';
import type { RegionStatus } from './status-command.js';

const SHOWN_KEYS = 20;
const MAX_WAIT_S = 86_400;

async function waitSettled(dep: Deployment, timeoutMs: number, quiet: boolean): Promise<boolean> {
  const start = Date.now();
  let lastLine = '';
  while (Date.now() - start < timeoutMs) {
    const answers = await dep.everyRegion((r) => dep.api<RegionStatus>(r, 'GET', '/status', undefined, 3000));
    const pending = answers
      .filter((a) => a.ok)
      // A link that needs a rebuild ships nothing until then: waiting would not settle it.
      .reduce(
        (n, a) =>
          n + a.value!.peers.reduce((m, p) => m + (p.state?.kind === 'needs-rebuild' ? 0 : p.backlog.entries), 0),
        0,
      );
    if (answers.every((a) => a.ok) && pending === 0) {
      if (lastLine) process.stderr.write('\n');
      return true;
    }
    if (quiet) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const line = `waiting for replication to settle: ${pending} entries to ship${answers.some((a) => !a.ok) ? ', a region is down' : ''} (${formatMs(Date.now() - start)})`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    else if (line.split('(')[0] !== lastLine.split('(')[0]) process.stderr.write(`${line}\n`);
    lastLine = line;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (lastLine) process.stderr.write('\n');
  return false;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description("compare every region's data digest and list the differences (exit 1 on any, or a region down)")
    .addOption(
      secondsOption(
        '--wait <seconds>',
        `wait at most this long for replication to settle first, 0 to ${MAX_WAIT_S} (0: do not wait)`,
        MAX_WAIT_S,
        30,
        { zero: true },
      ),
    )
    .action((opts: { wait: number }, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const dep = new Deployment(loadConfig(g.config));
          const settled = opts.wait > 0 ? await waitSettled(dep, opts.wait, out.json) : null;
          if (settled === false)
            out.line(yellow('Replication did not settle; comparing anyway: differences may be in flight.'));
          const answers = await dep.everyRegion((r) =>
            dep.peer.call<DataDigest & { region: string }>(r.url, 'GET', '/internal/digest', undefined, {
              timeoutMs: 60_000,
            }),
          );
          const down = answers.filter((a) => !a.ok);
          const digests = Object.fromEntries(answers.filter((a) => a.ok).map((a) => [a.region.name, a.value!]));
          const regions = Object.keys(digests);
          const rows = compareDigests(digests);
          out.line(
            table(
              ['KIND', 'NAME', ...regions, 'RESULT'],
              rows.map((r) => [
                r.kind,
                r.name,
                ...regions.map((reg) =>
                  r.perRegion[reg]
                    ? `${r.perRegion[reg]!.count} ${dim(r.perRegion[reg]!.digest.slice(0, 12))}`
                    : red('none'),
                ),
                r.same ? green('same') : red('DIFFERENT'),
              ]),
            ),
          );
          const differences: Array<{ kind: string; name: string; keys: ReturnType<typeof compareKeys> }> = [];
          for (const row of rows.filter((r) => !r.same)) {
            const keys = await dep.everyRegion((r) =>
              dep.peer.call<{ keys: KeyFingerprints }>(
                r.url,
                'GET',
                `/internal/digest/${row.kind}/${encodeURIComponent(row.name)}`,
                undefined,
                { timeoutMs: 60_000 },
              ),
            );
            const diffs = compareKeys(
              Object.fromEntries(keys.filter((k) => k.ok).map((k) => [k.region.name, k.value!.keys])),
            );
            differences.push({ kind: row.kind, name: row.name, keys: diffs });
            out.line(`\n${row.kind} ${row.name}: ${diffs.length} key(s) differ`);
            out.line(
              table(
                ['KEY', ...regions],
                diffs
                  .slice(0, SHOWN_KEYS)
                  .map((d) => [
                    JSON.stringify(d.key).slice(0, 60),
                    ...regions.map((reg) => d.perRegion[reg] ?? red('missing')),
                  ]),
              ),
            );
            if (diffs.length > SHOWN_KEYS) out.line(dim(`... and ${diffs.length - SHOWN_KEYS} more`));
          }
          const different = differences.length;
          const doc = {
            settled,
            regions,
            tables: rows,
            differences,
            unreachable: down.map((d) => ({ region: d.region.name, error: d.error })),
          };
          if (down.length > 0)
            out.line(red(`\nCould not check ${down.map((d) => `${d.region.name} (${d.error})`).join(', ')}.`));
          if (different === 0 && down.length === 0) {
            out.line(
              green(`\nVerified: ${rows.length} tables and buckets are identical in ${regions.length} regions.`),
            );
            return { exit: EXIT.done, json: { ...doc, identical: true } };
          }
          if (different > 0) out.line(red(`\n${different} table(s)/bucket(s) differ.`));
          const message =
            different > 0
              ? `${different} table(s)/bucket(s) differ: ${differences.map((d) => `${d.kind} ${d.name}`).join(', ')}.`
              : `Could not check ${down.map((d) => d.region.name).join(', ')}.`;
          return {
            exit: EXIT.failed,
            json: errorDocument(different > 0 ? 'different' : 'unreachable', message, {}, { ...doc, identical: false }),
          };
        },
        { json: true },
      ),
    );
}
