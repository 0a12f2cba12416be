/**
 * @module One big photo for the head-of-line case: a small real JPEG followed by noise
 * up to the size wanted (decoders stop at the JPEG's end, so the server accepts it,
 * makes its thumbnail and keeps a record: the body has to replicate like any photo's),
 * streamed from a generator; and, from another region's database opened read-only,
 * the moment its original's body has arrived there (its object version applied).
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import { originalKey, PHOTOS_BUCKET } from '../src/photos/photos.repository.js';
import { nowNs, sleep } from './clock.js';
import { openReadOnly } from './comment-visibility.js';

export interface BigUpload {
  photoId: string;
  bytes: number;
  /** CLOCK_MONOTONIC ns: the first byte sent, the 201 received. */
  startNs: bigint;
  ackNs: bigint;
}

export async function uploadBigPhoto(url: string, token: string, bytes: number): Promise<BigUpload> {
  const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 90, g: 40, b: 140 } } })
    .jpeg()
    .toBuffer();
  const CHUNK = 1024 * 1024;
  const noise = randomBytes(CHUNK);
  async function* body() {
    yield jpeg;
    for (let left = bytes - jpeg.length; left > 0; left -= CHUNK) yield left >= CHUNK ? noise : noise.subarray(0, left);
  }
  const u = new URL('/photos', url);
  const startNs = nowNs();
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', 'content-length': bytes },
      },
      (r) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (text += d));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    pipeline(Readable.from(body(), { objectMode: false }), req).catch(reject);
  });
  const ackNs = nowNs();
  if (res.status !== 201) throw new Error(`big photo upload: HTTP ${res.status} ${res.body}`);
  return { photoId: (JSON.parse(res.body) as { photoId: string }).photoId, bytes, startNs, ackNs };
}

/** Resolves with the CLOCK_MONOTONIC ns at which `photoId`'s original is present in the region whose data folder is `dataDir`. */
export async function bodyArrival(dataDir: string, photoId: string, timeoutMs: number, pollMs = 5): Promise<bigint> {
  const db = openReadOnly(join(dataDir, 'region.db'));
  try {
    const present = db.prepare(
      'SELECT 1 AS x FROM object_versions WHERE bucket = ? AND key = ? AND delete_marker = 0 LIMIT 1',
    );
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(pollMs)) {
      if (present.get(PHOTOS_BUCKET, originalKey(photoId))) return nowNs();
    }
    throw new Error(`the body of photo ${photoId} did not reach ${dataDir} in ${timeoutMs / 1000} s`);
  } finally {
    db.close();
  }
}
