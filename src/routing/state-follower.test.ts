/**
 * @module The follower tells when the quorum is lost or regained, even when it lapses
 * by the clock between two failed reads of the register (the state events depend on it).
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StateService } from './state.service.js';
import { StateFollower } from './state-follower.js';

describe('StateFollower', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('tells a lost quorum once reads have failed for long enough, and its return', async () => {
    let reachable = true;
    const record = { appId: 'photos', state: 'active', activeRegion: 'us-east-1', epoch: 3, changedAt: 'x' };
    const state = {
      get: () => record,
      refresh: async () => {
        if (!reachable) throw new Error('no majority of voters answered');
        return record;
      },
    } as unknown as StateService;
    const told: boolean[] = [];
    const follower = new StateFollower({
      appId: 'photos',
      state,
      logger: pino({ level: 'silent' }),
      intervalMs: 1000,
      onQuorumChange: (q) => told.push(q),
    });
    await follower.start();
    expect(told).toEqual([true]);
    reachable = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(follower.quorum).toBe(false);
    expect(told).toEqual([true, false]);
    reachable = true;
    await vi.advanceTimersByTimeAsync(1500);
    expect(told).toEqual([true, false, true]);
    follower.stop();
  });
});
