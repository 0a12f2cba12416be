/**
 * @module Digests of a region's data for `mraa verify`: one per table and one per
 * bucket, so a difference between regions is located; and per-key fingerprints of
 * one table or bucket, to name the keys that differ.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../adapters/sqlite/database.js';

export interface DataDigest {
  tables: Record<string, { items: number; live: number; digest: string }>;
  buckets: Record<string, { versions: number; digest: string }>;
}

export type KeyFingerprints = Record<string, string>;

export class Digests {
  constructor(
    private readonly db: Db,
    /** Region-local tables: never replicated, so not compared. */
    private readonly localTables: readonly string[] = [],
  ) {}

  compute(): DataDigest {
    const tables = new Map<string, { hash: ReturnType<typeof createHash>; items: number; live: number }>();
    for (const r of this.db
      .prepare('SELECT tbl, pk, data, epoch, hlc, region FROM items ORDER BY tbl, pk')
      .iterate() as Iterable<Row>) {
      if (this.localTables.includes(String(r.tbl))) continue;
      let t = tables.get(String(r.tbl));
      if (!t) {
        t = { hash: createHash('sha256'), items: 0, live: 0 };
        tables.set(String(r.tbl), t);
      }
      t.items++;
      if (r.data !== null) t.live++;
      t.hash.update(itemLine(r));
    }
    const buckets = new Map<string, { hash: ReturnType<typeof createHash>; versions: number }>();
    for (const r of this.db
      .prepare(
        'SELECT bucket, key, version_id, sha256, delete_marker, epoch, hlc, region FROM object_versions ORDER BY bucket, key, version_id',
      )
      .iterate() as Iterable<Row>) {
      let b = buckets.get(String(r.bucket));
      if (!b) {
        b = { hash: createHash('sha256'), versions: 0 };
        buckets.set(String(r.bucket), b);
      }
      b.versions++;
      b.hash.update(objectLine(r));
    }
    return {
      tables: Object.fromEntries(
        [...tables].map(([name, t]) => [name, { items: t.items, live: t.live, digest: t.hash.digest('hex') }]),
      ),
      buckets: Object.fromEntries(
        [...buckets].map(([name, b]) => [name, { versions: b.versions, digest: b.hash.digest('hex') }]),
      ),
    };
  }

  /** For each key of a table (or bucket), a fingerprint of its stored version(s). */
  keys(kind: 'table' | 'bucket', name: string): KeyFingerprints {
    const out: KeyFingerprints = {};
    if (kind === 'table') {
      for (const r of this.db
        .prepare('SELECT tbl, pk, data, epoch, hlc, region FROM items WHERE tbl = ? ORDER BY pk')
        .iterate(name) as Iterable<Row>) {
        out[String(r.pk)] = fingerprint(itemLine(r));
      }
      return out;
    }
    const hashes = new Map<string, ReturnType<typeof createHash>>();
    for (const r of this.db
      .prepare(
        'SELECT bucket, key, version_id, sha256, delete_marker, epoch, hlc, region FROM object_versions WHERE bucket = ? ORDER BY key, version_id',
      )
      .iterate(name) as Iterable<Row>) {
      const key = String(r.key);
      if (!hashes.has(key)) hashes.set(key, createHash('sha256'));
      hashes.get(key)!.update(objectLine(r));
    }
    for (const [key, h] of hashes) out[key] = h.digest('hex').slice(0, 16);
    return out;
  }
}

type Row = Record<string, string | number | null>;

function itemLine(r: Row): string {
  return `${r.pk}\u0000${r.epoch}\u0000${r.hlc}\u0000${r.region}\u0000${r.data ?? '\u0000tombstone'}\n`;
}

function objectLine(r: Row): string {
  return `${r.key}\u0000${r.version_id}\u0000${r.sha256 ?? ''}\u0000${r.delete_marker}\u0000${r.epoch}\u0000${r.hlc}\u0000${r.region}\n`;
}

function fingerprint(line: string): string {
  return createHash('sha256').update(line).digest('hex').slice(0, 16);
}
