/**
 * A 20 MiB upload, streamed into a real region process, does not raise its memory
 * by more than 64 MiB (peak resident set, measured from /proc).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { image, noisyJpegFile } from '../helpers/images.js';
import { type LocalDeployment, startDeployment } from '../helpers/local-deployment.js';
import { peakRssBytes, resetPeak, rssBytes } from '../helpers/process-memory.js';

const MiB = 1024 * 1024;

describe('upload memory', { timeout: 120_000 }, () => {
  let d: LocalDeployment;
  beforeAll(async () => {
    d = await startDeployment();
  });
  afterAll(async () => d.close());

  it('keeps a 20 MiB upload under 64 MiB of extra memory in the server', async () => {
    const file = join(d.dir, 'big.jpg');
    const size = await noisyJpegFile(file, 20 * MiB);
    expect(size).toBeGreaterThanOrEqual(20 * MiB);
    const pid = d.pid('us-east-1');
    // Warm the upload path with a small image, so the figure is the upload's, not first-use code loading.
    const small = await fetch(`${d.url['us-east-1']}/photos`, {
      method: 'POST',
      headers: { authorization: `Bearer ${d.adminToken}`, 'content-type': 'image/jpeg' },
      body: await image('jpeg', 640, 480),
    });
    expect(small.status).toBe(201);
    await resetPeak(pid);
    const before = await rssBytes(pid);
    const res = await fetch(`${d.url['us-east-1']}/photos`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${d.adminToken}`,
        'content-type': 'image/jpeg',
        'content-length': String((await stat(file)).size),
      },
      body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
    expect(res.status, await res.clone().text()).toBe(201);
    const record = (await res.json()) as { width: number; height: number; size: number };
    expect(record.size).toBe(size);
    const growthMiB = ((await peakRssBytes(pid)) - before) / MiB;
    console.log(
      `20 MiB upload (${record.width}x${record.height} JPEG): server peak RSS grew ${growthMiB.toFixed(1)} MiB`,
    );
    expect(growthMiB).toBeLessThan(64);
  });
});
