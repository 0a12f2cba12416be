/**
 * @module `mraa status`: every region's health, state and epoch, and replication per
 * link (backlog, lag, last acknowledgement, connected), as tables read at a glance.
 * Exit 0 when healthy, 3 when its last line says "Attention", 1 when no region answers.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import type { StateRecord } from '../core/app-state.js';
import type { ControlPlaneView } from '../region/control-plane-status.js';
import type { OriginFigures } from '../replication/replicator.js';
import type { PeerFigures } from '../replication/shipper.js';
import { Deployment, type RegionAnswer } from './deployment.js';
import { EXIT } from './exit-codes.js';
import { bold, dim, formatBytes, formatMs, green, red, stateWord, table, yellow } from './format.js';
import { errorDocument, type Outcome, run } from './run.js';

export interface RegionStatus {
  region: string;
  appId: string;
  state: StateRecord | null;
  writer: boolean;
  log: {
    head: number;
    tail: number;
    entries: number;
    /** The current log id, and why it was started (`created`, or after a restore...). */
    logId?: string;
    logStartedAt?: string;
    logStartedBecause?: string;
  };
  peers: PeerFigures[];
  origins: OriginFigures[];
  conflicts: number;
  controlPlane?: ControlPlaneView;
}

/** Each voter: which regions reach it, and the lease it has granted. */
function votersTable(answers: Array<RegionAnswer<RegionStatus>>, problems: string[]): string {
  const voters = new Map<string, { reachedFrom: string[]; missedFrom: string[]; lease: string }>();
  for (const a of answers) {
    for (const v of a.value?.controlPlane?.voters ?? []) {
      const row = voters.get(v.name) ?? { reachedFrom: [], missedFrom: [], lease: '' };
      (v.reachable ? row.reachedFrom : row.missedFrom).push(a.region.name);
      if (v.lease) row.lease = `${v.lease.holder}, epoch ${v.lease.epoch}, ${formatMs(v.lease.remainingMs)} left`;
      voters.set(v.name, row);
    }
  }
  for (const a of answers) {
    const cp = a.value?.controlPlane;
    if (cp && !cp.quorum) problems.push(`${a.region.name} cannot reach a majority of voters: its writes are paused`);
  }
  for (const [name, row] of voters) {
    if (row.reachedFrom.length === 0) problems.push(`voter ${name} is unreachable`);
  }
  return table(
    ['VOTER', 'REACHED FROM', 'NOT FROM', 'LEASE GRANTED'],
    [...voters].map(([name, row]) => [
      name,
      row.reachedFrom.join(', ') || red('nobody'),
      row.missedFrom.length ? yellow(row.missedFrom.join(', ')) : '-',
      row.lease || dim('none'),
    ]),
  );
}

/** The writer's own view of its lease. */
function leaseLine(answers: Array<RegionAnswer<RegionStatus>>): string {
  for (const a of answers) {
    const cp = a.value?.controlPlane;
    if (cp?.lease) {
      return `Writer lease: ${bold(cp.lease.holder)} at epoch ${cp.lease.epoch}, ${formatMs(cp.lease.remainingMs)} left of ${formatMs(cp.leaseMs)} (renewed ${Math.round(cp.leaseMs / 4)} ms apart).`;
    }
  }
  const writer = answers.find((a) => a.value?.writer);
  const why = writer?.value?.controlPlane?.leaseError;
  return yellow(
    `Writer lease: held by no region${why ? ` (${writer?.region.name}: ${why})` : ''}; no region admits writes.`,
  );
}

function ago(iso: string | null): string {
  if (!iso) return 'never';
  return `${formatMs(Date.now() - Date.parse(iso))} ago`;
}

export function statusReport(answers: Array<RegionAnswer<RegionStatus>>): {
  text: string;
  healthy: boolean;
  problems: string[];
} {
  const regions = table(
    ['REGION', 'ROLE', 'HEALTH', 'STATE', 'WRITER', 'EPOCH', 'LOG', 'CONFLICTS'],
    answers.map((a) => {
      if (!a.ok) return [a.region.name, a.region.role, red('down'), '-', '-', '-', dim(a.error ?? ''), '-'];
      const s = a.value!;
      return [
        a.region.name,
        a.region.role,
        green('up'),
        stateWord(s.state?.state),
        s.state ? `${s.state.activeRegion}${s.writer ? ' (this one)' : ''}` : '-',
        String(s.state?.epoch ?? '-'),
        `head ${s.log.head}, ${s.log.entries} kept`,
        s.conflicts > 0 ? yellow(String(s.conflicts)) : '0',
      ];
    }),
  );
  const links: string[][] = [];
  const problems: string[] = [];
  /** What an operator should know that is not a problem in itself (a new log id, a lost tail kept by a peer). */
  const notes: string[] = [];
  for (const a of answers) {
    if (!a.ok) {
      problems.push(`${a.region.name} is down`);
      continue;
    }
    const log = a.value!.log;
    if (log.logStartedBecause && log.logStartedBecause !== 'created') {
      notes.push(
        `${a.region.name} started log id ${log.logId?.slice(0, 8)} at ${log.logStartedAt}: ${log.logStartedBecause.replace(/^[a-z-]+: /, '')}`,
      );
    }
    for (const o of a.value!.origins) {
      // From servers older than issue 12, no state.
      if (o.state?.kind === 'refused')
        problems.push(`${a.region.name} refuses batches from ${o.name}: ${o.state.message}`);
      if (o.state?.kind === 'needs-rebuild') notes.push(`${a.region.name} hears from ${o.name}: ${o.state.message}`);
    }
    for (const p of a.value!.peers) {
      if (p.notice) notes.push(p.notice);
      if (p.state?.kind === 'needs-rebuild') {
        links.push([
          `${a.region.name} → ${p.name}`,
          p.connected ? green('yes') : red('no'),
          red('rebuild needed'),
          '-',
          ago(p.lastAckAt),
          '',
        ]);
        problems.push(p.state.message);
        continue;
      }
      if (p.state?.kind === 'refused') problems.push(`${a.region.name} → ${p.state.message}`);
      const bodies = p.bodies?.pending ?? 0; // servers older than issue 14 ship bodies inside the log
      const lagging = p.backlog.entries > 0 || bodies > 0;
      links.push([
        `${a.region.name} → ${p.name}`,
        p.connected ? green('yes') : red('no'),
        `${p.backlog.entries} entries, ${formatBytes(p.backlog.bytes)}` +
          (bodies > 0 ? `; ${bodies} bodies, ${formatBytes(p.bodies.pendingBytes)}` : ''),
        lagging ? yellow(formatMs(p.lagMs)) : formatMs(p.lagMs),
        ago(p.lastAckAt),
        p.lastError ? dim(p.lastError.slice(0, 80)) : '',
      ]);
      if (!p.connected) problems.push(`${a.region.name} cannot reach ${p.name}`);
      else if (lagging)
        problems.push(
          `${a.region.name} → ${p.name} has ${p.backlog.entries} entries${bodies > 0 ? ` and ${bodies} object bodies` : ''} to ship`,
        );
    }
  }
  const replication =
    table(['LINK', 'CONNECTED', 'BACKLOG', 'LAG', 'LAST ACK', 'LAST ERROR'], links) +
    (notes.length > 0 ? `\n${notes.map((n) => dim(`  ${n}`)).join('\n')}` : '');
  const voters = votersTable(answers, problems);
  const lease = leaseLine(answers);
  const summary =
    problems.length === 0
      ? green('Healthy: every region up, every link connected, nothing waiting to ship.')
      : yellow(`Attention: ${problems.join('; ')}.`);
  return {
    text: `${regions}\n\n${replication}\n\n${voters}\n${lease}\n\n${summary}`,
    healthy: problems.length === 0,
    problems,
  };
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'regions, health, epoch, replication backlog and lag (exit 3 on "Attention", 1 when no region answers)',
    )
    .action((_opts: unknown, cmd: Command) =>
      run(
        cmd,
        async (g, out): Promise<Outcome> => {
          const dep = new Deployment(loadConfig(g.config));
          const answers = await dep.everyRegion((r) => dep.api<RegionStatus>(r, 'GET', '/status', undefined, 3000));
          const report = statusReport(answers);
          out.line(report.text);
          const doc = {
            regions: answers.map((a) => ({
              region: a.region.name,
              ok: a.ok,
              status: a.value ?? null,
              ...(a.error ? { error: a.error } : {}),
            })),
            healthy: report.healthy,
            attention: report.problems,
          };
          if (!answers.some((a) => a.ok)) {
            const message = `No region answered: ${answers.map((a) => `${a.region.name} (${a.error})`).join(', ')}.`;
            return { exit: EXIT.failed, json: errorDocument('unreachable', message, {}, doc) };
          }
          return { exit: report.healthy ? EXIT.done : EXIT.attention, json: doc };
        },
        { json: true },
      ),
    );
}
