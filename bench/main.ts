/**
 * @module `npm run bench [-- --quick] [--only PHASES] [--diagnose] [--keep] [--cpu-prof DIR] [--baseline FILE]`: starts
 * a local deployment, forks the load generator and the visibility observer, runs each
 * measurement, prints the figures against DESIGN §8 and writes
 * bench/results/latest.json with the lag and failover charts beside it.
 * `npm run bench -- --wan [--quick] [--only wan-lag,head-of-line]` runs only the long-link
 * measurements instead, on a deployment whose regions reach each other through delay
 * proxies, and writes bench/results/wan.json and wan.svg.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/paths.js';
import type { BenchContext } from './context.js';
import { startDeployment } from './deployment.js';
import { describeMachine, loadAverage } from './machine.js';
import { type Phase, parseOptions, type WanPhase } from './options.js';
import { type Results, runPhase } from './phases.js';
import { writeResults } from './report.js';
import { startHelper } from './rpc.js';
import { runWanPhase, type WanResults } from './wan-phases.js';
import { writeWanResults } from './wan-report.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAX_UPLOAD_BYTES = 1536 * 1024 * 1024;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), join(PACKAGE_ROOT, 'bench', 'results'));
  const started = Date.now();
  const machine = describeMachine();
  const commit = gitHead();
  const log = (line: string) => console.log(line);
  log(
    `mraa bench (${options.wan ? 'WAN, ' : ''}${options.quick ? 'quick' : 'full'}): ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}, fsync p50 ${machine.fsyncMs.p50.toFixed(2)} ms p99 ${machine.fsyncMs.p99.toFixed(2)} ms`,
  );

  const deploymentEnv: Record<string, string> = {};
  if (options.cpuProfDir) {
    const dir = resolve(options.cpuProfDir);
    await mkdir(dir, { recursive: true });
    // --cpu-prof is refused in NODE_OPTIONS: a preloaded module runs the profiler instead.
    deploymentEnv.NODE_OPTIONS = `--import=${join(here, 'cpu-profiler.js')}`;
    deploymentEnv.MRAA_BENCH_CPU_PROF_DIR = dir;
  }
  const loadGenerator = startHelper(join(here, 'load-generator.js'));
  const startObserver = () => startHelper(join(here, 'visibility-observer.js'));
  const observer = startObserver();
  const deployment = await startDeployment({
    label: options.wan ? 'wan' : 'replication-on',
    env: deploymentEnv,
    maxUploadBytes: MAX_UPLOAD_BYTES,
    proxies: options.wan,
  });
  log(
    `deployment: ${deployment.primary.name} ${deployment.primary.url} (primary), ${deployment.secondary.name} ${deployment.secondary.url}, in ${deployment.dir}`,
  );
  const ctx: BenchContext = { options, deployment, loadGenerator, observer, startObserver, deploymentEnv, log };

  const results: Results = {};
  const wan: WanResults = {};
  const failed: Array<{ phase: Phase; error: string }> = [];
  const wanFailed: Array<{ phase: WanPhase; error: string }> = [];
  try {
    for (const phase of options.phases) await timed(phase, () => runPhase(phase, ctx, results), failed, log);
    for (const phase of options.wanPhases) await timed(phase, () => runWanPhase(phase, ctx, wan), wanFailed, log);
  } finally {
    await deployment.close(options.keep);
    if (options.keep) log(`\nkept ${deployment.dir}`);
    await loadGenerator.close();
    await observer.close();
  }
  machine.loadAverageAtEnd = loadAverage();
  const durationSec = (Date.now() - started) / 1000;
  if (options.wan) await writeWanResults({ options, machine, commit, results: wan, failed: wanFailed, durationSec });
  else await writeResults({ options, machine, commit, results, failed, durationSec });
  if (failed.length + wanFailed.length > 0) process.exitCode = 1;
}

/** Runs one phase, logging its time; a failure is recorded and the run goes on. */
async function timed<P extends string>(
  phase: P,
  run: () => Promise<void>,
  failed: Array<{ phase: P; error: string }>,
  log: (line: string) => void,
): Promise<void> {
  const t0 = Date.now();
  log(`\n▶ ${phase}`);
  try {
    await run();
    log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (err) {
    const error = (err as Error).stack ?? String(err);
    failed.push({ phase, error });
    log(`  FAILED: ${error}`);
  }
}

/** The commit measured (the working tree may hold more). */
function gitHead(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
