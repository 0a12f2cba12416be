import { describe, expect, it, vi } from 'vitest';
import type { LogEntry, ObjectChange } from '../core/change.js';
import { formatHlc, HybridLogicalClock } from '../core/hlc.js';
import type { BatchRequest } from '../ports/peer-transport.js';
import { Applier, REORDER_WAIT_MS } from './applier.js';
import { MemoryBodies, MemoryReplicaStore, newLogId } from './fakes.js';

const ORIGIN = 'us-east-1';
const T0 = 1_700_000_000_000;

function setup() {
  const bodies = new MemoryBodies();
  const store = new MemoryReplicaStore(bodies);
  let now = T0;
  const clock = new HybridLogicalClock({ now: () => now, maxAheadMs: 500 });
  const applier = new Applier({
    store,
    clock,
    now: () => now,
  });
  return { store, bodies, applier, clock, advance: (ms: number) => (now += ms) };
}

const item = (seq: number, key: string, wall = T0, epoch = 1): LogEntry => ({
  seq,
  createdAt: wall,
  bytes: 50,
  change: {
    kind: 'item',
    table: 'users',
    key,
    item: { username: key },
    version: { epoch, hlc: formatHlc({ wall, logical: seq }), region: ORIGIN },
  },
});

const object = (seq: number, key: string, sha256: string): LogEntry => ({
  seq,
  createdAt: T0,
  bytes: 500,
  change: {
    kind: 'object',
    bucket: 'photos',
    key,
    versionId: `v${seq}`,
    sha256,
    etag: null,
    size: 3,
    contentType: 'image/png',
    deleteMarker: false,
    lastModified: new Date(T0).toISOString(),
    version: { epoch: 1, hlc: formatHlc({ wall: T0, logical: seq }), region: ORIGIN },
  },
});

function batch(logId: string, entries: LogEntry[], extra: Partial<BatchRequest> = {}): BatchRequest {
  return {
    origin: ORIGIN,
    logId,
    originHead: entries[entries.length - 1]?.seq ?? 0,
    pendingSince: null,
    epoch: 1,
    entries,
    ...extra,
  };
}

const adopt = { move: { from: { logId: null, seq: 0 }, at: 0 } };

describe('applier (against in-memory ports)', () => {
  it('applies in order and records the position in the origin’s log', async () => {
    const { store, applier } = setup();
    const L1 = newLogId();
    const res = await applier.apply(batch(L1, [item(1, 'ann'), item(2, 'bob')], adopt));
    expect(res).toMatchObject({ logId: L1, applied: 2, missingBlobs: [] });
    expect(store.progress(ORIGIN)).toMatchObject({ logId: L1, seq: 2 });
    expect(store.item('users', 'bob')?.item).toEqual({ username: 'bob' });
  });

  it('skips duplicates: a batch sent again changes nothing and answers the same position', async () => {
    const { store, applier } = setup();
    const L1 = newLogId();
    await applier.apply(batch(L1, [item(1, 'ann'), item(2, 'bob')], adopt));
    const again = await applier.apply(batch(L1, [item(1, 'ann'), item(2, 'bob'), item(3, 'cy')]));
    expect(again).toMatchObject({ logId: L1, applied: 3 });
    expect(store.conflictCount()).toBe(0);
  });

  it('parks an object whose body has not arrived, applies what follows it, and the object once its body is here', async () => {
    const { store, bodies, applier } = setup();
    const L1 = newLogId();
    const sha = new MemoryBodies().put('png');
    const res = await applier.apply(batch(L1, [item(1, 'ann'), object(2, 'p1', sha), item(3, 'bob')], adopt));
    // Entries that do not depend on the body are not held behind it.
    expect(res).toMatchObject({ applied: 3, missingBlobs: [sha] });
    expect(store.item('users', 'bob')).toBeDefined();
    expect(store.latestObject('photos', 'p1')).toBeUndefined();
    expect(store.parkedCount(ORIGIN)).toEqual({ entries: 1, bytes: 3 });
    expect(store.isBodyReferenced(sha)).toBe(true);
    // Sent again (a rewind): nothing twice, still waiting for the body.
    const again = await applier.apply(batch(L1, [object(2, 'p1', sha), item(3, 'bob')]));
    expect(again).toMatchObject({ applied: 3, missingBlobs: [sha] });
    expect(store.parkedCount(ORIGIN).entries).toBe(1);
    bodies.put('png');
    expect(applier.bodyArrived(sha)).toBe(1);
    expect(store.latestObject('photos', 'p1')?.sha256).toBe(sha);
    expect(store.parkedCount(ORIGIN).entries).toBe(0);
    const after = await applier.apply(batch(L1, []));
    expect(after).toMatchObject({ applied: 3, missingBlobs: [] });
  });

  it('a parked object applied after a later delete of its key stays behind the delete (last writer wins)', async () => {
    const { store, bodies, applier } = setup();
    const L1 = newLogId();
    const sha = new MemoryBodies().put('old photo');
    const del: LogEntry = {
      ...object(2, 'p1', sha),
      change: {
        ...(object(2, 'p1', sha).change as ObjectChange),
        versionId: 'v-del',
        sha256: null,
        deleteMarker: true,
        version: { epoch: 1, hlc: formatHlc({ wall: T0 + 5, logical: 0 }), region: ORIGIN },
      },
    };
    await applier.apply(batch(L1, [object(1, 'p1', sha), del], adopt));
    expect(store.latestObject('photos', 'p1')?.deleteMarker).toBe(true);
    bodies.put('old photo');
    applier.bodyArrived(sha);
    expect(store.latestObject('photos', 'p1')?.deleteMarker).toBe(true);
    expect(store.conflictCount()).toBe(0);
  });

  it('applies a batch that overtook the one before it once that one arrives (several in flight)', async () => {
    const { store, applier } = setup();
    const L1 = newLogId();
    await applier.apply(batch(L1, [item(1, 'ann')], adopt));
    const late = applier.apply(batch(L1, [item(4, 'dee'), item(5, 'eve')]));
    await new Promise((r) => setTimeout(r, 5));
    expect(store.progress(ORIGIN).seq).toBe(1);
    const first = await applier.apply(batch(L1, [item(2, 'bob'), item(3, 'cy')]));
    expect(first.applied).toBe(3);
    expect((await late).applied).toBe(5);
    expect(store.item('users', 'eve')).toBeDefined();
  });

  it('refuses a gap: when the batch before never comes (lost), it answers where it is, applying nothing out of order', async () => {
    vi.useFakeTimers();
    try {
      const { store, applier } = setup();
      const L1 = newLogId();
      await applier.apply(batch(L1, [item(1, 'ann')], adopt));
      const orphan = applier.apply(batch(L1, [item(4, 'dee')]));
      await vi.advanceTimersByTimeAsync(REORDER_WAIT_MS);
      expect(await orphan).toMatchObject({ applied: 1 });
      expect(store.item('users', 'dee')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('follows a new log id only when moved from where it is, keeping what it had of the old one', async () => {
    const { store, applier } = setup();
    const [L1, L2] = [newLogId(), newLogId()];
    await applier.apply(batch(L1, [item(1, 'ann'), item(2, 'bob'), item(3, 'lost-at-origin')], adopt));
    // Not moved: another log id is not applied.
    expect(await applier.apply(batch(L2, [item(3, 'cy')]))).toMatchObject({ logId: L1, applied: 3 });
    // Moved from a position it is not at: nothing either.
    const stale = await applier.apply(batch(L2, [item(3, 'cy')], { move: { from: { logId: L1, seq: 2 }, at: 2 } }));
    expect(stale).toMatchObject({ logId: L1, applied: 3 });
    // The origin restored a backup ending at 2 and continues with L2 from there.
    const moved = await applier.apply(
      batch(L2, [item(3, 'cy'), item(4, 'dee')], { move: { from: { logId: L1, seq: 3 }, at: 2 } }),
    );
    expect(moved).toMatchObject({ logId: L2, applied: 4 });
    expect(store.item('users', 'lost-at-origin')).toBeDefined();
    expect(store.item('users', 'cy')).toBeDefined();
    expect(store.progress(ORIGIN)).toMatchObject({ logId: L2, seq: 4 });
  });

  it('refuses a whole batch whose clock is too far ahead, adopting nothing, and says so per origin', async () => {
    const { store, applier, clock } = setup();
    const L1 = newLogId();
    const res = await applier.apply(batch(L1, [item(1, 'ann'), item(2, 'far', T0 + 10_000)], adopt));
    expect(res).toMatchObject({ logId: null, applied: 0, refused: { reason: 'clock_ahead', aheadMs: 10_000 } });
    expect(store.item('users', 'ann')).toBeUndefined();
    expect(store.progress(ORIGIN).seq).toBe(0);
    expect(applier.view(ORIGIN)?.state).toMatchObject({ kind: 'refused', message: 'refused: clock ahead by 10000 ms' });
    expect(clock.tick() < formatHlc({ wall: T0 + 10_000, logical: 0 })).toBe(true);
  });

  it('reports as durable only what a sync has covered, also at first contact after a restart (issue 12, case 1)', async () => {
    const { store, applier } = setup();
    const L1 = newLogId();
    store.setApplied(ORIGIN, L1, 5, 5, T0); // held by the database before this process started
    store.manualSync = true;
    const first = await applier.apply(batch(L1, [item(6, 'ann')]));
    expect(first).toMatchObject({ applied: 6, durable: 0 });
    for (const s of store.syncs.splice(0)) s();
    await new Promise((r) => setImmediate(r));
    const second = await applier.apply(batch(L1, []));
    expect(second).toMatchObject({ applied: 6, durable: 6 });
  });

  it('records a barrier in the very first batch from an origin (issue 12, case 5)', async () => {
    const { store, applier } = setup();
    const L1 = newLogId();
    await applier.apply(
      batch(L1, [{ seq: 1, createdAt: T0, bytes: 40, change: { kind: 'barrier', appId: 'photos', epoch: 3 } }], adopt),
    );
    expect(store.progress(ORIGIN)).toMatchObject({ barrierEpoch: 3, barrierSeq: 1, seq: 1 });
  });

  it('learns from an origin that this region must be rebuilt, and tells the hook once', async () => {
    const bodies = new MemoryBodies();
    const store = new MemoryReplicaStore(bodies);
    const told: string[] = [];
    const applier = new Applier({
      store,
      clock: new HybridLogicalClock(),
      onRebuildNeeded: (origin, state) => told.push(`${origin}: ${state.reason}`),
    });
    const L1 = newLogId();
    const rebuild = { reason: 'compacted', message: 'ap-northeast-1 must be rebuilt' };
    await applier.apply(batch(L1, [], { rebuild }));
    await applier.apply(batch(L1, [], { rebuild }));
    expect(told).toEqual([`${ORIGIN}: compacted`]);
    expect(applier.view(ORIGIN)?.state).toMatchObject({ kind: 'needs-rebuild', message: rebuild.message });
  });
});
