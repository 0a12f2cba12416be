/**
 * @module Content-addressed body files of the embedded object store. A body is
 * streamed to a temporary file while its SHA-256 and MD5 are computed, fsynced,
 * then renamed to `blobs/<aa>/<bb>/<sha256>`. File names are only ever hex digests
 * made here, never object keys, so no key can name a path.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable, Transform } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { DomainError } from '../../core/errors.js';
import type { ObjectBodies } from '../../ports/object-bodies.js';
import { streamedBytes } from '../../util/gc-nudge.js';
import { syncedFileStream } from './synced-file.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const HEAD_BYTES = 64;
/** Bodies are read in 1 MiB chunks: fewer reads and fewer buffers than the default 64 KiB. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface WrittenBlob {
  sha256: string;
  /** Null when the body was written against an expected SHA-256 (replication). */
  md5: string | null;
  size: number;
}

export interface WriteBlobOptions {
  maxBytes?: number;
  inspect?: (head: Buffer) => void;
  /** When set, the body must hash to this digest or it is discarded. */
  expectSha256?: string;
}

export class BlobFiles implements ObjectBodies {
  private readonly tmpDir: string;
  /** Digests written but perhaps not yet referenced by committed metadata: never collected. */
  private readonly inFlight = new Map<string, number>();

  constructor(readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  async init(): Promise<void> {
    // Temporary files are bodies whose put never finished (a crash mid-upload): nothing refers to them.
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
  }

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new DomainError('invalid_request', 'malformed sha256');
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /**
   * Stream a body to disk. On success the blob is durable and in place; the caller
   * must call `release` once its metadata committed (or failed), so it may be collected.
   */
  async write(body: Readable, options: WriteBlobOptions = {}): Promise<WrittenBlob> {
    const tmp = join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const sha = createHash('sha256');
    // A replicated body comes with its ETag: only a new upload needs its MD5 computed.
    const md5 = options.expectSha256 === undefined ? createHash('md5') : undefined;
    let size = 0;
    let head: Buffer | null = Buffer.alloc(0);
    const { maxBytes = Infinity, inspect } = options;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes)
          return done(new DomainError('too_large', `the body exceeds ${maxBytes} bytes`, { maxBytes }));
        if (head !== null) {
          head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
          if (head.length >= HEAD_BYTES) {
            const h = head;
            head = null;
            try {
              inspect?.(h);
            } catch (err) {
              return done(err as Error);
            }
          }
        }
        sha.update(chunk);
        md5?.update(chunk);
        streamedBytes(chunk.length);
        done(null, chunk);
      },
      flush(done) {
        if (head !== null) {
          try {
            inspect?.(head);
          } catch (err) {
            return done(err as Error);
          }
        }
        done();
      },
    });
    try {
      // Synced every 8 MiB as it is written, and before the stream reports it finished.
      await pipelineAsync(body, meter, syncedFileStream(tmp));
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    const digest = sha.digest('hex');
    if (options.expectSha256 !== undefined && options.expectSha256 !== digest) {
      await unlink(tmp).catch(() => {});
      throw new DomainError('invalid_request', 'the body does not match its SHA-256', {
        expected: options.expectSha256,
        actual: digest,
      });
    }
    this.hold(digest);
    try {
      const dest = this.pathOf(digest);
      await mkdir(join(dest, '..'), { recursive: true });
      await rename(tmp, dest);
      await fsyncDirectory(join(dest, '..'));
    } catch (err) {
      this.release(digest);
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return { sha256: digest, md5: md5?.digest('hex') ?? null, size };
  }

  hold(sha256: string): void {
    this.inFlight.set(sha256, (this.inFlight.get(sha256) ?? 0) + 1);
  }

  release(sha256: string): void {
    const n = (this.inFlight.get(sha256) ?? 0) - 1;
    if (n <= 0) this.inFlight.delete(sha256);
    else this.inFlight.set(sha256, n);
  }

  isHeld(sha256: string): boolean {
    return this.inFlight.has(sha256);
  }

  async exists(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch {
      return undefined;
    }
  }

  /** A read stream of the body, or of bytes start..end inclusive. */
  read(sha256: string, range?: { start: number; end: number }): Readable {
    const file = createReadStream(this.pathOf(sha256), {
      highWaterMark: READ_CHUNK_BYTES,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        streamedBytes(chunk.length);
        done(null, chunk);
      },
    });
    return pipeline(file, counted, () => undefined);
  }

  async remove(sha256: string): Promise<void> {
    await unlink(this.pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Every stored digest with its modification time. */
  async *list(): AsyncGenerator<{ sha256: string; mtimeMs: number; size: number }> {
    for (const a of await readdirSafe(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await readdirSafe(join(this.root, a))) {
        for (const name of await readdirSafe(join(this.root, a, b))) {
          if (!SHA256_HEX.test(name)) continue;
          const s = await stat(join(this.root, a, b, name)).catch(() => null);
          if (s) yield { sha256: name, mtimeMs: s.mtimeMs, size: s.size };
        }
      }
    }
  }
}

async function readdirSafe(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
