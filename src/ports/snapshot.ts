/**
 * @module Snapshot port: a consistent copy of a region's storage that another region
 * is rebuilt from (DESIGN §5, rebuild). The embedded adapter is
 * src/adapters/sqlite/snapshot.ts; the endpoints that serve it are
 * src/replication/snapshot.routes.ts, the rebuild itself src/region/rebuild.ts.
 *
 * Contract:
 * - `create` copies the region's tables, object metadata, change-log identity and
 *   replication progress as of one moment (one read transaction): the data it holds is
 *   exactly what the progress it holds says was applied, and the log head it names is
 *   the last of this region's own entries it contains.
 * - The copy is a file named by its id, with its size and SHA-256: the manifest travels
 *   in a signed answer, the file itself as an unsigned stream checked against it.
 * - A snapshot is kept until a newer one is made for the same peer, or it is older than
 *   the keep time; `find` of one that is gone is undefined.
 * - Object bodies are not in the file: it names them (`sha256`), and they are fetched
 *   apart, each checked by its SHA-256.
 */

/** Where a rebuilding region asks for a snapshot, and fetches it and the bodies it names. */
export const SNAPSHOT_PATH = '/internal/snapshot';
export const SNAPSHOT_SOURCE_PATH = '/internal/snapshot-source';
export const SNAPSHOT_BODY_PATH = '/internal/snapshot-bodies/';

export interface SnapshotManifest {
  id: string;
  /** The region the snapshot is of. */
  source: string;
  /** The region it was made for (only that region may download it). */
  forPeer: string;
  createdAt: string;
  /** The file: its size and SHA-256. */
  size: number;
  sha256: string;
  /** The source's own log at the snapshot moment: its current log id and head. */
  logId: string;
  head: number;
  /** Object bodies the snapshot refers to, and their total size. */
  bodies: number;
  bodyBytes: number;
}

/** What a peer says about itself to a region looking for a snapshot source. */
export interface SnapshotSourceInfo {
  region: string;
  /** Whether it is the writer (a rebuild prefers the writer). */
  writer: boolean;
  /** Whether it holds any replicated data or has logged anything: an empty peer is no source. */
  hasData: boolean;
  logId: string;
  head: number;
}

export interface Snapshots {
  create(forPeer: string): Promise<SnapshotManifest>;
  find(id: string): { manifest: SnapshotManifest; file: string } | undefined;
  /** Whether this region holds replicated data (items, object versions) or has logged anything. */
  hasData(): boolean;
  /** Remove snapshots past their keep time. */
  sweep(): Promise<void>;
}
