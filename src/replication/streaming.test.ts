import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ObjectChange } from '../core/change.js';
import { formatHlc } from '../core/hlc.js';
import { localDrainStatus } from './drain.js';
import { SELF, setup, write } from './shipper-fixture.js';

/** A gate: batches or bodies wait on `wait` until `open()`. */
function gate() {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

function photo(key: string, sha256: string, size: number): ObjectChange {
  return {
    kind: 'object',
    bucket: 'photos',
    key,
    versionId: `v-${key}`,
    sha256,
    etag: null,
    size,
    contentType: 'image/png',
    deleteMarker: false,
    lastModified: new Date().toISOString(),
    version: { epoch: 1, hlc: formatHlc({ wall: Date.now(), logical: 0 }), region: SELF },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/**
 * Starts the shipper's own loop (as a region does) and stops it after the test; resolves
 * once the peer has adopted the log id (an empty batch, sent alone), with the record of
 * what was sent cleared.
 */
async function started(t: ReturnType<typeof setup>) {
  t.shipper.start();
  stop = () => t.shipper.stop();
  const logId = t.log.segments()[0]!.logId;
  await vi.waitFor(() => expect(t.peerStore.progress(SELF).logId).toBe(logId));
  await vi.waitFor(() => expect(t.shipper.figures().inFlight.batches).toBe(0));
  t.transport.sent.length = 0;
  t.transport.sentEntries.length = 0;
  return t;
}

/** Every key of `keys` applied at the peer, in the peer's store. */
async function converged(t: ReturnType<typeof setup>, keys: string[]) {
  await vi.waitFor(() => expect(t.peerStore.progress(SELF).seq).toBe(t.log.durableHead()), { timeout: 5000 });
  for (const k of keys) expect(t.peerStore.item('users', k), k).toBeDefined();
  expect(t.peerStore.conflictCount()).toBe(0);
}

describe('streaming shipper (several batches in flight)', () => {
  it('a write leaves as soon as it is durable while earlier batches are still unanswered', async () => {
    const t = await started(setup());
    const held = gate();
    t.transport.fate = () => held.wait;
    write(t.log, 'ann');
    await vi.waitFor(() => expect(t.transport.sent.length).toBe(1));
    write(t.log, 'bob');
    await vi.waitFor(() => expect(t.transport.sent.length).toBe(2));
    // Two writes made durable by one sync leave together.
    t.log.autoDurable = false;
    write(t.log, 'cy', 'dee');
    t.log.makeDurable();
    await vi.waitFor(() => expect(t.transport.sentEntries).toEqual([[1], [2], [3, 4]]));
    // Three batches in the air, none answered yet.
    expect(t.shipper.figures().inFlight).toMatchObject({ batches: 3, entries: 4 });
    expect(t.peerStore.progress(SELF).seq).toBe(0);
    held.open();
    await converged(t, ['ann', 'bob', 'cy', 'dee']);
    expect(t.shipper.figures().inFlight.batches).toBe(0);
  });

  it('keeps to the window: no more batches in flight than it allows', async () => {
    const t = await started(setup({ window: { batches: 2, entries: 1000, bytes: 1 << 20 } }));
    const held = gate();
    t.transport.fate = () => held.wait;
    for (const k of ['a', 'b', 'c', 'd']) {
      write(t.log, k);
      await tick();
    }
    await vi.waitFor(() => expect(t.transport.sent.length).toBe(2));
    await tick();
    expect(t.transport.sent.length).toBe(2);
    held.open();
    await converged(t, ['a', 'b', 'c', 'd']);
    // What waited left together once there was room.
    expect(t.transport.sentEntries.slice(2).flat()).toEqual([3, 4]);
  });

  it('a lost batch inside the window: the stream rewinds to where the peer is; nothing lost, nothing twice', async () => {
    const t = await started(setup());
    const held = gate();
    const lost = held.wait.then(() => Promise.reject(new Error('timed out')));
    lost.catch(() => undefined);
    t.transport.fate = (_head, entries) => (entries[0]?.seq === 2 ? lost : held.wait);
    for (const k of ['ann', 'bob', 'cy']) {
      write(t.log, k);
      await vi.waitFor(() => expect(t.transport.sent.length).toBe(t.log.durableHead()));
    }
    expect(t.transport.sentEntries).toEqual([[1], [2], [3]]);
    held.open();
    await lost.catch(() => undefined);
    t.transport.fate = undefined;
    await converged(t, ['ann', 'bob', 'cy']);
    // bob went again after the loss; cy, which had overtaken it, waited for it at the peer.
    expect(t.transport.sentEntries.filter((s) => s.includes(2)).length).toBe(2);
  });

  it('a duplicated batch is applied once', async () => {
    const t = await started(setup());
    t.transport.fate = (_head, entries) => (entries.length > 0 ? 'twice' : 'deliver');
    write(t.log, 'ann');
    await tick();
    write(t.log, 'bob', 'cy');
    await converged(t, ['ann', 'bob', 'cy']);
    expect(t.peerStore.progress(SELF).seq).toBe(3);
  });

  it('a late batch overtaken by the next one: the receiver applies them in order', async () => {
    const t = await started(setup());
    const late = gate();
    t.transport.fate = (_head, entries) => (entries[0]?.seq === 1 ? late.wait : 'deliver');
    write(t.log, 'ann');
    await vi.waitFor(() => expect(t.transport.sent.length).toBe(1));
    write(t.log, 'bob');
    await vi.waitFor(() => expect(t.transport.sent.length).toBe(2));
    await tick();
    // bob's batch arrived first and waits for ann's: nothing applied out of order.
    expect(t.peerStore.item('users', 'bob')).toBeUndefined();
    late.open();
    await converged(t, ['ann', 'bob']);
    expect(t.transport.sent.length).toBe(2); // no resend was needed
  });

  it('a body travels beside the log: entries after its object are applied while it is on its way; drain waits for it', async () => {
    const t = await started(setup());
    const slowBody = gate();
    t.transport.bodyGate = slowBody.wait;
    const sha = t.bodies.put('a large photo');
    t.log.append(photo('p1', sha, 13), 13);
    write(t.log, 'ann');
    t.log.append({ kind: 'barrier', appId: 'app', epoch: 2 });
    await vi.waitFor(() => expect(t.peerStore.progress(SELF).seq).toBe(3));
    expect(t.peerStore.item('users', 'ann')).toBeDefined();
    expect(t.peerStore.latestObject('photos', 'p1')).toBeUndefined();
    // The barrier is applied, but the object before it has no body yet: not drained.
    expect(localDrainStatus(t.peerStore, SELF, 2)).toMatchObject({ drained: false, bodiesPending: 1 });
    slowBody.open();
    await vi.waitFor(() => expect(t.peerStore.latestObject('photos', 'p1')?.sha256).toBe(sha));
    expect(localDrainStatus(t.peerStore, SELF, 2)).toMatchObject({ drained: true });
    expect(t.transport.bodiesSent).toEqual([sha]); // once, though answers named it meanwhile
  });

  it('after a restart, ships the bodies the peer still waits for, named only in its answers', async () => {
    const t = setup();
    const sha = t.bodies.put('photo bytes');
    t.log.append(photo('p1', sha, 11), 11);
    const cut = Promise.reject(new Error('ECONNRESET'));
    cut.catch(() => undefined);
    t.transport.bodyGate = cut;
    await t.shipper.shipOnce();
    await t.shipper.bodiesSettled();
    expect(t.peerStore.parkedCount(SELF).entries).toBe(1);
    // A new process: the log entry is acknowledged, the body is known only from the answers.
    t.transport.bodyGate = undefined;
    const next = t.restartShipper({ logId: t.log.segments()[0]!.logId, seq: 1 });
    await next.shipOnce();
    await next.bodiesSettled();
    expect(t.peerStore.latestObject('photos', 'p1')?.sha256).toBe(sha);
    expect(t.peerStore.parkedCount(SELF).entries).toBe(0);
  });

  it('once the peer answers again, sends at once the bodies that failed while it was unreachable', async () => {
    const t = setup();
    const sha = t.bodies.put('photo');
    t.transport.cut = true;
    t.log.append(photo('p1', sha, 5), 5);
    expect(await t.shipper.shipOnce()).toBe(false);
    await t.shipper.bodiesSettled();
    t.transport.cut = false;
    expect(await t.shipper.shipOnce()).toBe(true);
    await t.shipper.bodiesSettled();
    expect(t.peerStore.latestObject('photos', 'p1')?.sha256).toBe(sha);
  });
});
