/**
 * @module Compares the data digests of every region (`mraa verify`): which tables and
 * buckets differ, and, for those, which keys.
 */
import type { DataDigest, KeyFingerprints } from './digest.js';

export interface DigestRow {
  kind: 'table' | 'bucket';
  name: string;
  /** Per region: count and digest, or undefined where it has none. */
  perRegion: Record<string, { count: number; digest: string } | undefined>;
  same: boolean;
}

export function compareDigests(digests: Record<string, DataDigest>): DigestRow[] {
  const regions = Object.keys(digests);
  const rows: DigestRow[] = [];
  const names = (kind: 'tables' | 'buckets') =>
    [...new Set(regions.flatMap((r) => Object.keys(digests[r]![kind])))].sort();
  for (const name of names('tables')) {
    const perRegion = Object.fromEntries(
      regions.map((r) => {
        const t = digests[r]!.tables[name];
        return [r, t ? { count: t.items, digest: t.digest } : undefined];
      }),
    );
    rows.push({ kind: 'table', name, perRegion, same: allSame(Object.values(perRegion)) });
  }
  for (const name of names('buckets')) {
    const perRegion = Object.fromEntries(
      regions.map((r) => {
        const b = digests[r]!.buckets[name];
        return [r, b ? { count: b.versions, digest: b.digest } : undefined];
      }),
    );
    rows.push({ kind: 'bucket', name, perRegion, same: allSame(Object.values(perRegion)) });
  }
  return rows;
}

function allSame(values: Array<{ digest: string } | undefined>): boolean {
  return values.every((v) => v?.digest === values[0]?.digest);
}

export interface KeyDifference {
  key: string;
  /** Per region: its fingerprint of the key, or null where the key is missing. */
  perRegion: Record<string, string | null>;
}

export function compareKeys(keys: Record<string, KeyFingerprints>): KeyDifference[] {
  const regions = Object.keys(keys);
  const all = [...new Set(regions.flatMap((r) => Object.keys(keys[r]!)))].sort();
  const out: KeyDifference[] = [];
  for (const key of all) {
    const perRegion = Object.fromEntries(regions.map((r) => [r, keys[r]![key] ?? null]));
    const values = Object.values(perRegion);
    if (!values.every((v) => v === values[0])) out.push({ key, perRegion });
  }
  return out;
}
