/**
 * @module The machine a run measured: CPU model and cores, memory, kernel, Node, the
 * load average when the run started and ended, and the disk's fsync latency (the
 * machine is shared and noisy: these say how noisy it was).
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { distribution } from './stats.js';

const FSYNC_PROBES = 200;

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  /** fsync of a 4 KiB append in the temporary folder (where the deployments live), at the start of the run. */
  fsyncMs: { p50: number; p99: number; n: number };
}

/** Latency of fsync on this disk now: the price of every durable commit. */
function probeFsync(): Machine['fsyncMs'] {
  const file = join(tmpdir(), `mraa-bench-fsync-${process.pid}`);
  const fd = openSync(file, 'w');
  const page = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < FSYNC_PROBES; i++) {
      writeSync(fd, page);
      const t0 = process.hrtime.bigint();
      fsyncSync(fd);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    closeSync(fd);
    unlinkSync(file);
  }
  const d = distribution(times);
  return { p50: d.p50, p99: d.p99, n: d.n };
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverageAtStart: loadAverage(),
    fsyncMs: probeFsync(),
  };
}

export function loadAverage(): number[] {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}
