/**
 * @module Command-line options of `npm run bench` and the sample sizes of a full and
 * a `--quick` run (the same measurements, shorter); `--wan` selects the long-link run instead.
 */
import { join } from 'node:path';

export const PHASES = [
  'lag',
  'throughput',
  'state-events',
  'failover',
  'forced-failover',
  'objects',
  'memory',
  'signin-pressure',
] as const;
export type Phase = (typeof PHASES)[number];

/** The phases of `--wan` (a run of its own, never part of the default run). */
export const WAN_PHASES = ['wan-lag', 'head-of-line'] as const;
export type WanPhase = (typeof WAN_PHASES)[number];

/**
 * Throughput concurrency: 256 writers in flight. A check on this machine (6 s trials):
 * without replication 1,600 writes/s from 64 writers on; with replication 1,120 at
 * 64, 1,350 at 128, 1,380 at 256, 1,490 at 512 (bigger batches amortise the
 * shipper); 256 is past the knee of both.
 */
export interface Samples {
  lag: { rate: number; durationMs: number; warmupMs: number; observerIntervalUs: number };
  throughput: { rounds: number; trialMs: number; warmupMs: number; concurrency: number };
  stateEvents: { subscribers: number; changes: number };
  failover: { trials: number; loadRate: number; steadyMs: number };
  /** Forced failovers with the writer partitioned (each then healed and failed back). */
  forcedFailover: { trials: number };
  objects: { count: number; bytesEach: number; copyRounds: number };
  memory: { uploadBytes: number };
  /**
   * `--wan`: lag of mraa and PostgreSQL through delay proxies at each one-way delay, then
   * comment lag with and without a big upload at `holDelayMs` and a bandwidth cap.
   */
  wan: {
    delaysMs: number[];
    rate: number;
    durationMs: number;
    warmupMs: number;
    holDelayMs: number;
    holBandwidthBytesPerSec: number;
    holUploadBytes: number;
  };
}

const MiB = 1024 * 1024;

export const FULL: Samples = {
  lag: { rate: 500, durationMs: 90_000, warmupMs: 3000, observerIntervalUs: 100 },
  throughput: { rounds: 4, trialMs: 10_000, warmupMs: 1500, concurrency: 256 },
  stateEvents: { subscribers: 100, changes: 30 },
  failover: { trials: 10, loadRate: 200, steadyMs: 1000 },
  forcedFailover: { trials: 3 },
  objects: { count: 40, bytesEach: 5 * MiB, copyRounds: 3 },
  memory: { uploadBytes: 1024 * MiB },
  wan: {
    delaysMs: [0, 25, 75],
    rate: 500,
    durationMs: 20_000,
    warmupMs: 3000,
    holDelayMs: 75,
    holBandwidthBytesPerSec: 32 * MiB,
    holUploadBytes: 200 * MiB,
  },
};

export const QUICK: Samples = {
  lag: { rate: 500, durationMs: 20_000, warmupMs: 2000, observerIntervalUs: 100 },
  throughput: { rounds: 3, trialMs: 4000, warmupMs: 1000, concurrency: 256 },
  stateEvents: { subscribers: 100, changes: 10 },
  failover: { trials: 3, loadRate: 200, steadyMs: 1000 },
  forcedFailover: { trials: 2 },
  objects: { count: 40, bytesEach: 5 * MiB, copyRounds: 3 },
  memory: { uploadBytes: 1024 * MiB },
  wan: { ...FULL.wan, durationMs: 10_000, warmupMs: 2000 },
};

export interface BenchOptions {
  quick: boolean;
  samples: Samples;
  phases: Phase[];
  /** `--wan`: run only the WAN phases (`wanPhases`), written to wan.json. */
  wan: boolean;
  wanPhases: WanPhase[];
  /** Keep the deployments' folders (for inspecting logs). */
  keep: boolean;
  /**
   * Also watch the primary's database during the lag phase, to split each write's lag
   * into its parts (commit → 201, commit → visible in the secondary). Costs CPU, so off
   * by default.
   */
  diagnose: boolean;
  /** Write CPU profiles of the deployment's processes to this folder (bench/cpu-profiler.ts). */
  cpuProfDir?: string;
  /** Where latest.json and the charts go. */
  outDir: string;
  /**
   * A previous run's latest.json to compare write throughput and lag with (default
   * bench/results/before-control-plane.json: the figures from before the control plane).
   */
  baseline: string;
}

export function parseOptions(argv: string[], defaultOutDir: string): BenchOptions {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const wan = argv.includes('--wan');
  const known: readonly string[] = wan ? WAN_PHASES : PHASES;
  const only = value('--only')?.split(',') ?? [...known];
  for (const p of only)
    if (!known.includes(p))
      throw new Error(`--only: unknown ${wan ? 'WAN ' : ''}phase "${p}" (phases: ${known.join(', ')})`);
  const cpuProfDir = value('--cpu-prof');
  const base = quick ? QUICK : FULL;
  // --delays 25,75: the one-way delays of a --wan run (default 0, 25 and 75 ms).
  const delays = value('--delays')?.split(',').map(Number);
  if (delays?.some((d) => !Number.isInteger(d) || d < 0 || d > 1000))
    throw new Error('--delays: whole milliseconds from 0 to 1000, separated by commas (e.g. 0,25,75)');
  return {
    quick,
    samples: delays ? { ...base, wan: { ...base.wan, delaysMs: delays } } : base,
    phases: wan ? [] : (only as Phase[]),
    wan,
    wanPhases: wan ? (only as WanPhase[]) : [],
    keep: argv.includes('--keep'),
    diagnose: argv.includes('--diagnose'),
    ...(cpuProfDir ? { cpuProfDir } : {}),
    outDir: value('--out') ?? defaultOutDir,
    baseline: value('--baseline') ?? join(defaultOutDir, 'before-control-plane.json'),
  };
}
