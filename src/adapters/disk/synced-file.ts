/**
 * @module A file written from a stream with its dirty pages bounded: an fdatasync every
 * `FLUSH_EVERY_BYTES` (on libuv's thread pool) before more is written, and one at the
 * end before the stream reports it finished. Writing a large body in one go leaves
 * hundreds of MiB for the kernel to write back at once, and while it does, every other
 * write of the process (the database's WAL, that is every replicated comment) is
 * throttled behind it; PostgreSQL bounds its own writes the same way (`*_flush_after`).
 */
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';

export const FLUSH_EVERY_BYTES = 8 * 1024 * 1024;

/** A writable stream into a new file (`wx`, mode 0600), synced as it goes and at the end. */
export function syncedFileStream(path: string, flushEvery = FLUSH_EVERY_BYTES): Writable {
  const handle = open(path, 'wx', 0o600);
  let unsynced = 0;
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, done) {
      handle
        .then(async (fh) => {
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
          unsynced += chunk.length;
          if (unsynced >= flushEvery) {
            unsynced = 0;
            await fh.datasync();
          }
        })
        .then(() => done(), done);
    },
    final(done) {
      handle.then((fh) => fh.datasync().then(() => fh.close())).then(() => done(), done);
    },
    destroy(err, done) {
      handle
        .then((fh) => fh.close())
        .catch(() => undefined)
        .then(() => done(err));
    },
  });
}
