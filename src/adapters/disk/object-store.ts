/**
 * @module The embedded object store: bodies as content-addressed files (BlobFiles),
 * versions and their latest pointer in the region database, every version logged
 * in the same transaction as its metadata.
 *
 * Every version, local or replicated, is compared with the current latest one by
 * (epoch, hlc, region). A replicated version that loses is kept as a non-latest version
 * (as S3 replication keeps every version); a local PUT or DELETE that would not become
 * the latest is refused with `conflict` (409), as the table store refuses a losing
 * item write, so nothing is ever acknowledged as latest that is not served as latest.
 * The refused write is told to the `onLocalLoser` listeners (the conflict log).
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ObjectChange } from '../../core/change.js';
import { DomainError } from '../../core/errors.js';
import type { Hlc } from '../../core/hlc.js';
import { assertKey } from '../../core/keys.js';
import { compareVersions, type Version } from '../../core/version.js';
import {
  BUCKET_NAME,
  type GetObjectOptions,
  type ListOptions,
  type ObjectBody,
  type ObjectPage,
  type ObjectStore,
  type ObjectVersion,
  type PutObjectOptions,
} from '../../ports/object-store.js';
import type { Stamp } from '../../ports/table-store.js';
import { decodeCursor, encodeCursor, pageSize } from '../sqlite/paging.js';
import { HLC_GLOB, type LocalLoserListener, LocalWriteLostError, reportingLosers } from '../sqlite/table-store.js';
import type { Transactor } from '../sqlite/transactor.js';
import type { BlobFiles } from './blob-files.js';

interface VersionRow {
  bucket: string;
  key: string;
  version_id: string;
  sha256: string | null;
  etag: string | null;
  size: number;
  content_type: string | null;
  delete_marker: number;
  last_modified: string;
  epoch: number;
  hlc: string;
  region: string;
}

export type RemoteObjectOutcome = 'applied' | 'duplicate' | 'not-latest';

export class MissingBlobError extends Error {
  constructor(readonly sha256: string) {
    super(`body ${sha256} has not arrived`);
  }
}

const COLUMNS =
  'bucket, key, version_id, sha256, etag, size, content_type, delete_marker, last_modified, epoch, hlc, region';

export class DiskObjectStore implements ObjectStore {
  private readonly stmts;
  private readonly loserListeners: LocalLoserListener[] = [];

  constructor(
    private readonly tx: Transactor,
    readonly blobs: BlobFiles,
    private readonly now: () => Date = () => new Date(),
  ) {
    const db = tx.db;
    this.stmts = {
      insert: db.prepare(`INSERT INTO object_versions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      version: db.prepare(`SELECT ${COLUMNS} FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?`),
      latest: db.prepare(
        `SELECT v.bucket, v.key, v.version_id, v.sha256, v.etag, v.size, v.content_type, v.delete_marker, v.last_modified, v.epoch, v.hlc, v.region
         FROM object_latest l JOIN object_versions v USING (bucket, key, version_id) WHERE l.bucket = ? AND l.key = ?`,
      ),
      setLatest: db.prepare(
        `INSERT INTO object_latest (bucket, key, version_id, delete_marker) VALUES (?, ?, ?, ?)
         ON CONFLICT (bucket, key) DO UPDATE SET version_id = excluded.version_id, delete_marker = excluded.delete_marker`,
      ),
      list: db.prepare(
        `SELECT v.bucket, v.key, v.version_id, v.sha256, v.etag, v.size, v.content_type, v.delete_marker, v.last_modified, v.epoch, v.hlc, v.region
         FROM object_latest l JOIN object_versions v USING (bucket, key, version_id)
         WHERE l.bucket = ? AND l.delete_marker = 0 AND l.key > ? AND substr(l.key, 1, ?) = ? ORDER BY l.key LIMIT ?`,
      ),
      listVersions: db.prepare(
        `SELECT ${COLUMNS} FROM object_versions
         WHERE bucket = ? AND substr(key, 1, ?) = ? AND (key > ? OR (key = ? AND (epoch, hlc, region) < (?, ?, ?)))
         ORDER BY key, epoch DESC, hlc DESC, region DESC LIMIT ?`,
      ),
      referenced: db.prepare('SELECT 1 FROM object_versions WHERE sha256 = ? LIMIT 1'),
      highestHlc: db.prepare(`SELECT MAX(hlc) AS hlc FROM object_versions WHERE hlc GLOB '${HLC_GLOB}'`),
    };
  }

  /** Told about every local PUT or DELETE refused because it would not be the latest version. */
  onLocalLoser(listener: LocalLoserListener): void {
    this.loserListeners.push(listener);
  }

  /** The highest HLC of any object version or delete marker held here (seeds the clock at start). */
  highestHlc(): Hlc | undefined {
    return (this.stmts.highestHlc.get() as { hlc: string | null }).hlc ?? undefined;
  }

  async put(bucket: string, key: string, body: Readable, options: PutObjectOptions): Promise<ObjectVersion> {
    checkBucket(bucket);
    assertKey(key, 'an object key');
    const written = await this.blobs.write(body, {
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    try {
      const committed = this.recordLocal(() => {
        const version = options.stamp();
        const change: ObjectChange = {
          kind: 'object',
          bucket,
          key,
          versionId: newVersionId(),
          sha256: written.sha256,
          etag: `"${written.md5}"`,
          size: written.size,
          contentType: options.contentType ?? 'application/octet-stream',
          deleteMarker: false,
          lastModified: this.now().toISOString(),
          version,
        };
        return { change, bytes: written.size };
      });
      await this.tx.durable();
      return committed;
    } finally {
      this.blobs.release(written.sha256);
    }
  }

  async get(bucket: string, key: string, options: GetObjectOptions = {}): Promise<ObjectBody> {
    const meta = this.find(bucket, key, options.versionId);
    const { range } = options;
    if (range && (range.start > range.end || range.end >= meta.size)) {
      throw new DomainError(
        'range_not_satisfiable',
        `bytes ${range.start}-${range.end} are outside 0-${meta.size - 1}`,
        { size: meta.size },
      );
    }
    const body = meta.size === 0 ? this.blobs.read(meta.sha256!, undefined) : this.blobs.read(meta.sha256!, range);
    return { meta, body, ...(range ? { range } : {}) };
  }

  async head(bucket: string, key: string, options: { versionId?: string } = {}): Promise<ObjectVersion> {
    return this.find(bucket, key, options.versionId);
  }

  async delete(bucket: string, key: string, options: { stamp: Stamp }): Promise<ObjectVersion> {
    checkBucket(bucket);
    assertKey(key, 'an object key');
    const marker = this.recordLocal(() => {
      const change: ObjectChange = {
        kind: 'object',
        bucket,
        key,
        versionId: newVersionId(),
        sha256: null,
        etag: null,
        size: 0,
        contentType: null,
        deleteMarker: true,
        lastModified: this.now().toISOString(),
        version: options.stamp(),
      };
      return { change };
    });
    await this.tx.durable();
    return marker;
  }

  async list(bucket: string, options: ListOptions = {}): Promise<ObjectPage<ObjectVersion>> {
    checkBucket(bucket);
    const prefix = options.prefix ?? '';
    const limit = pageSize(options.limit);
    const [after] = options.cursor ? decodeCursor(options.cursor, 1) : [''];
    const rows = this.stmts.list.all(bucket, after, prefix.length, prefix, limit + 1) as VersionRow[];
    const page = rows.slice(0, limit).map((r) => ({ ...fromRow(r), isLatest: true }));
    const last = page[page.length - 1];
    return { items: page, nextCursor: rows.length > limit && last ? encodeCursor([last.key]) : null };
  }

  async listVersions(bucket: string, options: ListOptions = {}): Promise<ObjectPage<ObjectVersion>> {
    checkBucket(bucket);
    const prefix = options.prefix ?? '';
    const limit = pageSize(options.limit);
    const [ck, ce, ch, cr] = options.cursor
      ? decodeCursor(options.cursor, 4)
      : ['', String(Number.MAX_SAFE_INTEGER), '', ''];
    const rows = this.stmts.listVersions.all(
      bucket,
      prefix.length,
      prefix,
      ck,
      ck,
      Number(ce),
      ch,
      cr,
      limit + 1,
    ) as VersionRow[];
    const page = rows.slice(0, limit).map((r) => {
      const latest = this.stmts.latest.get(r.bucket, r.key) as VersionRow | undefined;
      return { ...fromRow(r), isLatest: latest?.version_id === r.version_id };
    });
    const last = page[page.length - 1];
    return {
      items: page,
      nextCursor:
        rows.length > limit && last
          ? encodeCursor([last.key, String(last.version.epoch), last.version.hlc, last.version.region])
          : null,
    };
  }

  /**
   * Apply a version a peer logged. Idempotent; every version is kept (as S3 replication
   * does), and the latest pointer moves only to a greater version. The body must
   * already be here (shipped and verified before the entry), else MissingBlobError.
   */
  applyRemote(change: ObjectChange): RemoteObjectOutcome {
    return this.tx.run(() => {
      if (this.stmts.version.get(change.bucket, change.key, change.versionId)) return 'duplicate';
      if (change.sha256 !== null && !this.blobExistsSync(change.sha256)) throw new MissingBlobError(change.sha256);
      return this.record(change) ? 'applied' : 'not-latest';
    });
  }

  async localPath(bucket: string, key: string): Promise<string | undefined> {
    const meta = this.find(bucket, key);
    return meta.sha256 ? this.blobs.pathOf(meta.sha256) : undefined;
  }

  /** The latest version of a key, delete markers included, or undefined. */
  latestVersion(bucket: string, key: string): ObjectVersion | undefined {
    const row = this.stmts.latest.get(bucket, key) as VersionRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  isReferenced(sha256: string): boolean {
    return this.stmts.referenced.get(sha256) !== undefined;
  }

  /**
   * Record a local version (`make` stamps it inside the transaction) and log it, only if
   * it beats the current latest version of its key: the same comparison as for a
   * replicated version. One that does not is refused with `conflict` and reported.
   */
  private recordLocal(make: () => { change: ObjectChange; bytes?: number }): ObjectVersion {
    return reportingLosers(this.loserListeners, () =>
      this.tx.run(() => {
        const { change, bytes } = make();
        const current = this.stmts.latest.get(change.bucket, change.key) as VersionRow | undefined;
        if (current && compareVersions(change.version, rowVersion(current)) <= 0) {
          throw new LocalWriteLostError(
            {
              kind: 'object',
              name: change.bucket,
              key: change.key,
              origin: change.version.region,
              loser: change,
              winner: fromRow(current),
            },
            `a newer version of ${change.bucket}/${change.key} exists`,
            rowVersion(current),
          );
        }
        this.record(change);
        this.tx.log.append(change, bytes);
        return { ...toObjectVersion(change), isLatest: true };
      }),
    );
  }

  /** Insert a version; returns whether it became the latest of its key. */
  private record(c: ObjectChange): boolean {
    this.stmts.insert.run(
      c.bucket,
      c.key,
      c.versionId,
      c.sha256,
      c.etag,
      c.size,
      c.contentType,
      c.deleteMarker ? 1 : 0,
      c.lastModified,
      c.version.epoch,
      c.version.hlc,
      c.version.region,
    );
    const current = this.stmts.latest.get(c.bucket, c.key) as VersionRow | undefined;
    if (current && compareVersions(c.version, rowVersion(current)) <= 0) return false;
    this.stmts.setLatest.run(c.bucket, c.key, c.versionId, c.deleteMarker ? 1 : 0);
    return true;
  }

  private blobExistsSync(sha256: string): boolean {
    try {
      return statSync(this.blobs.pathOf(sha256)).isFile();
    } catch {
      return false;
    }
  }

  private find(bucket: string, key: string, versionId?: string): ObjectVersion {
    checkBucket(bucket);
    assertKey(key, 'an object key');
    const row = (
      versionId === undefined ? this.stmts.latest.get(bucket, key) : this.stmts.version.get(bucket, key, versionId)
    ) as VersionRow | undefined;
    if (!row || row.delete_marker)
      throw new DomainError('not_found', `no object ${bucket}/${key}${versionId ? ` version ${versionId}` : ''}`);
    return fromRow(row);
  }
}

function newVersionId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}${randomBytes(10).toString('hex')}`;
}

function rowVersion(r: VersionRow): Version {
  return { epoch: r.epoch, hlc: r.hlc, region: r.region };
}

function fromRow(r: VersionRow): ObjectVersion {
  return {
    bucket: r.bucket,
    key: r.key,
    versionId: r.version_id,
    sha256: r.sha256,
    etag: r.etag,
    size: r.size,
    contentType: r.content_type,
    deleteMarker: r.delete_marker === 1,
    lastModified: r.last_modified,
    version: rowVersion(r),
  };
}

function toObjectVersion(c: ObjectChange): ObjectVersion {
  const { kind: _kind, ...rest } = c;
  return rest;
}

function checkBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket))
    throw new DomainError('invalid_request', `invalid bucket name "${bucket.slice(0, 80)}"`);
}
