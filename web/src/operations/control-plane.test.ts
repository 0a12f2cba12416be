/**
 * @module The console's picture of the control plane, from each region's `/status`:
 * who reaches each voter, the lease each voter granted, the writer lease, the quorum.
 */
import { describe, expect, it } from 'vitest';
import type { ControlPlaneView, RegionStatus } from '../api';
import { controlPlaneSummary, remainingAt } from './control-plane';
import type { RegionPoll } from './useRegionPolling';

const P = 'us-east-1';
const S = 'ap-northeast-1';
const W = 'witness';

function poll(name: string, cp: Partial<ControlPlaneView>, writer = false, checkedAt = 1000): RegionPoll {
  const status: RegionStatus = {
    region: name,
    appId: 'photos',
    state: { appId: 'photos', state: 'active', activeRegion: P, epoch: 3, changedAt: '2026-01-01T00:00:00.000Z' },
    writer,
    log: { head: 0, tail: 0, entries: 0 },
    peers: [],
    origins: [],
    conflicts: 0,
    controlPlane: {
      kind: 'voters',
      leaseMs: 4000,
      quorum: true,
      error: null,
      voters: [],
      lease: null,
      leaseError: null,
      ...cp,
    },
  };
  return { health: 'up', status, checkedAt };
}

const grant = { holder: P, epoch: 3, remainingMs: 3500 };

describe('controlPlaneSummary', () => {
  it('lists each voter with who reaches it and the lease it granted, and the holder’s lease', () => {
    const s = controlPlaneSummary([P, S], {
      [P]: poll(
        P,
        {
          voters: [
            { name: P, reachable: true, lease: grant },
            { name: S, reachable: true, lease: { ...grant, remainingMs: 3000 } },
            { name: W, reachable: true, lease: grant },
          ],
          lease: { holder: P, epoch: 3, remainingMs: 3200 },
        },
        true,
      ),
      [S]: poll(S, {
        voters: [
          { name: P, reachable: true, lease: { ...grant, remainingMs: 3600 } },
          { name: S, reachable: true },
          { name: W, reachable: false, error: 'connect ECONNREFUSED' },
        ],
      }),
    });
    expect(s.known).toBe(true);
    expect(s.voters.map((v) => [v.name, v.kind])).toEqual([
      [P, 'region'],
      [S, 'region'],
      [W, 'witness'],
    ]);
    expect(s.voters[2]!.seenFrom).toEqual([
      { from: P, reachable: true },
      { from: S, reachable: false, error: 'connect ECONNREFUSED' },
    ]);
    expect(s.voters[0]!.grant).toMatchObject({ holder: P, remainingMs: 3600 }); // the freshest report
    expect(s.lease).toEqual({ holder: P, epoch: 3, remainingMs: 3200, leaseMs: 4000, checkedAt: 1000 });
    expect(s.noQuorum).toBe(false);
  });

  it('says no quorum only when no region that answered has one; a region down is no answer', () => {
    const lost = { quorum: false, error: 'no majority of voters answered', leaseError: 'no majority' };
    const s = controlPlaneSummary([P, S], {
      [P]: poll(P, { ...lost, voters: [{ name: W, reachable: false }] }, true),
      [S]: { health: 'down', checkedAt: 1000 },
    });
    expect(s.noQuorum).toBe(true);
    expect(s.lease).toBeUndefined();
    expect(s.leaseError).toBe('no majority');
    expect(s).toMatchObject({ writer: P, writerAnswered: true });
    expect(s.voters[0]!.seenFrom).toEqual([
      { from: P, reachable: false },
      { from: S, reachable: undefined },
    ]);
    expect(controlPlaneSummary([P, S], { [P]: poll(P, lost, true), [S]: poll(S, {}) }).noQuorum).toBe(false);
  });

  it('knows nothing when no region reports a control plane', () => {
    const s = controlPlaneSummary([P], { [P]: { health: 'down' } });
    expect(s).toMatchObject({ known: false, noQuorum: false, voters: [] });
  });

  it('runs a lease down from when it was polled', () => {
    expect(remainingAt({ holder: P, epoch: 3, remainingMs: 3000 }, 1000, 2500)).toBe(1500);
    expect(remainingAt({ holder: P, epoch: 3, remainingMs: 3000 }, 1000, 9000)).toBe(0);
  });
});
