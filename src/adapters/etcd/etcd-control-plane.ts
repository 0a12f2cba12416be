/**
 * @module The control-plane port on etcd (DESIGN §3a, production option): etcd's Raft
 * log is the quorum, its v3 API (through the JSON gateway, src/adapters/etcd/etcd-client.ts)
 * the register and the lease. Per app, under `prefix`:
 *
 * - `${prefix}/${appId}/state` = {record, changeId}: the register. A change reads it
 *   (linearizable) and commits with a txn that compares its mod_revision (0: absent);
 *   a failed compare re-reads and applies `next` again. Epochs come only from it.
 * - `${prefix}/${appId}/writer` = {holder, epoch, logHead}, attached to an etcd lease of
 *   TTL ceil(leaseMs / 1000) s: the writer lease. `acquire` renews the lease
 *   (keepalive; or grants one) and then re-puts the key in a txn that requires the
 *   register to be the one just read (naming `holder` the writer at `epoch`), the key
 *   to be absent or the one just read, and no `moving` marker. The holder counts
 *   from before it asked, less leaseMargin(), so it stops before etcd's leader lets
 *   the lease expire (etcd never expires a lease early; a new leader extends them).
 * - `${prefix}/${appId}/moving`: put, with its own short lease, by a change that must
 *   wait for a live writer lease to run out; `acquire` refuses renewals while it
 *   exists, so the wait is one lease period at most (plus the small window of a
 *   renewal already past its check, and etcd's expiry sweep, every 500 ms). The
 *   change commits only with a txn that requires the writer key to be absent: no
 *   interleaving lets two writers in. A fence asked by the holder itself does not
 *   wait, and does not end the lease either (as in the voters): the holder may not
 *   learn that its fence committed and go on admitting, so a later change that moves
 *   writes elsewhere still waits for the lease, which can no longer be renewed (the
 *   register has moved on), or for the holder's `release` (revoke: the key goes with it).
 * - `${prefix}/${appId}/report/${region}` = {epoch, logHead, at}: no lease, rewritten by
 *   each successful `acquire` (in its txn), read by `lastWriterReport`.
 *
 * Errors: no member answering (or no quorum behind the members that answer) is
 * DomainError `no_quorum`; a change still losing its compare at `timeoutMs` is
 * `conflict`.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { isWriter, type StateRecord } from '../../core/app-state.js';
import { DomainError } from '../../core/errors.js';
import type {
  ChangeOptions,
  ChangeOutcome,
  ControlPlane,
  Lease,
  LeaseRequest,
  LeaseWait,
  VoterHealth,
  WriterReport,
} from '../../ports/control-plane.js';
import { leaseMargin } from '../voters/voters-control-plane.js';
import {
  cmp,
  EtcdClient,
  EtcdRequestError,
  EtcdUnavailableError,
  type KeyValue,
  op,
  type RequestOp,
} from './etcd-client.js';

export interface EtcdControlPlaneOptions {
  /** Client URLs of the etcd members, e.g. http://10.0.0.1:2379. */
  endpoints: readonly string[];
  /** Key prefix of every key this plane writes (default '/mraa'). */
  prefix?: string;
  /** The writer lease; etcd's is ceil(leaseMs / 1000) s (etcd may raise it to its minimum TTL). */
  leaseMs: number;
  /** Bound on how much two clocks' rates may differ (0.01 = 1 %). */
  maxClockDrift: number;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Timeout of one request to one member (default 1000 ms). */
  callTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** How often a change waiting for a lease looks again (default 100 ms). */
  pollMs?: number;
}

interface StateValue {
  record: StateRecord;
  changeId: string;
}

interface WriterValue {
  holder: string;
  epoch: number;
  logHead: number;
}

interface Snapshot {
  state?: { value: StateValue; mod: number };
  writer?: WriterValue & { lease: string; mod: number };
  moving?: { mod: number };
}

const DEFAULT_CALL_TIMEOUT_MS = 1000;
const DEFAULT_POLL_MS = 100;

export class EtcdControlPlane implements ControlPlane {
  readonly voterCount: number;
  private readonly client: EtcdClient;
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** The etcd lease of each (app, holder, epoch) this plane acquired, renewed with keepalive. */
  private readonly leases = new Map<string, { appId: string; holder: string; epoch: number; id: string }>();

  constructor(private readonly o: EtcdControlPlaneOptions) {
    this.client = new EtcdClient({ endpoints: o.endpoints, callTimeoutMs: o.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS });
    this.voterCount = this.client.endpoints.length;
    this.prefix = (o.prefix ?? '/mraa').replace(/\/+$/, '');
    this.ttlSeconds = Math.max(1, Math.ceil(o.leaseMs / 1000));
    this.sleep = o.sleep ?? ((ms) => delay(ms));
  }

  async read(appId: string): Promise<StateRecord | undefined> {
    const kv = await this.guard('read the state', () => this.client.get(this.key(appId, 'state')));
    return kv ? parse<StateValue>(kv).record : undefined;
  }

  async change(
    appId: string,
    next: (current: StateRecord | undefined) => StateRecord,
    options: ChangeOptions,
  ): Promise<ChangeOutcome> {
    const changeId = randomUUID();
    const deadline = this.o.now() + options.timeoutMs;
    let waitedMs = 0;
    let waitingSince: number | undefined;
    let waitedFor: { holder: string; epoch: number } | undefined;
    let lastWait: LeaseWait | undefined;
    let marker: { id: string; renewedAt: number } | undefined;
    let lastUnavailable: EtcdUnavailableError | undefined;
    const outcome = (record: StateRecord): ChangeOutcome => {
      if (waitingSince !== undefined) waitedMs += this.o.now() - waitingSince;
      return { record, waitedMs, ...(waitedFor ? { waitedFor } : {}) };
    };
    try {
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0 && this.o.now() >= deadline) {
          if (lastUnavailable) throw noQuorum('change the state', lastUnavailable);
          throw new DomainError('conflict', 'the state register kept changing under this change; try again', {
            retryAfter: 1,
          });
        }
        let snap: Snapshot;
        try {
          snap = await this.snapshot(appId);
        } catch (err) {
          lastUnavailable = unavailable(err);
          await this.pause(deadline, this.pollMs());
          continue;
        }
        lastUnavailable = undefined;
        // An earlier attempt whose answer was lost may have committed: never apply twice.
        if (snap.state?.value.changeId === changeId) return outcome(snap.state.value.record);

        const current = snap.state?.value.record;
        const record = next(current);
        checkEpoch(current, record);

        const writer = snap.writer;
        const keeps = !!writer && record.epoch === writer.epoch && isWriter(record, writer.holder);
        const fenceByHolder =
          !!writer &&
          options.requester === writer.holder &&
          record.state === 'fenced' &&
          record.activeRegion === writer.holder &&
          record.epoch === writer.epoch + 1;
        if (writer && !keeps && !fenceByHolder) {
          // A live writer lease: stop its renewals, tell the caller, wait for the key to go.
          waitingSince ??= this.o.now();
          waitedFor = { holder: writer.holder, epoch: writer.epoch };
          try {
            marker = await this.markMoving(appId, marker, options.requester, writer);
            const wait = { ...waitedFor, remainingMs: await this.remainingMs(writer.lease) };
            if (
              !lastWait ||
              lastWait.holder !== wait.holder ||
              lastWait.epoch !== wait.epoch ||
              lastWait.remainingMs !== wait.remainingMs
            ) {
              options.onWait?.(wait);
            }
            lastWait = wait;
          } catch (err) {
            lastUnavailable = unavailable(err);
          }
          if (this.o.now() >= deadline) {
            if (lastUnavailable) throw noQuorum('change the state', lastUnavailable);
            throw new DomainError(
              'no_quorum',
              `${writer.holder} still holds the writer lease of epoch ${writer.epoch} and the change could not wait ` +
                `longer than ${options.timeoutMs} ms`,
              {
                retryAfter: Math.max(1, Math.ceil((lastWait?.remainingMs ?? 1000) / 1000)),
                lease: lastWait ?? waitedFor,
              },
            );
          }
          await this.pause(deadline, this.pollMs());
          continue;
        }
        if (waitingSince !== undefined) {
          waitedMs += this.o.now() - waitingSince;
          waitingSince = undefined;
        }

        const stateKey = this.key(appId, 'state');
        const writerKey = this.key(appId, 'writer');
        const success: RequestOp[] = [
          op.put(stateKey, JSON.stringify({ record, changeId } satisfies StateValue)),
          op.del(this.key(appId, 'moving')),
        ];
        try {
          // The writer key as read: absent, or (the holder's own fence, or no move) the same lease.
          const result = await this.client.txn(
            [cmp.modRevision(stateKey, snap.state?.mod ?? 0), cmp.modRevision(writerKey, writer?.mod ?? 0)],
            success,
          );
          if (result.succeeded) return outcome(record);
        } catch (err) {
          // Unknown whether it committed: the next read tells (by changeId).
          lastUnavailable = unavailable(err);
          await this.pause(deadline, this.pollMs());
          continue;
        }
        // Lost the compare: someone else changed the register (or the writer key) first.
        await this.pause(deadline, 2 + Math.random() * Math.min(50, 5 * 2 ** Math.min(attempt, 4)));
      }
    } finally {
      if (marker) await this.client.revoke(marker.id).catch(() => undefined);
    }
  }

  async acquire(request: LeaseRequest): Promise<Lease> {
    const { appId, holder, epoch, logHead } = request;
    const asked = this.o.now();
    const what = `renew the writer lease of ${holder} at epoch ${epoch}`;
    const refuse = (why: string, newerEpoch: boolean) =>
      new DomainError('no_quorum', `could not ${what}: ${why}`, { retryAfter: 1, newerEpoch });
    const snap = await this.guard(what, () => this.snapshot(appId), { newerEpoch: false });
    const refusal = this.refusal(snap, holder, epoch);
    if (refusal) throw refuse(refusal.why, refusal.newerEpoch);

    const slot = leaseSlot(appId, holder, epoch);
    let lease = this.leases.get(slot);
    let ttlSeconds = 0;
    let fresh = false;
    await this.guard(
      what,
      async () => {
        if (lease) {
          ttlSeconds = await this.client.keepAlive(lease.id);
          if (ttlSeconds <= 0) {
            this.leases.delete(slot);
            lease = undefined;
          }
        }
        if (!lease) {
          const granted = await this.client.grant(this.ttlSeconds);
          lease = { appId, holder, epoch, id: granted.id };
          ttlSeconds = granted.ttlSeconds;
          fresh = true;
        }
      },
      { newerEpoch: false },
    );
    const id = lease!.id;

    const stateKey = this.key(appId, 'state');
    const writerKey = this.key(appId, 'writer');
    const movingKey = this.key(appId, 'moving');
    const writer: WriterValue = { holder, epoch, logHead };
    // Wall clock: `at` is read by other processes, whose monotonic clocks differ; the age it gives is approximate.
    const report = { epoch, logHead, at: Date.now() };
    let result: Awaited<ReturnType<EtcdClient['txn']>>;
    try {
      result = await this.client.txn(
        [
          cmp.modRevision(stateKey, snap.state?.mod ?? 0),
          cmp.modRevision(writerKey, snap.writer?.mod ?? 0),
          cmp.modRevision(movingKey, 0),
        ],
        [
          op.put(writerKey, JSON.stringify(writer), id),
          op.put(this.key(appId, 'report', holder), JSON.stringify(report)),
        ],
        [op.get(stateKey), op.get(writerKey), op.get(movingKey)],
      );
    } catch (err) {
      this.leases.delete(slot);
      if (fresh) void this.client.revoke(id).catch(() => undefined);
      if (err instanceof EtcdRequestError && err.code === 5) throw refuse('its etcd lease ran out', false);
      throw noQuorum(what, unavailable(err), { newerEpoch: false });
    }
    if (!result.succeeded) {
      this.leases.delete(slot);
      if (fresh) void this.client.revoke(id).catch(() => undefined);
      const now = this.snapshotFrom(result.ranges);
      const why = this.refusal(now, holder, epoch) ?? {
        why: 'another renewal of the same lease raced with this one',
        newerEpoch: false,
      };
      throw refuse(why.why, why.newerEpoch);
    }
    if (fresh) {
      // Leases of this holder's older epochs hold no key any more; forget them.
      for (const [k, l] of this.leases) if (l.appId === appId && l.holder === holder) this.leases.delete(k);
      this.leases.set(slot, lease!);
    }
    const ttlMs = ttlSeconds * 1000;
    return { holder, epoch, validUntil: asked + ttlMs - leaseMargin(ttlMs, this.o.maxClockDrift) };
  }

  async release(appId: string, holder: string, epoch: number): Promise<void> {
    const slot = leaseSlot(appId, holder, epoch);
    const mine = this.leases.get(slot);
    this.leases.delete(slot);
    try {
      if (mine) await this.client.revoke(mine.id);
      // Another process (a restarted holder) may have put the key under a lease this one never saw.
      const kv = await this.client.get(this.key(appId, 'writer'));
      const writer = kv ? parse<WriterValue>(kv) : undefined;
      if (kv && writer?.holder === holder && writer.epoch === epoch && kv.lease !== '0') {
        await this.client.revoke(kv.lease);
      }
    } catch {
      // Best effort: an unreleased lease runs out on its own.
    }
  }

  async lastWriterReport(appId: string, region: string): Promise<WriterReport | undefined> {
    const kv = await this.guard('read the writer report', () => this.client.get(this.key(appId, 'report', region)));
    if (!kv) return undefined;
    const r = parse<{ epoch: number; logHead: number; at: number }>(kv);
    // Wall clock (written by the writer's process): approximate, as close as the two machines' clocks are.
    return { region, epoch: r.epoch, logHead: r.logHead, ageMs: Math.max(0, Date.now() - r.at) };
  }

  async health(appId: string): Promise<VoterHealth[]> {
    let lease: VoterHealth['lease'];
    try {
      const kv = await this.client.get(this.key(appId, 'writer'));
      if (kv && kv.lease !== '0') {
        const writer = parse<WriterValue>(kv);
        const remainingMs = await this.remainingMs(kv.lease);
        if (remainingMs > 0) lease = { holder: writer.holder, epoch: writer.epoch, remainingMs };
      }
    } catch {
      // No quorum: no lease to show; the members' own answers say why.
    }
    return Promise.all(
      this.client.endpoints.map(async (name): Promise<VoterHealth> => {
        try {
          const status = await this.client.status(name);
          if (!status.leader || status.leader === '0') return { name, reachable: true, error: 'no leader' };
          if (status.errors?.length) return { name, reachable: true, error: status.errors.join('; ') };
          return { name, reachable: true, ...(lease ? { lease } : {}) };
        } catch (err) {
          return { name, reachable: false, error: (err as Error).message };
        }
      }),
    );
  }

  async close(): Promise<void> {
    this.leases.clear();
    this.client.close();
  }

  private key(appId: string, ...parts: string[]): string {
    return [this.prefix, encodeURIComponent(appId), ...parts.map((p) => encodeURIComponent(p))].join('/');
  }

  private pollMs(): number {
    return this.o.pollMs ?? DEFAULT_POLL_MS;
  }

  /** The register, the writer key and the moving marker, at one revision (a read-only txn is linearizable). */
  private async snapshot(appId: string): Promise<Snapshot> {
    const result = await this.client.txn(
      [],
      [op.get(this.key(appId, 'state')), op.get(this.key(appId, 'writer')), op.get(this.key(appId, 'moving'))],
    );
    return this.snapshotFrom(result.ranges);
  }

  private snapshotFrom(ranges: KeyValue[][]): Snapshot {
    const [state, writer, moving] = [ranges[0]?.[0], ranges[1]?.[0], ranges[2]?.[0]];
    return {
      ...(state ? { state: { value: parse<StateValue>(state), mod: state.modRevision } } : {}),
      ...(writer ? { writer: { ...parse<WriterValue>(writer), lease: writer.lease, mod: writer.modRevision } } : {}),
      ...(moving ? { moving: { mod: moving.modRevision } } : {}),
    };
  }

  /** Why `holder` may not hold the lease of `epoch` in `snap`, if it may not. */
  private refusal(snap: Snapshot, holder: string, epoch: number): { why: string; newerEpoch: boolean } | undefined {
    const record = snap.state?.value.record;
    if (!record) return { why: 'the register holds no record yet', newerEpoch: false };
    if (record.epoch !== epoch || !isWriter(record, holder)) {
      return {
        why: `the register holds epoch ${record.epoch} (${record.state} in ${record.activeRegion})`,
        newerEpoch: record.epoch > epoch,
      };
    }
    if (snap.moving) return { why: 'a change is moving writes away from it', newerEpoch: false };
    const w = snap.writer;
    if (w && (w.holder !== holder || w.epoch !== epoch)) {
      return { why: `${w.holder} holds the writer lease of epoch ${w.epoch}`, newerEpoch: w.epoch > epoch };
    }
    return undefined;
  }

  /** Puts (or keeps alive) the marker that stops the writer's renewals while a change waits. */
  private async markMoving(
    appId: string,
    marker: { id: string; renewedAt: number } | undefined,
    requester: string,
    writer: WriterValue,
  ): Promise<{ id: string; renewedAt: number }> {
    const ttl = this.ttlSeconds + 1;
    const now = this.o.now();
    if (marker && now - marker.renewedAt < (ttl * 1000) / 3) return marker;
    if (marker && (await this.client.keepAlive(marker.id)) > 0) return { id: marker.id, renewedAt: now };
    const { id } = await this.client.grant(ttl);
    const value = JSON.stringify({ by: requester, holder: writer.holder, epoch: writer.epoch });
    await this.client.txn([], [op.put(this.key(appId, 'moving'), value, id)]);
    if (marker) void this.client.revoke(marker.id).catch(() => undefined);
    return { id, renewedAt: now };
  }

  /**
   * What is left of a lease, as an upper bound: etcd answers whole seconds, truncated
   * (0 means less than one second), never more than the TTL it was granted.
   */
  private async remainingMs(leaseId: string): Promise<number> {
    const { ttlSeconds, grantedSeconds } = await this.client.timeToLive(leaseId);
    if (ttlSeconds < 0) return 0;
    return Math.min(ttlSeconds + 1, Math.max(grantedSeconds, 1)) * 1000;
  }

  private async pause(deadline: number, ms: number): Promise<void> {
    const left = deadline - this.o.now();
    if (left > 0) await this.sleep(Math.min(ms, left));
  }

  /** Runs one etcd call; a cluster that cannot answer becomes `no_quorum`. */
  private async guard<T>(what: string, fn: () => Promise<T>, details: Record<string, unknown> = {}): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw noQuorum(what, unavailable(err), details);
    }
  }
}

function leaseSlot(appId: string, holder: string, epoch: number): string {
  return JSON.stringify([appId, holder, epoch]);
}

function parse<T>(kv: KeyValue): T {
  try {
    return JSON.parse(kv.value) as T;
  } catch {
    throw new DomainError('internal', `etcd key ${kv.key} does not hold JSON`);
  }
}

/** The result's epoch must be the current epoch + 1; the first record's any epoch ≥ 1. */
function checkEpoch(current: StateRecord | undefined, record: StateRecord): void {
  const ok = current ? record.epoch === current.epoch + 1 : Number.isInteger(record.epoch) && record.epoch >= 1;
  if (!ok) {
    const expected = current ? `epoch ${current.epoch + 1}` : 'an epoch ≥ 1';
    throw new DomainError('internal', `a change must make ${expected}, not ${record.epoch}`);
  }
}

/** Only "etcd could not answer" is a quorum problem; anything else is a bug to surface. */
function unavailable(err: unknown): EtcdUnavailableError {
  if (err instanceof EtcdUnavailableError) return err;
  if (err instanceof DomainError) throw err;
  if (err instanceof EtcdRequestError) {
    throw new DomainError('internal', `etcd refused a request: ${err.message}`, { code: err.code }, { cause: err });
  }
  throw err;
}

function noQuorum(what: string, err: EtcdUnavailableError, details: Record<string, unknown> = {}): DomainError {
  const voters = err.failures.map((f) => ({ name: f.endpoint, reachable: f.answered, error: f.error }));
  return new DomainError(
    'no_quorum',
    `could not ${what}: no etcd member answered with a quorum behind it (${err.failures.length} tried)`,
    { retryAfter: 1, voters, ...details },
    { cause: err },
  );
}
