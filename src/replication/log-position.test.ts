import { describe, expect, it } from 'vitest';
import type { LogSegment } from '../ports/change-log.js';
import { isAheadOfLog, lostEntries, planBatch, sequenceOf } from './log-position.js';

const seg = (logId: string, base: number): LogSegment => ({ logId, base, startedAt: 0, reason: 'x' });
// L1 holds 1..100, L2 is empty (started and restarted at once), L3 holds 101..
const segs = [seg('L1', 0), seg('L2', 100), seg('L3', 100)];

describe('positions in a chain of log ids', () => {
  it('reads a position as a sequence of the log, capped at the end of its log id', () => {
    expect(sequenceOf(segs, { logId: 'L1', seq: 40 })).toBe(40);
    expect(sequenceOf(segs, { logId: 'L1', seq: 105 })).toBe(100);
    expect(sequenceOf(segs, { logId: null, seq: 7 })).toBe(7);
    expect(sequenceOf(segs, { logId: 'L3', seq: 130 })).toBe(130);
    expect(sequenceOf(segs, { logId: 'other', seq: 5 })).toBeNull();
  });

  it('plans the rest of the log id a peer follows, then moves it past empty ones to the next', () => {
    expect(planBatch(segs, { logId: 'L1', seq: 40 }, 150)).toEqual({ logId: 'L1', after: 40, upTo: 100 });
    expect(planBatch(segs, { logId: 'L1', seq: 105 }, 150)).toEqual({
      logId: 'L3',
      move: { from: { logId: 'L1', seq: 105 }, at: 100 },
      after: 100,
      upTo: 150,
    });
    expect(planBatch(segs, { logId: null, seq: 3 }, 150)).toMatchObject({ logId: 'L1', move: { at: 3 }, after: 3 });
    expect(planBatch(segs, { logId: 'other', seq: 9 }, 150)).toMatchObject({ logId: 'L1', move: { at: 0 }, after: 0 });
  });

  it('names what a peer holds beyond the end of a past log id, and a peer ahead of the current one', () => {
    expect(lostEntries(segs, { logId: 'L1', seq: 105 })).toEqual({ logId: 'L1', from: 101, to: 105, next: 'L3' });
    expect(lostEntries(segs, { logId: 'L1', seq: 100 })).toBeNull();
    expect(isAheadOfLog(segs, { logId: 'L3', seq: 151 }, 150)).toBe(true);
    expect(isAheadOfLog(segs, { logId: 'L1', seq: 151 }, 150)).toBe(false);
  });
});
