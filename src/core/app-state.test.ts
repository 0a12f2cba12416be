import { describe, expect, it } from 'vitest';
import {
  compareRecords,
  initialRecord,
  isWriter,
  newestRecord,
  planTransition,
  type StateRecord,
  type TransitionRequest,
} from './app-state.js';
import { DomainError } from './errors.js';

const topology = { primary: 'us-east-1', regions: ['us-east-1', 'ap-northeast-1', 'eu-west-1'] };
const twoRegions = { primary: 'us-east-1', regions: ['us-east-1', 'ap-northeast-1'] };
const now = new Date('2026-11-27T10:00:00.000Z');

function record(state: StateRecord['state'], activeRegion: string, epoch = 5): StateRecord {
  return { appId: 'photos', state, activeRegion, epoch, changedAt: '2026-11-27T09:00:00.000Z' };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof DomainError ? err.code : 'not-a-domain-error';
  }
}

describe('the transition table of DESIGN §3', () => {
  // [from state, from writer, request, expected kind or error code, expected writer]
  const cases: Array<[StateRecord['state'], string, TransitionRequest, string, string?]> = [
    ['active', 'us-east-1', { state: 'fenced' }, 'fence', 'us-east-1'],
    ['failover', 'ap-northeast-1', { state: 'fenced' }, 'fence', 'ap-northeast-1'],
    ['fenced', 'us-east-1', { state: 'fenced' }, 'illegal_transition'],
    ['fenced', 'us-east-1', { state: 'active' }, 'lift', 'us-east-1'],
    ['fenced', 'ap-northeast-1', { state: 'failover', activeRegion: 'ap-northeast-1' }, 'lift', 'ap-northeast-1'],
    ['fenced', 'us-east-1', { state: 'failover', activeRegion: 'ap-northeast-1' }, 'switch', 'ap-northeast-1'],
    ['fenced', 'ap-northeast-1', { state: 'active' }, 'switch', 'us-east-1'],
    ['fenced', 'ap-northeast-1', { state: 'failover', activeRegion: 'eu-west-1' }, 'switch', 'eu-west-1'],
    ['active', 'us-east-1', { state: 'active' }, 'illegal_transition'],
    ['active', 'us-east-1', { state: 'failover', activeRegion: 'ap-northeast-1' }, 'illegal_transition'],
    [
      'active',
      'us-east-1',
      { state: 'failover', activeRegion: 'ap-northeast-1', force: true },
      'forced-switch',
      'ap-northeast-1',
    ],
    ['failover', 'ap-northeast-1', { state: 'active' }, 'illegal_transition'],
    ['failover', 'ap-northeast-1', { state: 'active', force: true }, 'forced-switch', 'us-east-1'],
    ['failover', 'ap-northeast-1', { state: 'failover', activeRegion: 'ap-northeast-1' }, 'illegal_transition'],
    [
      'failover',
      'ap-northeast-1',
      { state: 'failover', activeRegion: 'eu-west-1', force: true },
      'forced-switch',
      'eu-west-1',
    ],
    [
      'fenced',
      'us-east-1',
      { state: 'failover', activeRegion: 'ap-northeast-1', force: true },
      'forced-switch',
      'ap-northeast-1',
    ],
    ['active', 'us-east-1', { state: 'active', activeRegion: 'ap-northeast-1' }, 'invalid_request'],
    ['fenced', 'us-east-1', { state: 'failover', activeRegion: 'us-east-1' }, 'invalid_request'],
    ['fenced', 'us-east-1', { state: 'failover', activeRegion: 'mars-1' }, 'invalid_request'],
    ['active', 'us-east-1', { state: 'fenced', activeRegion: 'ap-northeast-1' }, 'invalid_request'],
    ['fenced', 'us-east-1', { state: 'failover' }, 'invalid_request'],
  ];

  for (const [from, writer, req, expected, nextWriter] of cases) {
    it(`${from}(${writer}) → ${req.state}${req.activeRegion ? `(${req.activeRegion})` : ''}${req.force ? ' forced' : ''}: ${expected}`, () => {
      const current = record(from, writer);
      const code = codeOf(() => planTransition(current, req, topology, now));
      if (['fence', 'lift', 'switch', 'forced-switch'].includes(expected)) {
        expect(code).toBeUndefined();
        const plan = planTransition(current, req, topology, now);
        expect(plan.kind).toBe(expected);
        expect(plan.next.epoch).toBe(current.epoch + 1);
        expect(plan.next.state).toBe(req.state);
        expect(plan.next.activeRegion).toBe(nextWriter);
        expect(plan.next.changedAt).toBe(now.toISOString());
        expect(plan.drainFrom).toBe(expected === 'switch' ? writer : undefined);
      } else {
        expect(code).toBe(expected);
      }
    });
  }

  it('picks the only secondary when failover names no region', () => {
    const plan = planTransition(record('fenced', 'us-east-1'), { state: 'failover' }, twoRegions, now);
    expect(plan.next.activeRegion).toBe('ap-northeast-1');
    expect(plan.kind).toBe('switch');
  });

  it('keeps the reason on the record', () => {
    const plan = planTransition(record('active', 'us-east-1'), { state: 'fenced', reason: 'drill' }, topology, now);
    expect(plan.next.reason).toBe('drill');
  });
});

describe('writers and record order', () => {
  it('admits writes only in the writer of an active or failover record', () => {
    expect(isWriter(record('active', 'us-east-1'), 'us-east-1')).toBe(true);
    expect(isWriter(record('active', 'us-east-1'), 'ap-northeast-1')).toBe(false);
    expect(isWriter(record('fenced', 'us-east-1'), 'us-east-1')).toBe(false);
    expect(isWriter(record('failover', 'ap-northeast-1'), 'ap-northeast-1')).toBe(true);
    expect(isWriter(undefined, 'us-east-1')).toBe(false);
  });

  it('orders records by epoch, then changedAt, then region', () => {
    const a = record('active', 'us-east-1', 3);
    const b = record('fenced', 'us-east-1', 4);
    expect(compareRecords(a, b)).toBeLessThan(0);
    const c = { ...a, changedAt: '2026-11-27T09:00:01.000Z' };
    expect(compareRecords(c, a)).toBeGreaterThan(0);
    const d = { ...a, activeRegion: 'zz-region' };
    expect(compareRecords(d, a)).toBeGreaterThan(0);
    expect(newestRecord([a, b, c])).toBe(b);
    expect(newestRecord([])).toBeUndefined();
  });

  it('starts an app active in the primary at epoch 1', () => {
    expect(initialRecord('photos', topology, now)).toMatchObject({
      state: 'active',
      activeRegion: 'us-east-1',
      epoch: 1,
    });
  });
});
