import { describe, expect, it } from 'vitest';
import { formatHlc } from '../core/hlc.js';
import { PEER, SELF, setup, user, write } from './shipper-fixture.js';

describe('shipper (against in-memory ports)', () => {
  it('ships the log to a new peer, which adopts the log id, and moves the acknowledgements', async () => {
    const t = setup();
    write(t.log, 'ann', 'bob', 'cy');
    await t.drain();
    const logId = t.log.segments()[0]!.logId;
    expect(t.peerStore.progress(SELF)).toMatchObject({ logId, seq: 3 });
    expect(t.shipper.ackedSeq).toBe(3);
    expect(t.shipper.durableAckedSeq).toBe(3);
    expect(t.shipper.figures()).toMatchObject({
      backlog: { entries: 0, bytes: 0 },
      position: { logId, seq: 3 },
      state: { kind: 'shipping' },
    });
  });

  it('resends from where the peer really is when it is behind what it acknowledged (a gap on its side)', async () => {
    const t = setup();
    write(t.log, 'ann', 'bob', 'cy');
    await t.drain();
    // The peer was restored to an older copy: it has applied only 1.
    t.peerStore.resetProgress(SELF, { logId: t.log.segments()[0]!.logId, seq: 1 });
    write(t.log, 'dee');
    await t.drain();
    expect(t.peerStore.progress(SELF).seq).toBe(4);
    expect(t.peerStore.item('users', 'bob')).toBeDefined();
  });

  it('sends a duplicate harmlessly when it restarts from an older persisted acknowledgement', async () => {
    const t = setup();
    write(t.log, 'ann', 'bob', 'cy');
    await t.drain();
    const logId = t.log.segments()[0]!.logId;
    t.restartShipper({ logId, seq: 1 });
    write(t.log, 'dee');
    await t.drain();
    expect(t.peerStore.progress(SELF)).toMatchObject({ logId, seq: 4 });
    expect(t.peerStore.conflictCount()).toBe(0);
  });

  it('streams a body the peer lacks before its object is applied', async () => {
    const t = setup();
    const sha = t.bodies.put('a photo');
    t.log.append(
      {
        kind: 'object',
        bucket: 'photos',
        key: 'p1',
        versionId: 'v1',
        sha256: sha,
        etag: null,
        size: 7,
        contentType: 'image/png',
        deleteMarker: false,
        lastModified: new Date().toISOString(),
        version: { epoch: 1, hlc: formatHlc({ wall: Date.now(), logical: 0 }), region: SELF },
      },
      7,
    );
    write(t.log, 'ann');
    await t.drain();
    expect(t.peerStore.bodies.bodies.get(sha)?.toString()).toBe('a photo');
    expect(t.peerStore.latestObject('photos', 'p1')?.sha256).toBe(sha);
    expect(t.peerStore.progress(SELF).seq).toBe(2);
  });

  it('moves a peer that holds more of an old log id to the new one, keeping what it has (issue 12, case 1)', async () => {
    const t = setup();
    write(t.log, 'ann', 'bob', 'cy', 'lost1', 'lost2');
    await t.drain();
    const L1 = t.log.segments()[0]!.logId;
    // Restored from a backup taken at 3, the origin starts a new log id there (log-identity.ts).
    t.log.truncateTo(3);
    const L2 = t.log.startNewLogId('behind-peer').logId;
    t.restartShipper({ logId: L1, seq: 2 });
    write(t.log, 'new1', 'new2');
    await t.drain();
    expect(t.peerStore.progress(SELF)).toMatchObject({ logId: L2, seq: 5 });
    for (const k of ['lost1', 'lost2', 'new1', 'new2']) expect(t.peerStore.item('users', k), k).toBeDefined();
    expect(t.shipper.figures().notice).toMatch(/holds entries 4\.\.5 of log .* no longer has/);
    expect(t.shipper.ackedSeq).toBe(5);
  });

  it('without a new log id, a peer ahead of the log is caught, never acknowledged, and marked diverged', async () => {
    const t = setup();
    write(t.log, 'ann', 'bob', 'cy', 'lost1', 'lost2');
    await t.drain();
    t.log.truncateTo(3); // restored, but (unlike at start-up) no new log id
    t.restartShipper({ logId: t.log.segments()[0]!.logId, seq: 2 });
    write(t.log, 'new1');
    await t.shipper.shipOnce();
    expect(t.shipper.ackedSeq).toBe(2);
    expect(t.shipper.figures().state).toMatchObject({ kind: 'needs-rebuild', reason: 'diverged' });
    expect(t.rebuilds).toEqual(['diverged']);
  });

  it('a peer that needs compacted entries is a typed needs-rebuild state, persisted, not an endless retry', async () => {
    const t = setup();
    write(t.log, 'ann', 'bob', 'cy');
    t.log.compactThrough(2);
    expect(await t.shipper.shipOnce()).toBe(true);
    const state = t.shipper.figures().state;
    expect(state).toMatchObject({ kind: 'needs-rebuild', reason: 'compacted' });
    expect(state.kind === 'needs-rebuild' && state.message).toMatch(
      /must be rebuilt: run mraa region --region ap-northeast-1 --rebuild on its host/,
    );
    expect(t.originStore.rebuildMarks().get(PEER.name)?.reason).toBe('compacted');
    // Later rounds ship nothing: heartbeats that tell the peer to rebuild.
    const before = t.transport.sent.length;
    await t.shipper.shipOnce();
    await t.shipper.shipOnce();
    const heartbeats = t.transport.sent.slice(before);
    expect(heartbeats.every((h) => h.rebuild?.reason === 'compacted')).toBe(true);
    expect(t.peerStore.progress(SELF).seq).toBe(0);
    // A restarted shipper keeps the mark.
    expect(t.restartShipper().figures().state.kind).toBe('needs-rebuild');
  });

  it('resumes once the peer reports a position the log can serve (rebuilt from a snapshot)', async () => {
    const t = setup();
    write(t.log, 'ann', 'bob', 'cy');
    t.log.compactThrough(2);
    await t.shipper.shipOnce();
    expect(t.shipper.needsRebuild).toBe(true);
    // The rebuild restores a snapshot taken at 2 of the origin's log.
    t.peerStore.resetProgress(SELF, { logId: t.log.segments()[0]!.logId, seq: 2 });
    await t.shipper.shipOnce();
    expect(t.shipper.needsRebuild).toBe(false);
    expect(t.originStore.rebuildMarks().size).toBe(0);
    await t.drain();
    expect(t.peerStore.progress(SELF).seq).toBe(3);
  });

  it('marks a peer kept past the retention cap, and keeps backlog figures without scanning the log', async () => {
    const t = setup();
    t.transport.cut = true;
    for (let i = 0; i < 200; i++) write(t.log, `user-${i}`);
    await t.shipper.shipOnce();
    const lookups = t.log.lookups;
    for (let i = 0; i < 100; i++) t.shipper.figures();
    expect(t.log.lookups - lookups).toBeLessThanOrEqual(1);
    const figures = t.shipper.figures();
    expect(figures.backlog.entries).toBe(200);
    expect(figures.backlog.bytes).toBe(t.log.durableBytes());
    expect(t.shipper.checkRetention(figures.backlog.bytes)).toBe(false);
    expect(t.shipper.checkRetention(figures.backlog.bytes - 1)).toBe(true);
    expect(t.shipper.figures().state).toMatchObject({ kind: 'needs-rebuild', reason: 'retention' });
    const message = (t.shipper.figures().state as { message: string }).message;
    expect(message).toMatch(/^ap-northeast-1 fell behind by more than .* and must be rebuilt: run mraa region/);
    expect(t.rebuilds).toEqual(['retention']);
  });

  it('shows a refusal (the peer finds our clock ahead) as a typed state and recovers from it', async () => {
    const t = setup();
    t.log.append(user('far', Date.now() + 60_000));
    expect(await t.shipper.shipOnce()).toBe(false);
    expect(t.shipper.figures().state).toMatchObject({ kind: 'refused', reason: 'clock_ahead' });
    expect(t.shipper.ackedSeq).toBe(0);
  });
});
