/**
 * @module Change-log entries: what a region's transactional outbox records for every
 * local write, and what its shippers send to peers.
 */
import type { Version } from './version.js';

export interface ItemChange {
  kind: 'item';
  table: string;
  key: string;
  /** null for a tombstone. */
  item: Record<string, unknown> | null;
  version: Version;
}

export interface ObjectChange {
  kind: 'object';
  bucket: string;
  key: string;
  versionId: string;
  sha256: string | null;
  etag: string | null;
  size: number;
  contentType: string | null;
  deleteMarker: boolean;
  lastModified: string;
  version: Version;
}

/**
 * Written when a region stops being the writer (a fence or a switch it learned of):
 * nothing it logs after this entry was accepted as a write under the old epoch, so a
 * peer that has applied it has drained the region.
 */
export interface BarrierChange {
  kind: 'barrier';
  appId: string;
  epoch: number;
}

export type Change = ItemChange | ObjectChange | BarrierChange;

export interface LogEntry {
  seq: number;
  /** Milliseconds since the epoch at which the entry was committed. */
  createdAt: number;
  /** Bytes to ship: the entry's JSON plus, for an object, its body. */
  bytes: number;
  change: Change;
}
