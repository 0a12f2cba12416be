/**
 * @module Object-bodies port: the content-addressed bodies under a region's object
 * versions, as replication streams them between regions and collects them. The
 * embedded adapter is src/adapters/disk/blob-files.ts.
 *
 * Contract:
 * - A body is named by the SHA-256 of its bytes; writing the same bytes twice is one body.
 * - `write` streams to durable storage; with `expectSha256` a body that hashes to
 *   anything else is discarded and the write fails. A written body is held (never
 *   collected) until `release`, which the caller calls once its metadata committed.
 * - `read` of a body that is not there fails the stream (ENOENT); check `exists` first.
 * - `remove` of a body that is not there is not an error.
 */
import type { Readable } from 'node:stream';

export interface StoredBody {
  sha256: string;
  size: number;
  mtimeMs: number;
}

export interface ObjectBodies {
  exists(sha256: string): Promise<boolean>;
  /** The body's size in bytes, or undefined when it is not here. */
  size(sha256: string): Promise<number | undefined>;
  read(sha256: string): Readable;
  write(body: Readable, options: { expectSha256: string }): Promise<{ sha256: string; size: number }>;
  release(sha256: string): void;
  isHeld(sha256: string): boolean;
  list(): AsyncIterable<StoredBody>;
  remove(sha256: string): Promise<void>;
}
