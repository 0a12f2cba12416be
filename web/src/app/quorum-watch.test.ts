/**
 * @module A write refused with 503 no_quorum pauses writes until the followed region
 * says, in a state event or when asked again, that it has its quorum.
 */
import { describe, expect, it } from 'vitest';
import type { RoutingListener, RoutingSnapshot, StateRecord } from '../../../src/routing/client/index.js';
import { ApiError } from '../api/errors';
import { QuorumWatch } from './quorum-watch';

const record: StateRecord = {
  appId: 'photos',
  state: 'active',
  activeRegion: 'us-east-1',
  epoch: 3,
  changedAt: '2026-01-01T00:00:00.000Z',
};

/** A routing client whose writer's quorum the test sets; `push` is a state event. */
function fakeRouting(quorum: boolean) {
  const listeners = new Set<RoutingListener>();
  let current = quorum;
  const make = (): RoutingSnapshot => ({
    status: 'ready',
    record,
    regions: [
      {
        name: 'us-east-1',
        url: 'http://us.test',
        role: 'primary',
        reachable: true,
        streaming: true,
        record: { ...record, quorum: current },
      },
    ],
  });
  const routing = {
    snapshot: make(),
    refreshes: 0,
    subscribe(l: RoutingListener) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async refresh() {
      routing.refreshes++;
      return record;
    },
    /** The quorum changes, as the server sees it (not yet told to the client). */
    set(q: boolean) {
      current = q;
    },
    /** A state event: the client's snapshot takes the server's current quorum. */
    push() {
      routing.snapshot = make();
      for (const l of listeners) l(routing.snapshot);
    },
  };
  return routing;
}

function fakeTimers() {
  const pending: Array<{ fn: () => void; ms: number }> = [];
  return {
    pending,
    setTimeout: (fn: () => void, ms: number) => {
      const t = { fn, ms };
      pending.push(t);
      return t;
    },
    clearTimeout: (t: unknown) => {
      const i = pending.indexOf(t as { fn: () => void; ms: number });
      if (i >= 0) pending.splice(i, 1);
    },
    async fire() {
      const t = pending.shift();
      t?.fn();
      await new Promise((r) => setTimeout(r, 0));
      return t?.ms;
    },
  };
}

const noQuorum = () => new ApiError('no_quorum', 'writes are paused', 503, {}, 2);

describe('QuorumWatch', () => {
  it('ignores every refusal but no_quorum', () => {
    const watch = new QuorumWatch(fakeRouting(true));
    watch.report(new ApiError('fenced', 'fenced', 503));
    watch.report(new Error('boom'));
    expect(watch.refused).toBe(false);
  });

  it('pauses on no_quorum and clears on the next state event that has the quorum', async () => {
    const routing = fakeRouting(false);
    const timers = fakeTimers();
    const watch = new QuorumWatch(routing, timers);
    watch.start();
    let told = 0;
    watch.subscribe(() => told++);
    watch.report(noQuorum());
    expect(watch.refused).toBe(true);
    expect(told).toBe(1);
    expect(timers.pending.map((t) => t.ms)).toEqual([2000]); // the server's Retry-After
    routing.push(); // still no quorum
    expect(watch.refused).toBe(true);
    routing.set(true);
    routing.push();
    expect(watch.refused).toBe(false);
    expect(told).toBe(2);
    expect(timers.pending).toEqual([]);
    watch.stop();
  });

  it('asks again by itself, backing off, until the quorum is back', async () => {
    const routing = fakeRouting(false);
    const timers = fakeTimers();
    const watch = new QuorumWatch(routing, { ...timers, maxCheckMs: 5000 });
    watch.start();
    watch.report(noQuorum());
    expect(await timers.fire()).toBe(2000);
    expect(routing.refreshes).toBe(1);
    expect(watch.refused).toBe(true);
    expect(await timers.fire()).toBe(4000);
    expect(timers.pending.map((t) => t.ms)).toEqual([5000]);
    routing.set(true);
    routing.snapshot = { ...routing.snapshot }; // refresh() saw the quorum, with no event pushed
    routing.snapshot.regions = [{ ...routing.snapshot.regions[0]!, record: { ...record, quorum: true } }];
    await timers.fire();
    expect(watch.refused).toBe(false);
    expect(timers.pending).toEqual([]);
    watch.stop();
  });

  it('a refusal while the record says quorum (the writer has no lease yet) clears when asked again', async () => {
    const routing = fakeRouting(true);
    const timers = fakeTimers();
    const watch = new QuorumWatch(routing, timers);
    watch.start();
    watch.report(noQuorum());
    expect(watch.refused).toBe(true);
    await timers.fire();
    expect(watch.refused).toBe(false);
    watch.stop();
  });
});
