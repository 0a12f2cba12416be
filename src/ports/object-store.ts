/**
 * @module Object store port: S3's data model (DESIGN §4). The embedded adapter is
 * src/adapters/disk/object-store.ts; an S3 adapter implements the same interface
 * and runs the same conformance suite (test/conformance/object-store.case.ts).
 *
 * Contract:
 * - Buckets hold keys; every put creates a new version with its own versionId.
 *   The latest version of a key is the greatest by Version (epoch, hlc, region).
 * - A `put` or `delete` whose stamp does not beat the current latest version of its
 *   key (a newer version replicated in, a clock gone back) is refused with DomainError
 *   `conflict` and stores nothing, as the table store refuses a losing item write:
 *   nothing is ever acknowledged as the latest version unless it is served as such.
 * - Bodies are streamed in and out, never held whole in memory. `put` computes the
 *   SHA-256 and the ETag (MD5, as S3 does for a single-part upload) while streaming;
 *   a body longer than `maxBytes` is refused with DomainError `too_large` and leaves
 *   nothing behind. Nothing is visible until the body is durable.
 * - `delete` adds a delete marker: `get`/`head` then report not_found, `listVersions`
 *   still shows every version and the marker.
 * - Keys are any UTF-8 string of 1 to 1024 bytes without NUL; they are data, never
 *   a file path. A key outside those bounds is refused with `invalid_request`.
 * - Not found is DomainError `not_found`.
 */
import type { Readable } from 'node:stream';
import type { ObjectChange } from '../core/change.js';
import type { Stamp } from './table-store.js';

/** A version of an object, or a delete marker (no body: `sha256` and `etag` are null). */
export type ObjectVersion = Omit<ObjectChange, 'kind'> & { isLatest?: boolean };

export interface PutObjectOptions {
  stamp: Stamp;
  contentType?: string;
  maxBytes?: number;
  /** Called with the first bytes of the body (up to 64), before they are stored; may throw to refuse. */
  inspect?: (head: Buffer) => void;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP. */
  end: number;
}

export interface GetObjectOptions {
  versionId?: string;
  range?: ByteRange;
}

export interface ObjectBody {
  meta: ObjectVersion;
  body: Readable;
  range?: ByteRange;
}

export interface ListOptions {
  prefix?: string;
  cursor?: string | null;
  limit?: number;
}

export interface ObjectPage<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ObjectStore {
  put(bucket: string, key: string, body: Readable, options: PutObjectOptions): Promise<ObjectVersion>;
  get(bucket: string, key: string, options?: GetObjectOptions): Promise<ObjectBody>;
  head(bucket: string, key: string, options?: { versionId?: string }): Promise<ObjectVersion>;
  delete(bucket: string, key: string, options: { stamp: Stamp }): Promise<ObjectVersion>;
  /** Latest versions that are not delete markers, in key order. */
  list(bucket: string, options?: ListOptions): Promise<ObjectPage<ObjectVersion>>;
  /**
   * Optional: the path of the latest version's body on this machine, for decoders that
   * read a file lazily instead of buffering a stream. Undefined if not a local file.
   */
  localPath?(bucket: string, key: string): Promise<string | undefined>;
  /** Every version and delete marker, by key, newest first within a key. */
  listVersions(bucket: string, options?: ListOptions): Promise<ObjectPage<ObjectVersion>>;
}

export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
