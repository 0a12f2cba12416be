/**
 * @module Memory of the primary's process during a 1 GiB upload: its peak resident set
 * is reset (clear_refs) just before, and the peak (VmHWM) read when the answer
 * arrives; the body, a JPEG header then noise, is streamed by the load generator from
 * a generator. The server stores it, then refuses it (415) when it cannot decode it.
 * Then the same for shipping that body to the secondary (primary and secondary peaks).
 */
import { type BenchContext, ourProcesses } from './context.js';
import { CpuMeter, peakRssBytes, resetPeakRss, rssBytes } from './proc-stats.js';
import { waitCaughtUp } from './region-api.js';

const MiB = 2 ** 20;

export interface MemoryFigures {
  uploadRssDeltaMiB: number;
  uploadBytes: number;
  rssBeforeMiB: number;
  peakMiB: number;
  status: number;
  code: string | null;
  uploadMs: number;
  /** While the body is shipped to the secondary afterwards: each process's rise above its resident set before. */
  shipping: { primaryDeltaMiB: number; secondaryDeltaMiB: number; ms: number };
  cpu: Record<string, number>;
  samples: number;
}

export async function measureUploadMemory(ctx: BenchContext): Promise<MemoryFigures> {
  const dep = ctx.deployment;
  const bytes = ctx.options.samples.memory.uploadBytes;
  await waitCaughtUp(dep.primary.url, dep.adminToken);
  const primary = await dep.pid(dep.primary.name);
  const secondary = await dep.pid(dep.secondary.name);
  resetPeakRss(primary);
  resetPeakRss(secondary);
  const before = rssBytes(primary);
  const secondaryBefore = rssBytes(secondary);
  const cpu = new CpuMeter(await ourProcesses(ctx));
  const r = await ctx.loadGenerator.call<{ status: number; code: string | null; ms: number }>('bigUpload', {
    url: dep.primary.url,
    token: dep.adminToken,
    bytes,
  });
  const peak = peakRssBytes(primary);
  const cpuShares = cpu.stop();
  ctx.log(
    `  ${bytes / MiB} MiB upload answered ${r.status} ${r.code ?? ''} after ${(r.ms / 1000).toFixed(1)} s; peak ${(peak / MiB).toFixed(0)} MiB, ${((peak - before) / MiB).toFixed(1)} MiB above before`,
  );
  const shipMs = await waitCaughtUp(dep.primary.url, dep.adminToken, 300_000);
  return {
    uploadRssDeltaMiB: (peak - before) / MiB,
    uploadBytes: bytes,
    rssBeforeMiB: before / MiB,
    peakMiB: peak / MiB,
    status: r.status,
    code: r.code,
    uploadMs: r.ms,
    shipping: {
      primaryDeltaMiB: (peakRssBytes(primary) - before) / MiB,
      secondaryDeltaMiB: (peakRssBytes(secondary) - secondaryBefore) / MiB,
      ms: shipMs,
    },
    cpu: cpuShares,
    samples: 1,
  };
}
