/**
 * @module A forced switch's result in words: the wait for the old lease, the possible
 * loss as a lower bound with its basis, or unknown (never a bare 0).
 */
import { describe, expect, it } from 'vitest';
import type { RegionRecord } from '../../../src/orchestration/plan.js';
import { forcedWaitLine, lossLines, waitedLine } from './plan-notes';

const record: RegionRecord = {
  appId: 'photos',
  state: 'failover',
  activeRegion: 'ap-northeast-1',
  epoch: 4,
  changedAt: '2026-01-01T00:00:00.000Z',
  region: 'ap-northeast-1',
};

describe('plan notes', () => {
  it('says how long a forced switch waited for the old writer’s lease', () => {
    expect(waitedLine(record)).toBeUndefined();
    expect(waitedLine({ ...record, waitedForLease: { holder: 'us-east-1', epoch: 3, waitedMs: 3900 } })).toBe(
      'Waited 3.90 s for us-east-1’s lease (epoch 3) to run out at a majority of voters: until then us-east-1 could still take writes, so no other region could.',
    );
  });

  it('gives the possible loss as a lower bound with its basis, or says it is unknown', () => {
    expect(lossLines(record)).toBeUndefined();
    const basis =
      "at least: us-east-1's log head 57 (reported 300 ms ago with its lease) less 45 applied by ap-northeast-1";
    expect(lossLines({ ...record, possibleLoss: { region: 'us-east-1', entries: 12, bytes: null, basis } })?.loss).toBe(
      `Possible loss: us-east-1 had at least 12 logged writes not applied by ap-northeast-1 (${basis}).`,
    );
    expect(
      lossLines({
        ...record,
        possibleLoss: {
          region: 'us-east-1',
          entries: null,
          bytes: null,
          basis: 'us-east-1 reported no log position to the voters',
        },
      })?.loss,
    ).toBe(
      'Possible loss: us-east-1 had an unknown number of logged writes not applied by ap-northeast-1 (us-east-1 reported no log position to the voters).',
    );
  });

  it('says what a running forced switch waits for', () => {
    expect(forcedWaitLine('us-east-1', 4000)).toBe(
      'waiting for us-east-1’s lease to run out at a majority of voters (up to 4.00 s)',
    );
  });
});
