/**
 * @module How a replication link stands, typed by what recovers it: shipping and
 * following recover by themselves; `refused` clears when the cause does (a clock
 * that was ahead); `needs-rebuild` never clears by retrying, only when the peer is
 * rebuilt from a snapshot (`mraa region --region NAME --rebuild`). Each state carries
 * the sentence operators read in `/status` and `mraa status`.
 */
import type { RebuildReason } from '../ports/replica-store.js';

/** This region's link to a peer it ships its log to. */
export type PeerLinkState =
  | { kind: 'shipping' }
  /** The peer refuses our batches (and applies none of them); retried with backoff. */
  | { kind: 'refused'; reason: 'clock_ahead'; aheadMs: number; message: string; since: string }
  /** Our log cannot bring the peer up to date: shipping stopped until it is rebuilt. */
  | { kind: 'needs-rebuild'; reason: RebuildReason; message: string; since: string };

/** This region's link from an origin whose log it applies. */
export type OriginLinkState =
  | { kind: 'following' }
  /** This region refused the origin's last batch (nothing of it applied or adopted). */
  | { kind: 'refused'; reason: 'clock_ahead'; aheadMs: number; message: string; since: string }
  /** The origin says it cannot bring this region up to date from its log. */
  | { kind: 'needs-rebuild'; reason: string; message: string; since: string };

export function rebuildInstruction(region: string): string {
  return `run mraa region --region ${region} --rebuild on its host`;
}

export function retentionMessage(peer: string, capBytes: number): string {
  return `${peer} fell behind by more than ${formatSize(capBytes)} and must be rebuilt: ${rebuildInstruction(peer)}`;
}

export function compactedMessage(peer: string, needed: number, tail: number): string {
  return `${peer} needs entries from ${needed}, but this region's log starts at ${tail}: it must be rebuilt: ${rebuildInstruction(peer)}`;
}

export function divergedMessage(peer: string, applied: number, logId: string, head: number): string {
  return (
    `${peer} reports having applied up to ${applied} of this region's log ${shortId(logId)}, which ends at ${head} ` +
    `(this region lost entries after it started): ${peer} must be rebuilt: ${rebuildInstruction(peer)}`
  );
}

export function clockAheadMessage(aheadMs: number): string {
  return `refused: clock ahead by ${aheadMs} ms`;
}

export function shortId(logId: string | null): string {
  return logId === null ? 'first log' : logId.slice(0, 8);
}

/** 2.0 GiB, 512.0 MiB, 3.5 KiB, 12 B. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes / 1024;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${n.toFixed(1)} ${units[unit]}`;
}
