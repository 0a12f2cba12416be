/**
 * @module The retention cap (DESIGN §5, like PostgreSQL's `max_slot_wal_keep_size`):
 * how many bytes of change log a region keeps for one peer before it marks the peer as
 * needing a rebuild. `settings.maxPeerBacklogBytes` in bytes, or by default a fraction
 * of the free space of the data directory's filesystem when the region starts.
 */
import { statfsSync } from 'node:fs';

export const DEFAULT_RETENTION_FRACTION = 0.25;
/** When the free space cannot be read: 1 GiB. */
export const FALLBACK_RETENTION_BYTES = 1024 ** 3;

export function retentionCapBytes(settings: { maxPeerBacklogBytes?: number | undefined }, dataDir: string): number {
  if (settings.maxPeerBacklogBytes !== undefined) return settings.maxPeerBacklogBytes;
  try {
    const fs = statfsSync(dataDir);
    return Math.max(1, Math.floor(Number(fs.bavail) * Number(fs.bsize) * DEFAULT_RETENTION_FRACTION));
  } catch {
    return FALLBACK_RETENTION_BYTES;
  }
}
