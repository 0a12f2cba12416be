/**
 * @module The outputs of a run: the table of figures against DESIGN §8 on stdout,
 * bench/results/latest.json (every figure with its sample size, the machine,
 * PostgreSQL's lag beside mraa's) and the two charts beside it; write throughput and
 * lag side by side with a baseline run's (`--baseline`, by default the figures from
 * before the control plane). A `--wan` run writes its own file (wan-report.ts).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failoverChart } from './failover-chart.js';
import { lagChart } from './lag-chart.js';
import type { Machine } from './machine.js';
import type { BenchOptions, Phase } from './options.js';
import type { Results } from './phases.js';
import { comparisonLine, lagRatios, measured } from './postgres/comparison.js';
import { checkTargets, type TargetCheck } from './targets.js';

export interface RunSummary {
  options: BenchOptions;
  machine: Machine;
  commit: string | null;
  results: Results;
  failed: Array<{ phase: Phase; error: string }>;
  durationSec: number;
}

/** Write throughput and lag of a baseline run and of this one. */
export interface Comparison {
  baseline: { file: string; commit: string | null; generatedAt: string; mode: string };
  rows: Array<{ figure: string; unit: string; before: number | null; after: number | null }>;
}

interface SavedRun {
  commit: string | null;
  generatedAt: string;
  mode: string;
  replication: { lagMs: { p50: number; p99: number }; writeLatencyMs: { p50: number; p99: number } } | null;
  throughput: { withReplication: number; withoutReplication: number; ratio: number } | null;
}

async function compare(run: RunSummary): Promise<Comparison | null> {
  let saved: SavedRun;
  try {
    saved = JSON.parse(await readFile(run.options.baseline, 'utf8')) as SavedRun;
  } catch {
    return null;
  }
  const { lag, throughput: tp } = run.results;
  if (!lag && !tp) return null;
  const b = saved.replication;
  const bt = saved.throughput;
  const rows: Comparison['rows'] = [];
  if (tp)
    rows.push(
      {
        figure: 'write throughput, replication on',
        unit: 'writes/s',
        before: bt?.withReplication ?? null,
        after: tp.withReplication,
      },
      {
        figure: 'write throughput, replication off',
        unit: 'writes/s',
        before: bt?.withoutReplication ?? null,
        after: tp.withoutReplication,
      },
      { figure: 'throughput ratio on / off', unit: '%', before: bt ? bt.ratio * 100 : null, after: tp.ratio * 100 },
    );
  if (lag)
    rows.push(
      { figure: 'replication lag p50 at 500 writes/s', unit: 'ms', before: b?.lagMs.p50 ?? null, after: lag.lagMs.p50 },
      { figure: 'replication lag p99 at 500 writes/s', unit: 'ms', before: b?.lagMs.p99 ?? null, after: lag.lagMs.p99 },
      {
        figure: 'write latency p50 at 500 writes/s',
        unit: 'ms',
        before: b?.writeLatencyMs.p50 ?? null,
        after: lag.writeLatencyMs.p50,
      },
      {
        figure: 'write latency p99 at 500 writes/s',
        unit: 'ms',
        before: b?.writeLatencyMs.p99 ?? null,
        after: lag.writeLatencyMs.p99,
      },
    );
  return {
    baseline: {
      file: run.options.baseline,
      commit: saved.commit,
      generatedAt: saved.generatedAt,
      mode: saved.mode,
    },
    rows,
  };
}

function json(run: RunSummary, targets: TargetCheck[], comparison: Comparison | null): unknown {
  const { lag, throughput, stateEvents, failover, forcedFailover, lease, objects, memory, signinPressure } =
    run.results;
  const { values: _values, ...replication } = lag ?? { values: [] };
  const pg = measured(run.results.lagPostgres);
  return {
    generatedAt: new Date().toISOString(),
    mode: run.options.quick ? 'quick' : 'full',
    durationSec: run.durationSec,
    commit: run.commit,
    machine: run.machine,
    replication: lag ? replication : null,
    postgres: run.results.lagPostgres
      ? pg
        ? { ...withoutValues(pg), ratios: lag ? lagRatios(lag.lagMs, pg.lagMs) : null }
        : run.results.lagPostgres
      : null,
    throughput: throughput ?? null,
    failover: failover ?? null,
    forcedFailover: forcedFailover ?? null,
    lease: lease ?? null,
    comparedWith: comparison,
    stateEvents: stateEvents ?? null,
    signinPressure: signinPressure ?? null,
    objects:
      objects || memory
        ? { ...(objects ?? {}), uploadRssDeltaMiB: memory?.uploadRssDeltaMiB ?? null, upload: memory ?? null }
        : null,
    targets,
    failed: run.failed,
  };
}

const withoutValues = <T extends { values: number[] }>(r: T): Omit<T, 'values'> => {
  const { values: _values, ...rest } = r;
  return rest;
};

export const roundNumbers = (_key: string, v: unknown) =>
  typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v;

function fmt(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  if (unit === '') return String(value);
  if (unit === '×') return `${value.toFixed(2)}×`;
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** The figures against their targets, as a table on stdout. */
export function printTargets(targets: TargetCheck[]): void {
  const rows = [['FIGURE', 'MEASURED', 'TARGET (DESIGN §8)', 'MEETS', 'SAMPLES']];
  for (const t of targets)
    rows.push([t.figure, fmt(t.value, t.unit), t.target, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', t.samples]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log('');
  for (const [i, r] of rows.entries()) {
    console.log(r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function printTable(run: RunSummary, targets: TargetCheck[], comparison: Comparison | null): void {
  printTargets(targets);
  const { throughput: tp, objects: ob, failover: fo, forcedFailover: ff, lease, lag, stateEvents: se } = run.results;
  console.log('');
  if (lag)
    console.log(
      `replication: ${lag.writesPerSec.toFixed(1)} writes/s; lag p50 ${lag.lagMs.p50.toFixed(2)} ms, p90 ${lag.lagMs.p90.toFixed(2)}, p99 ${lag.lagMs.p99.toFixed(2)}, max ${lag.lagMs.max.toFixed(1)} ms; ${lag.visibleBeforeAck} visible before their 201 arrived; observer found ${lag.observer.foundBy.event} by WAL events, ${lag.observer.foundBy.fallback} by its 2 ms safety poll, using ${(lag.observer.cpuShare * 100).toFixed(0)}% of a core`,
    );
  const pg = run.results.lagPostgres;
  if (pg && 'skipped' in pg) console.log(`PostgreSQL 15 comparison skipped: ${pg.skipped}`);
  else if (pg)
    console.log(
      `PostgreSQL 15 streaming replication, loopback, same run: ${pg.writesPerSec.toFixed(1)} inserts/s; lag p50 ${pg.lagMs.p50.toFixed(2)} ms, p90 ${pg.lagMs.p90.toFixed(2)}, p99 ${pg.lagMs.p99.toFixed(2)}, max ${pg.lagMs.max.toFixed(1)} ms${lag ? `; ${comparisonLine(lag.lagMs, pg.lagMs)}` : ''}`,
    );
  if (tp)
    console.log(
      `throughput: ${tp.withReplication.toFixed(0)} writes/s with replication, ${tp.withoutReplication.toFixed(0)} without (medians of ${tp.samples.withReplication} and ${tp.samples.withoutReplication} trials, ${tp.concurrency} writers); median of the paired rounds' ratios ${(tp.pairedRatio * 100).toFixed(1)} %`,
    );
  if (fo)
    console.log(
      `failover: idle median ${fo.idleMs.toFixed(0)} ms (max ${fo.idle.max.toFixed(0)}), loaded median ${fo.loadedMs.toFixed(0)} ms (max ${fo.loaded.max.toFixed(0)}); failback idle ${fo.failbackIdle.p50.toFixed(0)} ms, loaded ${fo.failbackLoaded.p50.toFixed(0)} ms`,
    );
  if (ff) {
    const waited = ff.trials.map((t) => (t.waitedForLease?.waitedMs ?? 0).toFixed(0));
    console.log(
      `forced failover (${ff.leaseMs} ms lease, writer partitioned): decision → first write median ${ff.medianMs.toFixed(0)} ms, max ${ff.maxMs.toFixed(0)} ms; ` +
        `waited for the old lease median ${ff.waitedForLeaseMs.p50.toFixed(0)} ms (${waited.join(', ')}); ` +
        `old writer refused ${ff.oldRefusedAfterCut.p50.toFixed(0)} ms after the cut (max ${ff.oldRefusedAfterCut.max.toFixed(0)}), ` +
        `its last ack ${ff.minGapMs.toFixed(0)} ms or more before the new writer's first write was sent; ` +
        `${ff.overlaps} overlaps, ${ff.oldAcksAfterRefusal} acks after a refusal`,
    );
  }
  if (lease) {
    const parts = (['lag', 'throughput'] as const).flatMap((p) => {
      const c = lease[p];
      if (!c) return [];
      const refused = Object.entries(c.writesRefused).map(([reason, n]) => `${n} ${reason}`);
      return [
        `${c.renewalsPerSec.toFixed(2)} renewals/s during ${p} (writes refused: ${refused.length ? refused.join(', ') : 'none'})`,
      ];
    });
    console.log(`writer lease (${lease.leaseMs} ms): ${parts.join('; ')}`);
  }
  if (se)
    console.log(
      `state events: p50 ${se.deliveryMs.p50.toFixed(1)} ms, p99 ${se.deliveryMs.p99.toFixed(1)} ms, max ${se.deliveryMs.max.toFixed(1)} ms; ${se.missed} missed`,
    );
  if (ob)
    console.log(
      `objects: replication ${ob.replicationMBps.toFixed(0)} MB/s vs disk copy ${ob.diskCopyMBps.toFixed(0)} MB/s (${ob.bodies} bodies, ${(ob.bytes / 1e6).toFixed(0)} MB); ${ob.fromRestartMs.toFixed(0)} ms from the secondary's restart`,
    );
  console.log(
    `machine: ${run.machine.cpuModel}, ${run.machine.cores} cores, Node ${run.machine.node}; run took ${run.durationSec.toFixed(0)} s`,
  );
  if (comparison) {
    const b = comparison.baseline;
    console.log(
      `before control plane / after (before: ${b.mode} run of ${b.commit?.slice(0, 7) ?? '?'}, ${b.generatedAt.slice(0, 10)}, ${b.file}):`,
    );
    const width = Math.max(...comparison.rows.map((r) => r.figure.length));
    for (const r of comparison.rows) {
      const change =
        r.before !== null && r.after !== null && r.before !== 0
          ? ` (${r.after >= r.before ? '+' : ''}${(((r.after - r.before) / r.before) * 100).toFixed(1)} %)`
          : '';
      console.log(`  ${r.figure.padEnd(width)}  ${fmt(r.before, r.unit)} / ${fmt(r.after, r.unit)}${change}`);
    }
  }
}

export async function writeResults(run: RunSummary): Promise<void> {
  const targets = checkTargets(run.results);
  const comparison = await compare(run);
  printTable(run, targets, comparison);
  await mkdir(run.options.outDir, { recursive: true });
  await writeFile(
    join(run.options.outDir, 'latest.json'),
    `${JSON.stringify(json(run, targets, comparison), roundNumbers, 2)}\n`,
  );
  if (run.results.lag) await writeFile(join(run.options.outDir, 'lag.svg'), lagChart(run.results.lag));
  if (run.results.failover)
    await writeFile(join(run.options.outDir, 'failover.svg'), failoverChart(run.results.failover));
  console.log(
    `\nwrote ${join(run.options.outDir, 'latest.json')}${run.results.lag ? ', lag.svg' : ''}${run.results.failover ? ', failover.svg' : ''}`,
  );
}
