/**
 * @module Bodies moved by the load generator: photos uploaded by streaming their files,
 * the disk-copy baseline (the same files copied on the same disk, each to a temporary
 * file, fsynced and renamed, as the object store writes a body), and a 1 GiB upload
 * streamed from a generator.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { nowMs } from './clock.js';
import { agent } from './http-client.js';
import type { PhotoFile } from './photo-files.js';

export interface Uploaded {
  photoId: string;
  size: number;
  ms: number;
}

function upload(
  url: string,
  token: string,
  contentType: string,
  length: number,
  body: Readable,
): Promise<{ status: number; body: string }> {
  const u = new URL('/photos', url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    pipeline(body, req).catch(reject);
  });
}

export async function uploadPhotos(args: { url: string; token: string; files: PhotoFile[] }): Promise<Uploaded[]> {
  const out: Uploaded[] = [];
  for (const f of args.files) {
    const t0 = nowMs();
    const res = await upload(args.url, args.token, f.contentType, f.size, createReadStream(f.file));
    if (res.status !== 201) throw new Error(`upload of ${f.file}: HTTP ${res.status} ${res.body}`);
    out.push({ photoId: (JSON.parse(res.body) as { photoId: string }).photoId, size: f.size, ms: nowMs() - t0 });
  }
  return out;
}

/** Copies `files` into `destDir` like the object store writes a body; returns bytes and ms per round. */
export async function diskCopy(args: {
  files: string[];
  destDir: string;
  rounds: number;
}): Promise<Array<{ bytes: number; ms: number }>> {
  const rounds: Array<{ bytes: number; ms: number }> = [];
  for (let r = 0; r < args.rounds; r++) {
    await rm(args.destDir, { recursive: true, force: true });
    await mkdir(join(args.destDir, 'tmp'), { recursive: true });
    let bytes = 0;
    const t0 = nowMs();
    for (const file of args.files) {
      const tmp = join(args.destDir, 'tmp', `${basename(file)}.part`);
      await pipeline(createReadStream(file), createWriteStream(tmp, { flags: 'wx', flush: true }));
      await rename(tmp, join(args.destDir, basename(file)));
      const dir = await open(args.destDir, 'r');
      await dir.sync();
      await dir.close();
      bytes += (await stat(file)).size;
    }
    rounds.push({ bytes, ms: nowMs() - t0 });
  }
  await rm(args.destDir, { recursive: true, force: true });
  return rounds;
}

/** Streams `bytes` bytes that start like a JPEG but are noise: the server stores them, then cannot decode them. */
export async function bigUpload(args: {
  url: string;
  token: string;
  bytes: number;
}): Promise<{ status: number; code: string | null; ms: number }> {
  const CHUNK = 1024 * 1024;
  const noise = randomBytes(CHUNK);
  const header = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
  async function* body() {
    yield header;
    let left = args.bytes - header.length;
    while (left > 0) {
      const n = Math.min(CHUNK, left);
      yield n === CHUNK ? noise : noise.subarray(0, n);
      left -= n;
    }
  }
  const t0 = nowMs();
  const res = await upload(
    args.url,
    args.token,
    'image/jpeg',
    args.bytes,
    Readable.from(body(), { objectMode: false }),
  );
  let code: string | null = null;
  try {
    code = (JSON.parse(res.body) as { error?: { code?: string } }).error?.code ?? null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, code, ms: nowMs() - t0 };
}
