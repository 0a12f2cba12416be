/**
 * @module Positions in a region's change log (src/ports/change-log.ts): a position is
 * (log id, sequence), the log a chain of segments with the sequence continuing across
 * them. Pure arithmetic over the segments: what a position is as a sequence of this
 * log, what the next batch to a peer is, and what a peer holds that this log lost.
 */
import type { ChangeLog, EntryAfter, LogSegment } from '../ports/change-log.js';
import type { LogPosition } from '../ports/peer-transport.js';

/** The next batch: which log id, after which sequence, up to which, and whether it moves the peer first. */
export interface BatchPlan {
  logId: string;
  move?: { from: LogPosition; at: number };
  after: number;
  upTo: number;
}

/** The segment of a log id (a null log id is the first log); -1 when the log never had it. */
export function segmentIndex(segs: readonly LogSegment[], logId: string | null): number {
  const id = logId ?? segs[0]!.logId;
  return segs.findIndex((s) => s.logId === id);
}

/** The last sequence of segment `i`, or null for the current one (it grows). */
function endOf(segs: readonly LogSegment[], i: number): number | null {
  return i + 1 < segs.length ? segs[i + 1]!.base : null;
}

/** A position as a sequence of this log: capped at the end of its log id (null: a log id not ours). */
export function sequenceOf(segs: readonly LogSegment[], pos: LogPosition): number | null {
  const i = segmentIndex(segs, pos.logId);
  if (i < 0) return null;
  const end = endOf(segs, i);
  return end === null ? pos.seq : Math.min(pos.seq, end);
}

/** Whether a peer at `pos` claims more of the current log id than the log holds (the sign of a lost tail). */
export function isAheadOfLog(segs: readonly LogSegment[], pos: LogPosition, head: number): boolean {
  return segmentIndex(segs, pos.logId) === segs.length - 1 && pos.seq > head;
}

/**
 * The next batch for a peer at `pos`: in the log id it follows, after its position;
 * or, once it has every entry of that log id the log has, the next log id, moving it
 * there (compare and set on the receiver). A peer on a log id this log never had (its
 * data directory was replaced) starts from the first; one on no log id yet adopts it.
 */
export function planBatch(segs: readonly LogSegment[], pos: LogPosition, durableHead: number): BatchPlan {
  const upToOf = (i: number) => Math.min(endOf(segs, i) ?? durableHead, durableHead);
  const moveTo = (j: number): BatchPlan => ({
    logId: segs[j]!.logId,
    move: { from: pos, at: segs[j]!.base },
    after: segs[j]!.base,
    upTo: upToOf(j),
  });
  const i = segmentIndex(segs, pos.logId);
  if (i < 0) return moveTo(0);
  const end = endOf(segs, i);
  if (end !== null && pos.seq >= end) {
    let j = i + 1;
    while (j + 1 < segs.length && segs[j + 1]!.base === segs[j]!.base) j++; // skip empty segments
    return moveTo(j);
  }
  const move = pos.logId === null ? { from: pos, at: pos.seq } : undefined;
  return { logId: segs[i]!.logId, ...(move ? { move } : {}), after: pos.seq, upTo: upToOf(i) };
}

/** Entries a peer at `pos` holds of a past log id beyond its end: writes this log lost. */
export function lostEntries(
  segs: readonly LogSegment[],
  pos: LogPosition,
): { logId: string; from: number; to: number; next: string } | null {
  const i = segmentIndex(segs, pos.logId);
  const end = i >= 0 ? endOf(segs, i) : null;
  if (end === null || pos.seq <= end) return null;
  return { logId: segs[i]!.logId, from: end + 1, to: pos.seq, next: planBatch(segs, pos, end).logId };
}

/** `log.entryAfter(seq)`, remembered for the last `seq` asked (and, when none, for the durable head then). */
export class EntryAfterMemo {
  private seq = -1;
  private head = -1;
  private value: EntryAfter | undefined;

  get(log: Pick<ChangeLog, 'entryAfter' | 'durableHead'>, seq: number): EntryAfter | undefined {
    const head = log.durableHead();
    if (seq !== this.seq || (this.value === undefined && head !== this.head)) {
      this.seq = seq;
      this.head = head;
      this.value = log.entryAfter(seq);
    }
    return this.value;
  }
}
