/**
 * @module Object replication bandwidth against the disk's copy bandwidth, in one run.
 * With the secondary down (its process killed through the edge), 200 MiB of 5 MiB
 * JPEG and PNG photos are uploaded to the primary, which stores each with a
 * thumbnail. The new bodies (originals and thumbnails) are then copied on the same
 * disk as the object store writes them (temp file, fsync, rename, fsync of the
 * folder): the baseline. Then the secondary is started and the observer times the
 * transfer, from the first body arriving in its temp folder to the primary's log
 * applied up to the last upload.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { nowNs } from './clock.js';
import { type BenchContext, ourProcesses } from './context.js';
import type { Uploaded } from './object-transfer.js';
import type { PhotoFile } from './photo-files.js';
import { CpuMeter } from './proc-stats.js';
import { regionStatus, waitCaughtUp } from './region-api.js';
import { median } from './stats.js';

const MB = 1e6;

export interface ObjectFigures {
  replicationMBps: number;
  diskCopyMBps: number;
  ratio: number;
  /** Bodies the secondary had to receive (originals and thumbnails). */
  bodies: number;
  bytes: number;
  photos: number;
  transferMs: number;
  /** From the secondary's start to everything applied (includes the shipper's reconnection backoff). */
  fromRestartMs: number;
  copyRounds: Array<{ bytes: number; ms: number; MBps: number }>;
  uploadMBps: number;
  cpuDuringTransfer: Record<string, number>;
  samples: { replication: number; diskCopy: number };
  units: string;
}

async function listBlobs(blobsDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const a of await readdir(blobsDir)) {
    if (!/^[0-9a-f]{2}$/.test(a)) continue;
    for (const b of await readdir(join(blobsDir, a))) {
      for (const name of await readdir(join(blobsDir, a, b)))
        out.set(join(blobsDir, a, b, name), (await stat(join(blobsDir, a, b, name))).size);
    }
  }
  return out;
}

export async function measureObjects(ctx: BenchContext): Promise<ObjectFigures> {
  const dep = ctx.deployment;
  const s = ctx.options.samples.objects;
  const work = join(dep.dir, 'bench-objects');
  await mkdir(work, { recursive: true });
  const files = await ctx.loadGenerator.call<PhotoFile[]>('makePhotos', {
    dir: work,
    count: s.count,
    bytes: s.bytesEach,
  });
  const primaryBlobs = join(dep.dataDir(dep.primary.name), 'blobs');
  await waitCaughtUp(dep.primary.url, dep.adminToken);
  const before = await listBlobs(primaryBlobs);

  ctx.log(
    `  secondary down; uploading ${files.length} photos (${(files.reduce((n, f) => n + f.size, 0) / 2 ** 20).toFixed(0)} MiB) to the primary`,
  );
  await dep.stopRegion(dep.secondary.name);
  const u0 = nowNs();
  const uploads = await ctx.loadGenerator.call<Uploaded[]>('uploadPhotos', {
    url: dep.primary.url,
    token: dep.adminToken,
    files,
  });
  const uploadS = Number(nowNs() - u0) / 1e9;
  const fresh = [...(await listBlobs(primaryBlobs))].filter(([path]) => !before.has(path));
  const bytes = fresh.reduce((n, [, size]) => n + size, 0);
  const head = (await regionStatus(dep.primary.url, dep.adminToken)).log.head;

  ctx.log(`  disk copy of the same ${fresh.length} bodies, ${s.copyRounds} rounds`);
  const rounds = await ctx.loadGenerator.call<Array<{ bytes: number; ms: number }>>('diskCopy', {
    files: fresh.map(([p]) => p),
    destDir: join(work, 'copy'),
    rounds: s.copyRounds,
  });
  const copyRounds = rounds.map((r) => ({ ...r, MBps: r.bytes / MB / (r.ms / 1000) }));

  ctx.log('  secondary started: replicating');
  await ctx.observer.call('watchObjects', {
    dataDir: dep.dataDir(dep.secondary.name),
    origin: dep.primary.name,
    targetSeq: head,
    timeoutMs: 300_000,
  });
  const started = nowNs();
  await dep.startRegion(dep.secondary.name);
  const cpu = new CpuMeter(await ourProcesses(ctx));
  const t = await ctx.observer.call<{ firstBodyNs: bigint | null; appliedNs: bigint | null }>('objectsResult');
  const cpuDuringTransfer = cpu.stop();
  if (t.appliedNs === null) throw new Error('the secondary did not apply the uploads in time');
  if (t.firstBodyNs === null) throw new Error('no body was seen arriving in the secondary');
  const transferMs = Number(t.appliedNs - t.firstBodyNs) / 1e6;
  const replicationMBps = bytes / MB / (transferMs / 1000);
  const diskCopyMBps = median(copyRounds.map((r) => r.MBps));
  return {
    replicationMBps,
    diskCopyMBps,
    ratio: replicationMBps / diskCopyMBps,
    bodies: fresh.length,
    bytes,
    photos: uploads.length,
    transferMs,
    fromRestartMs: Number(t.appliedNs - started) / 1e6,
    copyRounds,
    uploadMBps: uploads.reduce((n, x) => n + x.size, 0) / MB / uploadS,
    cpuDuringTransfer,
    samples: { replication: 1, diskCopy: copyRounds.length },
    units: 'MB = 10^6 bytes',
  };
}
