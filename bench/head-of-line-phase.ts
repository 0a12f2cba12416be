/**
 * @module The head-of-line case of `--wan` (DESIGN §8): comment replication lag at
 * 500 writes/s over a long link with a bandwidth cap, once without an upload and once
 * while one big photo (200 MiB) is uploaded to the primary and replicates. The comments
 * counted in the second run are those acknowledged while the body was replicating:
 * from the upload's 201 to the moment the body is present in the secondary (its object
 * version applied there). Lag is measured as in the lag phase (lag-phase.ts): the
 * primary's 201 reaching the load generator to the visibility observer seeing the row
 * in the secondary's database.
 */
import { join } from 'node:path';
import { bodyArrival, uploadBigPhoto } from './big-photo.js';
import { sleep } from './clock.js';
import type { AckedComment, OpenLoopResult } from './comment-load.js';
import { type BenchContext, target } from './context.js';
import { uploadSmallPhoto, waitCaughtUp } from './region-api.js';
import { type Distribution, distribution } from './stats.js';

export interface HeadOfLineFigures {
  delayMs: number;
  bandwidthBytesPerSec: number;
  rate: number;
  /** Comment lag with no upload, over the whole measured run. */
  withoutUpload: Distribution;
  /** Comment lag of the comments acknowledged while the body replicated. */
  duringUpload: Distribution;
  /** duringUpload.p99 / withoutUpload.p99 (target ≤ 2). */
  p99Ratio: number;
  upload: {
    bytes: number;
    /** Client's first byte → its 201. */
    uploadMs: number;
    /** The 201 → the body present in the secondary. */
    replicationMs: number;
  };
  neverVisible: { withoutUpload: number; duringUpload: number };
  errors: Record<string, number>;
}

export async function measureHeadOfLine(ctx: BenchContext): Promise<HeadOfLineFigures> {
  const dep = ctx.deployment;
  const w = ctx.options.samples.wan;
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  dep.setRegionLinks({ delayMs: w.holDelayMs, bandwidthBytesPerSec: w.holBandwidthBytesPerSec });
  ctx.log(`  region links: ${w.holDelayMs} ms each way, ${mib(w.holBandwidthBytesPerSec)} MiB/s each way`);
  try {
    ctx.log(`  ${w.rate} comment writes/s for ${(w.warmupMs + w.durationMs) / 1000} s, no upload`);
    const alone = await commentLag(ctx, async () => undefined);
    const withoutUpload = distribution(alone.lags.map((l) => l.ms));

    ctx.log(`  ${w.rate} comment writes/s while a ${mib(w.holUploadBytes)} MiB photo is uploaded and replicates`);
    let upload: { bytes: number; ackNs: bigint; startNs: bigint; arrivedNs: bigint } | undefined;
    const during = await commentLag(ctx, async () => {
      await sleep(1000);
      const up = uploadBigPhoto(dep.primary.url, dep.adminToken, w.holUploadBytes);
      const photoId = (await up).photoId;
      const arrivedNs = await bodyArrival(dep.dataDir(dep.secondary.name), photoId, 600_000);
      upload = { ...(await up), arrivedNs };
    });
    if (!upload) throw new Error('the upload did not finish');
    const u = upload;
    const inWindow = during.lags.filter((l) => l.ackNs >= u.ackNs && l.ackNs <= u.arrivedNs);
    const duringUpload = distribution(inWindow.map((l) => l.ms));
    const replicationMs = Number(u.arrivedNs - u.ackNs) / 1e6;
    const f = (d: Distribution) => `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms (${d.n} comments)`;
    ctx.log(
      `  upload answered 201 after ${(Number(u.ackNs - u.startNs) / 1e9).toFixed(1)} s; body in the secondary ${(replicationMs / 1000).toFixed(1)} s after the 201`,
    );
    ctx.log(`  comment lag without upload: ${f(withoutUpload)}; while the body replicated: ${f(duringUpload)}`);
    return {
      delayMs: w.holDelayMs,
      bandwidthBytesPerSec: w.holBandwidthBytesPerSec,
      rate: w.rate,
      withoutUpload,
      duringUpload,
      p99Ratio: duringUpload.p99 / withoutUpload.p99,
      upload: { bytes: u.bytes, uploadMs: Number(u.ackNs - u.startNs) / 1e6, replicationMs },
      neverVisible: { withoutUpload: alone.neverVisible, duringUpload: during.neverVisible },
      errors: { ...alone.errors, ...during.errors },
    };
  } finally {
    dep.setRegionLinks({ delayMs: 0, bandwidthBytesPerSec: null });
  }
}

/**
 * Comments at the WAN rate, in segments of the WAN duration until `alongside` is done
 * (at least one): each acknowledged comment (after the warm-up) with its ack time and lag.
 */
async function commentLag(ctx: BenchContext, alongside: () => Promise<void>) {
  const dep = ctx.deployment;
  const w = ctx.options.samples.wan;
  const photoId = await uploadSmallPhoto(dep.primary.url, dep.adminToken);
  await waitCaughtUp(dep.primary.url, dep.adminToken);
  await ctx.observer.call('watchComments', {
    dbPath: join(dep.dataDir(dep.secondary.name), 'region.db'),
    origin: dep.primary.name,
    intervalUs: ctx.options.samples.lag.observerIntervalUs,
  });
  let done = false;
  let failure: unknown;
  const side = sleep(w.warmupMs)
    .then(alongside)
    .catch((err) => (failure = err))
    .finally(() => (done = true));
  const acked: AckedComment[] = [];
  const errors: Record<string, number> = {};
  let seen: { visible: Map<string, bigint> };
  try {
    for (let segment = 0; segment === 0 || !done; segment++) {
      if (segment >= 30) throw new Error('the upload did not replicate in 30 segments of writes');
      const run = await ctx.loadGenerator.call<OpenLoopResult>('openLoop', {
        target: target(dep.primary.url, dep.adminToken, photoId),
        options: { rate: w.rate, durationMs: w.durationMs, warmupMs: segment === 0 ? w.warmupMs : 0, tag: 'bench-hol' },
      });
      acked.push(...run.acked.filter((a) => !a.warmup));
      for (const [k, n] of Object.entries(run.errors)) errors[k] = (errors[k] ?? 0) + n;
    }
    await side;
    await ctx.observer.call('awaitComments', { ids: acked.map((a) => a.commentId), timeoutMs: 60_000 });
  } finally {
    seen = await ctx.observer.call<{ visible: Map<string, bigint> }>('stopComments');
  }
  if (failure) throw failure;
  const lags: Array<{ ackNs: bigint; ms: number }> = [];
  for (const a of acked) {
    const at = seen.visible.get(a.commentId);
    if (at !== undefined) lags.push({ ackNs: a.ackNs, ms: Number(at - a.ackNs) / 1e6 });
  }
  return { lags, neverVisible: acked.length - lags.length, errors };
}
