/**
 * @module The outputs of a run: the table of figures against DESIGN §8 on stdout,
 * bench/results/latest.json (every figure with its sample size, the machine) and the
 * two charts beside it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failoverChart } from './failover-chart.js';
import { lagChart } from './lag-chart.js';
import type { Machine } from './machine.js';
import type { BenchOptions, Phase } from './options.js';
import type { Results } from './phases.js';
import { checkTargets, type TargetCheck } from './targets.js';

export interface RunSummary {
  options: BenchOptions;
  machine: Machine;
  commit: string | null;
  results: Results;
  failed: Array<{ phase: Phase; error: string }>;
  durationSec: number;
}

function json(run: RunSummary, targets: TargetCheck[]): unknown {
  const { lag, throughput, stateEvents, failover, objects, memory } = run.results;
  const { values: _values, ...replication } = lag ?? { values: [] };
  return {
    generatedAt: new Date().toISOString(),
    mode: run.options.quick ? 'quick' : 'full',
    durationSec: run.durationSec,
    commit: run.commit,
    machine: run.machine,
    replication: lag ? replication : null,
    throughput: throughput ?? null,
    failover: failover ?? null,
    stateEvents: stateEvents ?? null,
    objects:
      objects || memory
        ? { ...(objects ?? {}), uploadRssDeltaMiB: memory?.uploadRssDeltaMiB ?? null, upload: memory ?? null }
        : null,
    targets,
    failed: run.failed,
  };
}

const roundNumbers = (_key: string, v: unknown) =>
  typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v;

function fmt(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function printTable(run: RunSummary, targets: TargetCheck[]): void {
  const rows = [['FIGURE', 'MEASURED', 'TARGET (DESIGN §8)', 'MEETS', 'SAMPLES']];
  for (const t of targets)
    rows.push([t.figure, fmt(t.value, t.unit), t.target, t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', t.samples]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log('');
  for (const [i, r] of rows.entries()) {
    console.log(r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  const { throughput: tp, objects: ob, failover: fo, lag, stateEvents: se } = run.results;
  console.log('');
  if (lag)
    console.log(
      `replication: ${lag.writesPerSec.toFixed(1)} writes/s; lag p50 ${lag.lagMs.p50.toFixed(2)} ms, p90 ${lag.lagMs.p90.toFixed(2)}, p99 ${lag.lagMs.p99.toFixed(2)}, max ${lag.lagMs.max.toFixed(1)} ms; ${lag.visibleBeforeAck} visible before their 201 arrived; observer found ${lag.observer.foundBy.event} by WAL events, ${lag.observer.foundBy.fallback} by its 2 ms safety poll, using ${(lag.observer.cpuShare * 100).toFixed(0)}% of a core`,
    );
  if (tp)
    console.log(
      `throughput: ${tp.withReplication.toFixed(0)} writes/s with replication, ${tp.withoutReplication.toFixed(0)} without (medians of ${tp.samples.withReplication} and ${tp.samples.withoutReplication} trials, ${tp.concurrency} writers); median of the paired rounds' ratios ${(tp.pairedRatio * 100).toFixed(1)} %`,
    );
  if (fo)
    console.log(
      `failover: idle median ${fo.idleMs.toFixed(0)} ms (max ${fo.idle.max.toFixed(0)}), loaded median ${fo.loadedMs.toFixed(0)} ms (max ${fo.loaded.max.toFixed(0)}); failback idle ${fo.failbackIdle.p50.toFixed(0)} ms, loaded ${fo.failbackLoaded.p50.toFixed(0)} ms`,
    );
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
}

export async function writeResults(run: RunSummary): Promise<void> {
  const targets = checkTargets(run.results);
  printTable(run, targets);
  await mkdir(run.options.outDir, { recursive: true });
  await writeFile(join(run.options.outDir, 'latest.json'), `${JSON.stringify(json(run, targets), roundNumbers, 2)}\n`);
  if (run.results.lag) await writeFile(join(run.options.outDir, 'lag.svg'), lagChart(run.results.lag));
  if (run.results.failover)
    await writeFile(join(run.options.outDir, 'failover.svg'), failoverChart(run.results.failover));
  console.log(
    `\nwrote ${join(run.options.outDir, 'latest.json')}${run.results.lag ? ', lag.svg' : ''}${run.results.failover ? ', failover.svg' : ''}`,
  );
}
