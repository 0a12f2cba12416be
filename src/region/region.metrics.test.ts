import { describe, expect, it } from 'vitest';
import type { StateRecord } from '../core/app-state.js';
import { transitionKind } from './region.metrics.js';

const rec = (epoch: number, state: StateRecord['state'], activeRegion: string): StateRecord => ({
  appId: 'photos',
  state,
  activeRegion,
  epoch,
  changedAt: new Date(epoch * 1000).toISOString(),
});

describe('transitionKind', () => {
  it('classifies a step between two records', () => {
    expect(transitionKind(rec(1, 'active', 'a'), rec(2, 'fenced', 'a'))).toBe('fence');
    expect(transitionKind(rec(2, 'fenced', 'a'), rec(3, 'active', 'a'))).toBe('lift');
    expect(transitionKind(rec(2, 'fenced', 'a'), rec(3, 'failover', 'b'))).toBe('switch');
    expect(transitionKind(rec(1, 'active', 'a'), rec(2, 'failover', 'b'))).toBe('forced-switch');
  });

  it('counts nothing for the first record, a record seen again, or an older one', () => {
    expect(transitionKind(null, rec(1, 'active', 'a'))).toBeNull();
    expect(transitionKind(rec(2, 'active', 'a'), rec(2, 'active', 'a'))).toBeNull();
    expect(transitionKind(rec(3, 'active', 'a'), rec(2, 'fenced', 'a'))).toBeNull();
  });
});
