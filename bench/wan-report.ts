/**
 * @module The outputs of a `--wan` run, kept apart from the default run's: on stdout the
 * table delay | mraa p50/p99 | PostgreSQL p50/p99 | ratios, the head-of-line figure and
 * the long-link targets of DESIGN §8; bench/results/wan.json (every figure with its
 * sample size, the methods, the machine) and wan.svg beside it. latest.json is left
 * to the default run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lagMethod } from './lag-phase.js';
import type { Machine } from './machine.js';
import type { BenchOptions, WanPhase } from './options.js';
import { printTargets, roundNumbers } from './report.js';
import type { Distribution } from './stats.js';
import { wanChart } from './wan-chart.js';
import type { WanResults } from './wan-phases.js';
import { checkWanTargets } from './wan-targets.js';

export interface WanRunSummary {
  options: BenchOptions;
  machine: Machine;
  commit: string | null;
  results: WanResults;
  failed: Array<{ phase: WanPhase; error: string }>;
  durationSec: number;
}

const LINK =
  'a TCP proxy on loopback in front of each region (and one in front of the PostgreSQL primary), ' +
  'test/helpers/fault-proxy.ts: every chunk read is written to the other side after the one-way delay, ' +
  'in order and pipelined, in both directions; with a cap, each direction is paced to it, shared round-robin ' +
  "between the proxy's connections in 16 KiB pieces; the witness's proxy is never delayed";

const ms = (x: number) => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2);
const pair = (d: Distribution) => `${ms(d.p50)} / ${ms(d.p99)} ms`;

function printLagTable(r: WanResults): void {
  if (!r.lag) return;
  const rows = [['ONE-WAY DELAY', 'MRAA LAG P50 / P99', 'POSTGRESQL LAG P50 / P99', 'MRAA / POSTGRESQL P50, P99']];
  for (const row of r.lag)
    rows.push([
      row.delayMs === 0 ? '0 ms (proxy only)' : `${row.delayMs} ms`,
      pair(row.mraa.lagMs),
      'skipped' in row.postgres ? 'skipped' : pair(row.postgres.lagMs),
      row.ratios ? `${row.ratios.p50.toFixed(2)}×, ${row.ratios.p99.toFixed(2)}×` : 'n/a',
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
  console.log('');
  for (const [i, x] of rows.entries()) {
    console.log(x.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  const skipped = r.lag.find((x) => 'skipped' in x.postgres)?.postgres;
  if (skipped && 'skipped' in skipped) console.log(`PostgreSQL skipped: ${skipped.skipped}`);
}

function printHeadOfLine(r: WanResults): void {
  const h = r.headOfLine;
  if (!h) return;
  console.log(
    `\nhead-of-line, ${h.delayMs} ms each way, ${(h.bandwidthBytesPerSec / 2 ** 20).toFixed(0)} MiB/s each way, ${h.rate} comments/s: ` +
      `comment lag p99 ${ms(h.withoutUpload.p99)} ms without an upload (${h.withoutUpload.n} comments), ` +
      `${ms(h.duringUpload.p99)} ms while a ${(h.upload.bytes / 2 ** 20).toFixed(0)} MiB body replicated (${h.duringUpload.n} comments): ` +
      `${h.p99Ratio.toFixed(2)}×; p50 ${ms(h.withoutUpload.p50)} / ${ms(h.duringUpload.p50)} ms; ` +
      `the body took ${(h.upload.replicationMs / 1000).toFixed(1)} s from the upload's 201 to the secondary (upload ${(h.upload.uploadMs / 1000).toFixed(1)} s)`,
  );
}

export async function writeWanResults(run: WanRunSummary): Promise<void> {
  const targets = checkWanTargets(run.results);
  printLagTable(run.results);
  printHeadOfLine(run.results);
  printTargets(targets);
  console.log(
    `\nmachine: ${run.machine.cpuModel}, ${run.machine.cores} cores, Node ${run.machine.node}; run took ${run.durationSec.toFixed(0)} s`,
  );
  const out = {
    generatedAt: new Date().toISOString(),
    mode: run.options.quick ? 'wan-quick' : 'wan-full',
    durationSec: run.durationSec,
    commit: run.commit,
    machine: run.machine,
    link: LINK,
    methods: {
      mraa: lagMethod(run.options.samples.lag.observerIntervalUs),
      postgres: run.results.lag?.flatMap((r) => ('skipped' in r.postgres ? [] : [r.postgres.method]))[0] ?? null,
    },
    lag: run.results.lag ?? null,
    headOfLine: run.results.headOfLine ?? null,
    targets,
    failed: run.failed,
  };
  await mkdir(run.options.outDir, { recursive: true });
  await writeFile(join(run.options.outDir, 'wan.json'), `${JSON.stringify(out, roundNumbers, 2)}\n`);
  if (run.results.lag) await writeFile(join(run.options.outDir, 'wan.svg'), wanChart(run.results));
  console.log(`\nwrote ${join(run.options.outDir, 'wan.json')}${run.results.lag ? ', wan.svg' : ''}`);
}
