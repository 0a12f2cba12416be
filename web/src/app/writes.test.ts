/**
 * @module When writes are paused, and why: no region, a fence, or no quorum in the
 * region the client follows (the writer, or the regions that answer when it does not).
 */
import { describe, expect, it } from 'vitest';
import type { RegionView, RoutingSnapshot, StateRecord } from '../../../src/routing/client/index.js';
import { followedQuorum, resumesWhen, writesPaused } from './writes';

const P = 'us-east-1';
const S = 'ap-northeast-1';

function rec(patch: Partial<StateRecord> = {}): StateRecord {
  return {
    appId: 'photos',
    state: 'active',
    activeRegion: P,
    epoch: 3,
    changedAt: '2026-01-01T00:00:00.000Z',
    ...patch,
  };
}

function snap(
  record: StateRecord | undefined,
  views: Array<{ name: string; quorum?: boolean; streaming?: boolean; reachable?: boolean }>,
): RoutingSnapshot {
  const regions: RegionView[] = views.map((v, i) => ({
    name: v.name,
    url: `http://${v.name}.test`,
    role: i === 0 ? 'primary' : 'secondary',
    reachable: v.reachable ?? true,
    streaming: v.streaming ?? true,
    ...(record
      ? { record: { ...record, region: v.name, ...(v.quorum !== undefined ? { quorum: v.quorum } : {}) } }
      : {}),
  }));
  return { status: 'ready', regions, ...(record ? { record } : {}) };
}

describe('writesPaused', () => {
  it('is undefined when the writer has its quorum, or says nothing of it (an older server)', () => {
    expect(
      writesPaused(
        snap(rec(), [
          { name: P, quorum: true },
          { name: S, quorum: true },
        ]),
      ),
    ).toBeUndefined();
    expect(writesPaused(snap(rec(), [{ name: P }, { name: S }]))).toBeUndefined();
  });

  it('says the regions cannot agree when the writer has no quorum', () => {
    const paused = writesPaused(
      snap(rec(), [
        { name: P, quorum: false },
        { name: S, quorum: true },
      ]),
    );
    expect(paused).toEqual({
      kind: 'no_quorum',
      reason: 'Writes are paused because the regions cannot agree: not enough voters are reachable.',
    });
    expect(resumesWhen('no_quorum', 'Uploads')).toBe(
      'Uploads resume by themselves as soon as the regions agree again.',
    );
  });

  it('follows the regions that answer when the writer’s stream is down', () => {
    const down = { name: P, quorum: true, streaming: false };
    expect(writesPaused(snap(rec(), [down, { name: S, quorum: false }]))?.kind).toBe('no_quorum');
    expect(writesPaused(snap(rec(), [down, { name: S, quorum: true }]))).toBeUndefined();
  });

  it('pauses after a write refused with no_quorum, whatever the record says', () => {
    expect(writesPaused(snap(rec(), [{ name: P, quorum: true }]), true)?.kind).toBe('no_quorum');
  });

  it('puts a fence, and no region at all, before the quorum', () => {
    expect(writesPaused(snap(rec({ state: 'fenced' }), [{ name: P, quorum: false }]), true)?.kind).toBe('fenced');
    expect(writesPaused(snap(undefined, [{ name: P, reachable: false }]), true)?.kind).toBe('down');
  });

  it('knows the quorum of the writer, not of the region that happened to answer first', () => {
    const s = snap(rec({ activeRegion: S, state: 'failover' }), [
      { name: P, quorum: true },
      { name: S, quorum: false },
    ]);
    expect(followedQuorum(s)).toBe(false);
  });
});
