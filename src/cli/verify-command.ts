/**
 * @module `mraa verify`: waits for replication to settle, then compares a digest of
 * every table and bucket across regions; names the keys that differ; exits 1 when
 * anything differs or a region cannot be checked.
 *
 * `--repair`: for each key that differs, asks every region which versions it holds,
 * has the region holding the newest (the writer when it does) log it again so that
 * replication carries it (src/replication/repair.ts), says what it re-shipped where,
 * waits for replication to settle and verifies again.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import type { DataDigest, KeyFingerprints } from '../replication/digest.js';
import {
  planRepair,
  REPAIR_MAX_KEYS,
  REPAIR_RELOG_PATH,
  REPAIR_VERSIONS_PATH,
  type RelogResult,
  type RepairKind,
  type Reship,
  type VersionRef,
} from '../replication/repair.js';
import { compareDigests, compareKeys, type DigestRow, type KeyDifference } from '../replication/verify.js';
import { Deployment, type RegionAnswer } from './deployment.js';
import { EXIT } from './exit-codes.js';
import { dim, formatMs, green, red, table, yellow } from './format.js';
import { secondsOption } from './options.js';
import { errorDocument, type Outcome, type Output, run } from './run.js';
import type { RegionStatus } from './status-command.js';

const SHOWN_KEYS = 20;
const MAX_WAIT_S = 86_400;

async function waitSettled(dep: Deployment, timeoutMs: number, quiet: boolean): Promise<boolean> {
  const start = Date.now();
  let lastLine = '';
  while (Date.now() - start < timeoutMs) {
    const answers = await dep.everyRegion((r) => dep.api<RegionStatus>(r, 'GET', '/status', undefined, 3000));
    const up = answers.filter((a) => a.ok).map((a) => a.value!);
    // A link that needs a rebuild ships nothing until then: waiting would not settle it.
    const pending = up.reduce(
      (n, s) => n + s.peers.reduce((m, p) => m + (p.state?.kind === 'needs-rebuild' ? 0 : p.backlog.entries), 0),
      0,
    );
    // Objects applied but for their body, which travels beside the log.
    const bodies = up.reduce(
      (n, s) =>
        n +
        s.origins.reduce((m, o) => m + (o.state?.kind === 'needs-rebuild' ? 0 : (o.waitingForBodies?.entries ?? 0)), 0),
      0,
    );
    if (answers.every((a) => a.ok) && pending === 0 && bodies === 0) {
      if (lastLine) process.stderr.write('\n');
      return true;
    }
    if (quiet) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const line = `waiting for replication to settle: ${pending} entries to ship, ${bodies} object bodies on their way${answers.some((a) => !a.ok) ? ', a region is down' : ''} (${formatMs(Date.now() - start)})`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    else if (line.split('(')[0] !== lastLine.split('(')[0]) process.stderr.write(`${line}\n`);
    lastLine = line;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (lastLine) process.stderr.write('\n');
  return false;
}

interface Difference {
  kind: RepairKind;
  name: string;
  keys: KeyDifference[];
}

interface Comparison {
  regions: string[];
  rows: DigestRow[];
  differences: Difference[];
  down: Array<RegionAnswer<unknown>>;
}

/** Every region's digest, compared; the keys of each table or bucket that differs. */
async function compare(dep: Deployment, out: Output): Promise<Comparison> {
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
          r.perRegion[reg] ? `${r.perRegion[reg]!.count} ${dim(r.perRegion[reg]!.digest.slice(0, 12))}` : red('none'),
        ),
        r.same ? green('same') : red('DIFFERENT'),
      ]),
    ),
  );
  const differences: Difference[] = [];
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
    const diffs = compareKeys(Object.fromEntries(keys.filter((k) => k.ok).map((k) => [k.region.name, k.value!.keys])));
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
  if (down.length > 0)
    out.line(red(`\nCould not check ${down.map((d) => `${d.region.name} (${d.error})`).join(', ')}.`));
  return { regions, rows, differences, down };
}

interface RepairReport {
  kind: RepairKind;
  name: string;
  reshipped: Array<Reship & { result: 'logged again' | string }>;
  unrepairable: Array<{ key: string; why: string }>;
}

/** Plans and runs the re-shipping of every key that differs; says what it changed. */
async function repair(dep: Deployment, out: Output, differences: Difference[]): Promise<RepairReport[]> {
  const statuses = await dep.everyRegion((r) => dep.api<RegionStatus>(r, 'GET', '/status', undefined, 3000));
  const writer = statuses.find((a) => a.ok && a.value!.writer)?.region.name;
  const reports: RepairReport[] = [];
  for (const diff of differences) {
    const keys = diff.keys.map((k) => k.key);
    const perRegion: Record<string, Record<string, VersionRef[]>> = {};
    const answers = await dep.everyRegion(async (r) => {
      const versions: Record<string, VersionRef[]> = {};
      for (let i = 0; i < keys.length; i += REPAIR_MAX_KEYS) {
        const res = await dep.peer.call<{ versions: Record<string, VersionRef[]> }>(
          r.url,
          'POST',
          REPAIR_VERSIONS_PATH,
          { kind: diff.kind, name: diff.name, keys: keys.slice(i, i + REPAIR_MAX_KEYS) },
          { timeoutMs: 60_000 },
        );
        Object.assign(versions, res.versions);
      }
      return versions;
    });
    for (const a of answers) if (a.ok) perRegion[a.region.name] = a.value!;
    const plan = planRepair(diff.kind, perRegion, keys, writer);
    const report: RepairReport = { kind: diff.kind, name: diff.name, reshipped: [], unrepairable: plan.unrepairable };
    const bySource = new Map<string, Reship[]>();
    for (const r of plan.reships) bySource.set(r.from, [...(bySource.get(r.from) ?? []), r]);
    for (const [from, reships] of bySource) {
      for (let i = 0; i < reships.length; i += REPAIR_MAX_KEYS) {
        const chunk = reships.slice(i, i + REPAIR_MAX_KEYS);
        const skipped = new Map<string, string>();
        try {
          const res = await dep.peer.call<RelogResult>(
            dep.region(from).url,
            'POST',
            REPAIR_RELOG_PATH,
            {
              kind: diff.kind,
              name: diff.name,
              versions: chunk.map((r) => ({ key: r.key, versionId: r.versionId, version: r.version })),
            },
            { timeoutMs: 60_000 },
          );
          for (const s of res.skipped) skipped.set(`${s.key}\u0000${s.versionId}`, s.why);
        } catch (err) {
          for (const r of chunk) skipped.set(`${r.key}\u0000${r.versionId}`, (err as Error).message);
        }
        for (const r of chunk)
          report.reshipped.push({ ...r, result: skipped.get(`${r.key}\u0000${r.versionId}`) ?? 'logged again' });
      }
    }
    reports.push(report);
    out.line(`\nrepair of ${diff.kind} ${diff.name}:`);
    out.line(
      table(
        ['KEY', 'VERSION', 'FROM', 'TO', 'RESULT'],
        report.reshipped
          .slice(0, SHOWN_KEYS)
          .map((r) => [
            JSON.stringify(r.key).slice(0, 40) + (r.versionId ? dim(` ${r.versionId.slice(0, 12)}`) : ''),
            `${r.deleted ? 'deleted ' : ''}${r.version.epoch}/${r.version.hlc}/${r.version.region}`,
            r.from,
            r.to.join(', '),
            r.result === 'logged again' ? green('re-shipped') : red(r.result),
          ]),
      ),
    );
    if (report.reshipped.length > SHOWN_KEYS) out.line(dim(`... and ${report.reshipped.length - SHOWN_KEYS} more`));
    for (const u of report.unrepairable) out.line(red(`${JSON.stringify(u.key)}: ${u.why}`));
  }
  return reports;
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
    .option(
      '--repair',
      're-ship the newest version of each key that differs from the region holding it (the writer when it does), then verify again',
    )
    .action((opts: { wait: number; repair?: boolean }, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const dep = new Deployment(loadConfig(g.config));
          const settled = opts.wait > 0 ? await waitSettled(dep, opts.wait, out.json) : null;
          if (settled === false)
            out.line(yellow('Replication did not settle; comparing anyway: differences may be in flight.'));
          let result = await compare(dep, out);
          let repaired: RepairReport[] | undefined;
          const before = result.differences.map((d) => ({ kind: d.kind, name: d.name, keys: d.keys.length }));
          if (opts.repair && result.differences.length > 0) {
            repaired = await repair(dep, out, result.differences);
            const n = repaired.reduce((m, r) => m + r.reshipped.filter((x) => x.result === 'logged again').length, 0);
            out.line(`\nRe-shipped ${n} version(s); waiting for replication, then verifying again.\n`);
            await waitSettled(dep, Math.max(opts.wait, 30_000), out.json);
            result = await compare(dep, out);
          }
          const { regions, rows, differences, down } = result;
          const different = differences.length;
          const doc = {
            settled,
            regions,
            tables: rows,
            differences,
            ...(repaired ? { repair: { before, reports: repaired } } : {}),
            unreachable: down.map((d) => ({ region: d.region.name, error: d.error })),
          };
          if (different === 0 && down.length === 0) {
            out.line(
              green(
                `\nVerified${repaired ? ' after the repair' : ''}: ${rows.length} tables and buckets are identical in ${regions.length} regions.`,
              ),
            );
            return { exit: EXIT.done, json: { ...doc, identical: true } };
          }
          if (different > 0) out.line(red(`\n${different} table(s)/bucket(s) differ.`));
          if (different > 0 && !opts.repair) out.line(dim('mraa verify --repair re-ships the newest version of each.'));
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
