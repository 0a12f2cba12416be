/**
 * @module The control-plane conformance suite (src/ports/control-plane.ts, DESIGN §3a).
 * Every adapter runs it unchanged: call `controlPlaneConformance(name, factory)` from a
 * test file. The factory starts one control plane (its voters) and hands out clients
 * of it, each acting as one region (or "operator"); the cases share one plane and use
 * a fresh app id each. The fault case, when the adapter has fault hooks, starts its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStateName, StateRecord } from '../../src/core/app-state.js';
import { DomainError, isDomainError } from '../../src/core/errors.js';
import type { ControlPlane, LeaseWait } from '../../src/ports/control-plane.js';

export interface ControlPlaneHandle {
  /** A client of this control plane acting as `name` (a region, or "operator"). Closed by `close`. */
  client(name: string): ControlPlane;
  /** The lease period the clients were built with. */
  leaseMs: number;
  /**
   * The longest a forced switch may wait for a renewed lease: the lease period plus
   * the adapter's lag in noticing that it ran out.
   */
  maxWaitMs: number;
  /** The monotonic clock the clients count leases on. */
  now(): number;
  /** Crashes voter i (its durable state stays). */
  kill?(i: number): Promise<void>;
  /** Starts voter i again, from its durable state. */
  restart?(i: number): Promise<void>;
  close(): Promise<void>;
}

export type ControlPlaneFactory = () => Promise<ControlPlaneHandle>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function record(appId: string, state: AppStateName, activeRegion: string, epoch: number, reason?: string): StateRecord {
  return {
    appId,
    state,
    activeRegion,
    epoch,
    changedAt: new Date().toISOString(),
    ...(reason ? { reason } : {}),
  };
}

/** A `next` that moves to (state, region) at the next epoch. */
const to =
  (appId: string, state: AppStateName, region: string, reason?: string) => (current: StateRecord | undefined) =>
    record(appId, state, region, (current?.epoch ?? 0) + 1, reason);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function expectNoQuorum(p: Promise<unknown>, newerEpoch?: boolean): Promise<DomainError> {
  const err = await rejection(p);
  expect(isDomainError(err, 'no_quorum'), `expected no_quorum, got ${String(err)}`).toBe(true);
  const e = err as DomainError;
  if (newerEpoch !== undefined) expect(e.details.newerEpoch).toBe(newerEpoch);
  return e;
}

export function controlPlaneConformance(adapter: string, factory: ControlPlaneFactory): void {
  describe(`control plane conformance: ${adapter}`, () => {
    let h: ControlPlaneHandle;
    let apps = 0;
    const newApp = () => `app-${++apps}-${Math.random().toString(36).slice(2, 8)}`;
    const opts = (requester: string, extra: { timeoutMs?: number; onWait?: (w: LeaseWait) => void } = {}) => ({
      requester,
      timeoutMs: extra.timeoutMs ?? 10_000,
      ...(extra.onWait ? { onWait: extra.onWait } : {}),
    });

    beforeAll(async () => {
      h = await factory();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('reads undefined from an empty register, and counts its voters', async () => {
      const op = h.client('operator');
      expect(await op.read(newApp())).toBeUndefined();
      expect(op.voterCount).toBe(3);
    });

    it('makes epoch 1 with the first change, and a later read (by another client) sees it', async () => {
      const app = newApp();
      const op = h.client('operator');
      const seen: Array<StateRecord | undefined> = [];
      const out = await op.change(
        app,
        (current) => {
          seen.push(current);
          return record(app, 'active', 'A', 1, 'created');
        },
        opts('operator'),
      );
      expect(seen.every((s) => s === undefined)).toBe(true);
      expect(out.record).toMatchObject({ appId: app, state: 'active', activeRegion: 'A', epoch: 1 });
      expect(out.waitedMs).toBe(0);
      expect(out.waitedFor).toBeUndefined();
      expect(await h.client('B').read(app)).toEqual(out.record);
    });

    it('makes consecutive epochs with sequential changes, each given the current record', async () => {
      const app = newApp();
      const op = h.client('operator');
      const given: number[] = [];
      for (let i = 1; i <= 5; i++) {
        const out = await op.change(
          app,
          (current) => {
            given.push(current?.epoch ?? 0);
            return record(app, i % 2 ? 'active' : 'fenced', 'A', (current?.epoch ?? 0) + 1, `step ${i}`);
          },
          opts('operator'),
        );
        expect(out.record.epoch).toBe(i);
        expect(out.record.reason).toBe(`step ${i}`);
      }
      expect(given).toEqual([0, 1, 2, 3, 4]);
      expect((await op.read(app))?.epoch).toBe(5);
    });

    it('never commits two records with one epoch under concurrent changes from two clients', async () => {
      const app = newApp();
      const [x, y] = [h.client('A'), h.client('B')];
      await x.change(app, to(app, 'active', 'A'), opts('A'));
      const perClient = 6;
      const run = (plane: ControlPlane, name: string) =>
        (async () => {
          const outs: StateRecord[] = [];
          for (let i = 0; i < perClient; i++) {
            const out = await plane.change(
              app,
              (current) =>
                record(app, current!.state === 'active' ? 'fenced' : 'active', 'A', current!.epoch + 1, `${name}${i}`),
              opts(name),
            );
            outs.push(out.record);
          }
          return outs;
        })();
      const committed = (await Promise.all([run(x, 'x'), run(y, 'y')])).flat();
      const epochs = committed.map((r) => r.epoch).sort((a, b) => a - b);
      expect(epochs).toEqual(Array.from({ length: 2 * perClient }, (_, i) => i + 2));
      expect(new Set(committed.map((r) => r.reason)).size).toBe(2 * perClient);
      expect((await x.read(app))?.epoch).toBe(2 * perClient + 1);
    });

    it('lets exactly one of two racing compare-and-sets commit; the other gets its own next error', async () => {
      const app = newApp();
      const [x, y] = [h.client('A'), h.client('B')];
      await x.change(app, to(app, 'active', 'A'), opts('A'));
      const only = (region: string) => (current: StateRecord | undefined) => {
        if (current?.epoch !== 1)
          throw new DomainError('illegal_transition', `already moved to ${current?.activeRegion}`);
        return record(app, 'fenced', region, 2, `by ${region}`);
      };
      const results = await Promise.allSettled([
        x.change(app, only('A'), opts('A')),
        y.change(app, only('B'), opts('B')),
      ]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(1);
      expect(isDomainError(failed[0]!.reason, 'illegal_transition')).toBe(true);
      const winner = (ok[0] as PromiseFulfilledResult<{ record: StateRecord }>).value.record;
      expect(await x.read(app)).toEqual(winner);
    });

    it('commits nothing when next throws, and rethrows its error', async () => {
      const app = newApp();
      const op = h.client('operator');
      const first = await op.change(app, to(app, 'active', 'A'), opts('operator'));
      const boom = new DomainError('illegal_transition', 'no');
      expect(
        await rejection(
          op.change(
            app,
            () => {
              throw boom;
            },
            opts('operator'),
          ),
        ),
      ).toBe(boom);
      expect(await op.read(app)).toEqual(first.record);
      // A next that skips an epoch is refused, not committed.
      expect(
        isDomainError(
          await rejection(op.change(app, () => record(app, 'fenced', 'A', 5), opts('operator'))),
          'internal',
        ),
      ).toBe(true);
      expect(await op.read(app)).toEqual(first.record);
    });

    it('grants the lease only to the writer of the current epoch', async () => {
      const app = newApp();
      const [op, a, b] = [h.client('operator'), h.client('A'), h.client('B')];
      await expectNoQuorum(a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 0 }), false);
      await op.change(app, to(app, 'active', 'A'), opts('operator'));

      const before = h.now();
      const lease = await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 0 });
      const after = h.now();
      expect(lease).toMatchObject({ holder: 'A', epoch: 1 });
      expect(lease.validUntil).toBeGreaterThan(after);
      expect(lease.validUntil).toBeLessThanOrEqual(before + h.leaseMs);
      const renewed = await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 3 });
      expect(renewed.validUntil).toBeGreaterThanOrEqual(lease.validUntil);

      await expectNoQuorum(b.acquire({ appId: app, holder: 'B', epoch: 1, logHead: 0 }), false);
      await expectNoQuorum(a.acquire({ appId: app, holder: 'A', epoch: 7, logHead: 0 }), false);

      // The holder fences itself (no wait): its epoch-1 lease is now stale, and a fenced record has no writer.
      await a.change(app, to(app, 'fenced', 'A'), opts('A'));
      await expectNoQuorum(a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 4 }), true);
      await expectNoQuorum(a.acquire({ appId: app, holder: 'A', epoch: 2, logHead: 4 }), false);
    });

    it('makes a forced switch wait until the renewed lease has run out, and reports the wait', async () => {
      const app = newApp();
      const [op, a, b] = [h.client('operator'), h.client('A'), h.client('B')];
      await op.change(app, to(app, 'active', 'A'), opts('operator'));
      let validUntil = (await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 1 })).validUntil;
      let stop = false;
      let renewals = 0;
      let refusals = 0;
      const renewing = (async () => {
        for (let head = 2; !stop; head++) {
          await sleep(h.leaseMs / 4); // as a region renews (src/routing/writer-lease.ts: 4 per period)
          try {
            const lease = await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: head });
            validUntil = Math.max(validUntil, lease.validUntil);
            renewals++;
          } catch (err) {
            if (!isDomainError(err, 'no_quorum')) throw err;
            refusals++;
          }
        }
      })();
      await sleep(h.leaseMs / 2);

      const waits: LeaseWait[] = [];
      const started = h.now();
      const out = await op.change(
        app,
        to(app, 'failover', 'B', 'forced'),
        opts('operator', { onWait: (w) => waits.push(w) }),
      );
      const committedAt = h.now();
      stop = true;
      await renewing;

      expect(out.record).toMatchObject({ state: 'failover', activeRegion: 'B', epoch: 2 });
      expect(out.waitedFor).toEqual({ holder: 'A', epoch: 1 });
      expect(out.waitedMs).toBeGreaterThan(0);
      expect(out.waitedMs).toBeLessThanOrEqual(h.maxWaitMs);
      expect(committedAt - started).toBeLessThanOrEqual(h.maxWaitMs + 1000);
      expect(waits.length).toBeGreaterThan(0);
      expect(waits[0]).toMatchObject({ holder: 'A', epoch: 1 });
      expect(waits[0]!.remainingMs).toBeGreaterThan(0);
      expect(waits[0]!.remainingMs).toBeLessThanOrEqual(h.maxWaitMs);
      // The old writer was renewing all along and was refused once the switch began; no lease it was given
      // outlived the commit.
      expect(renewals).toBeGreaterThan(0);
      expect(refusals).toBeGreaterThan(0);
      expect(validUntil).toBeLessThanOrEqual(committedAt);

      await expectNoQuorum(a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 99 }), true);
      const lease = await b.acquire({ appId: app, holder: 'B', epoch: 2, logHead: 0 });
      expect(lease.validUntil).toBeGreaterThan(h.now());
    });

    it('makes a fence asked by another than the holder wait for the lease too', async () => {
      const app = newApp();
      const [op, a] = [h.client('operator'), h.client('A')];
      await op.change(app, to(app, 'active', 'A'), opts('operator'));
      await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 1 });
      const out = await op.change(app, to(app, 'fenced', 'A'), opts('operator'));
      expect(out.record).toMatchObject({ state: 'fenced', activeRegion: 'A', epoch: 2 });
      expect(out.waitedFor).toEqual({ holder: 'A', epoch: 1 });
      expect(out.waitedMs).toBeGreaterThan(0);
      expect(out.waitedMs).toBeLessThanOrEqual(h.maxWaitMs);
    });

    it('commits a fence asked by the holder itself without waiting; its lease ends by release or running out', async () => {
      const app = newApp();
      const [op, a, b] = [h.client('operator'), h.client('A'), h.client('B')];
      await op.change(app, to(app, 'active', 'A'), opts('operator'));
      await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 1 });
      const started = h.now();
      const out = await a.change(app, to(app, 'fenced', 'A', 'planned'), opts('A'));
      expect(h.now() - started).toBeLessThan(h.leaseMs / 2);
      expect(out.record).toMatchObject({ state: 'fenced', activeRegion: 'A', epoch: 2 });
      expect(out.waitedMs).toBe(0);
      expect(out.waitedFor).toBeUndefined();
      // The lease cannot be renewed any more...
      await expectNoQuorum(a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 2 }), true);
      // ...but it was not ended by the fence (the holder may not know its fence committed): a switch to
      // another region still waits for it to run out.
      const moved = await op.change(app, to(app, 'failover', 'B', 'forced'), opts('operator'));
      expect(moved.record.epoch).toBe(3);
      expect(moved.waitedFor).toEqual({ holder: 'A', epoch: 1 });
      expect(moved.waitedMs).toBeLessThanOrEqual(h.maxWaitMs);

      // The graceful way: the holder fences itself, then releases; the switch does not wait.
      await b.acquire({ appId: app, holder: 'B', epoch: 3, logHead: 0 });
      await b.change(app, to(app, 'fenced', 'B'), opts('B'));
      await b.release(app, 'B', 3);
      const back = await op.change(app, to(app, 'active', 'A'), opts('operator'));
      expect(back.record.epoch).toBe(5);
      expect(back.waitedMs).toBe(0);
      expect(back.waitedFor).toBeUndefined();
    });

    it('lets a switch proceed without waiting after the holder released its lease', async () => {
      const app = newApp();
      const [op, a] = [h.client('operator'), h.client('A')];
      await op.change(app, to(app, 'active', 'A'), opts('operator'));
      await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 1 });
      await a.release(app, 'A', 1);
      const started = h.now();
      const out = await op.change(app, to(app, 'failover', 'B', 'forced'), opts('operator'));
      expect(h.now() - started).toBeLessThan(h.leaseMs / 2);
      expect(out.waitedMs).toBe(0);
      expect(out.waitedFor).toBeUndefined();
      // Releasing a lease that is not held (any more) is harmless.
      await a.release(app, 'A', 1);
      await a.release(newApp(), 'A', 1);
    });

    it("reports the writer's last log head", async () => {
      const app = newApp();
      const [op, a] = [h.client('operator'), h.client('A')];
      await op.change(app, to(app, 'active', 'A'), opts('operator'));
      expect(await op.lastWriterReport(app, 'A')).toBeUndefined();
      await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 5 });
      await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 9 });
      const report = await op.lastWriterReport(app, 'A');
      expect(report).toMatchObject({ region: 'A', epoch: 1, logHead: 9 });
      expect(report!.ageMs).toBeGreaterThanOrEqual(0);
      expect(report!.ageMs).toBeLessThan(5000);
      expect(await op.lastWriterReport(app, 'B')).toBeUndefined();
      await a.release(app, 'A', 1);
    });

    it('lists every voter in health, with the lease while one is held', async () => {
      const app = newApp();
      const [op, a] = [h.client('operator'), h.client('A')];
      await op.change(app, to(app, 'active', 'A'), opts('operator'));
      const idle = await op.health(app);
      expect(idle).toHaveLength(op.voterCount);
      expect(new Set(idle.map((v) => v.name)).size).toBe(op.voterCount);
      expect(idle.every((v) => v.reachable && !v.lease)).toBe(true);
      await a.acquire({ appId: app, holder: 'A', epoch: 1, logHead: 1 });
      const held = await op.health(app);
      expect(held.every((v) => v.reachable)).toBe(true);
      const leases = held.flatMap((v) => (v.lease ? [v.lease] : []));
      expect(leases.length).toBeGreaterThan(0);
      for (const l of leases) {
        expect(l).toMatchObject({ holder: 'A', epoch: 1 });
        expect(l.remainingMs).toBeGreaterThan(0);
        expect(l.remainingMs).toBeLessThanOrEqual(h.maxWaitMs);
      }
      await a.release(app, 'A', 1);
    });

    it('keeps working with one voter down, stops with no_quorum with two down, and resumes', async (ctx) => {
      const probe = await factory();
      try {
        if (!probe.kill || !probe.restart) {
          ctx.skip();
          return;
        }
        const app = newApp();
        const [op, a] = [probe.client('operator'), probe.client('A')];
        await op.change(app, to(app, 'active', 'A'), opts('operator'));

        await probe.kill(0);
        // Changes wait out a re-election within their timeout; a lease renewal is retried by its holder.
        const fenced = await a.change(app, to(app, 'fenced', 'A'), opts('A'));
        expect(fenced.record.epoch).toBe(2);
        const lifted = await op.change(app, to(app, 'active', 'A'), opts('operator'));
        expect(lifted.record.epoch).toBe(3);
        const lease = await eventually(() => a.acquire({ appId: app, holder: 'A', epoch: 3, logHead: 1 }));
        expect(lease.validUntil).toBeGreaterThan(probe.now());
        expect((await op.read(app))?.epoch).toBe(3);
        expect((await op.health(app)).filter((v) => v.reachable)).toHaveLength(2);

        await probe.kill(1);
        await expectNoQuorum(op.change(app, to(app, 'fenced', 'A'), opts('operator', { timeoutMs: 2000 })));
        await expectNoQuorum(a.acquire({ appId: app, holder: 'A', epoch: 3, logHead: 2 }), false);
        await expectNoQuorum(op.read(app));
        const health = await op.health(app);
        expect(health).toHaveLength(3);
        expect(health.filter((v) => v.reachable && !v.error).length).toBeLessThan(2);

        await probe.restart(1);
        const back = await eventually(() => a.change(app, to(app, 'fenced', 'A'), opts('A')));
        expect(back.record.epoch).toBe(4);
        expect((await op.read(app))?.epoch).toBe(4);
      } finally {
        await probe.close();
      }
    }, 60_000);
  });
}

/** Retries `fn` while it fails with no_quorum (a re-election in progress), up to 10 s. */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isDomainError(err, 'no_quorum') || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}
