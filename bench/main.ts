/**
 * @module `npm run bench [-- --quick] [--only PHASES] [--diagnose] [--keep] [--cpu-prof DIR] [--baseline FILE]`: starts
 * a local deployment, forks the load generator and the visibility observer, runs each
 * measurement, prints the figures against DESIGN §8 and writes
 * bench/results/latest.json with the lag and failover charts beside it.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/paths.js';
import type { BenchContext } from './context.js';
import { startDeployment } from './deployment.js';
import { describeMachine, loadAverage } from './machine.js';
import { type Phase, parseOptions } from './options.js';
import { type Results, runPhase } from './phases.js';
import { writeResults } from './report.js';
import { startHelper } from './rpc.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAX_UPLOAD_BYTES = 1536 * 1024 * 1024;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), join(PACKAGE_ROOT, 'bench', 'results'));
  const started = Date.now();
  const machine = describeMachine();
  const commit = gitHead();
  const log = (line: string) => console.log(line);
  log(
    `mraa bench (${options.quick ? 'quick' : 'full'}): ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}, fsync p50 ${machine.fsyncMs.p50.toFixed(2)} ms p99 ${machine.fsyncMs.p99.toFixed(2)} ms`,
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
    label: 'replication-on',
    env: deploymentEnv,
    maxUploadBytes: MAX_UPLOAD_BYTES,
  });
  log(
    `deployment: ${deployment.primary.name} ${deployment.primary.url} (primary), ${deployment.secondary.name} ${deployment.secondary.url}, in ${deployment.dir}`,
  );
  const ctx: BenchContext = { options, deployment, loadGenerator, observer, startObserver, deploymentEnv, log };

  const results: Results = {};
  const failed: Array<{ phase: Phase; error: string }> = [];
  try {
    for (const phase of options.phases) {
      const t0 = Date.now();
      log(`\n▶ ${phase}`);
      try {
        await runPhase(phase, ctx, results);
        log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (err) {
        const error = (err as Error).stack ?? String(err);
        failed.push({ phase, error });
        log(`  FAILED: ${error}`);
      }
    }
  } finally {
    await deployment.close(options.keep);
    if (options.keep) log(`\nkept ${deployment.dir}`);
    await loadGenerator.close();
    await observer.close();
  }
  machine.loadAverageAtEnd = loadAverage();
  await writeResults({ options, machine, commit, results, failed, durationSec: (Date.now() - started) / 1000 });
  if (failed.length > 0) process.exitCode = 1;
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
