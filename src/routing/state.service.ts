/**
 * @module The routing layer's state. The state record of each app lives in the
 * control plane's register (src/ports/control-plane.ts, DESIGN §3a); this region
 * keeps the newest record it has read from the register in its local `app-config`
 * table (not replicated: a region never takes a record from a peer), serves it, and
 * follows it with its writer lease. Transitions are validated by the state machine
 * (src/core/app-state.ts) and committed through the register, so epochs come only
 * from there. When this region stops being the writer it logs the barrier entry
 * that the exact drain of DESIGN §3 waits for.
 */

import type { SqliteTableStore } from '../adapters/sqlite/table-store.js';
import {
  initialRecord,
  isWriter,
  planTransition,
  type StateRecord,
  type TopologyView,
  type TransitionPlan,
  type TransitionRequest,
} from '../core/app-state.js';
import { DomainError } from '../core/errors.js';
import type { HybridLogicalClock } from '../core/hlc.js';
import type { ChangeLog } from '../ports/change-log.js';
import type { ChangeOutcome, ControlPlane } from '../ports/control-plane.js';
import type { StateEvents } from './state-events.js';
import type { WriterLease } from './writer-lease.js';

export const APP_CONFIG_TABLE = 'app-config';

export interface Backlog {
  entries: number | null;
  bytes: number | null;
}

export interface DrainStatus {
  drained: boolean;
  /** Entries and bytes of the fenced writer's log not yet applied by the target, when known. */
  backlog: Backlog;
  /** The sequence of the fenced writer's log the target has applied up to. */
  applied?: number;
}

/** Asks the would-be writer whether it has applied `from`'s log up to its barrier for `epoch`. */
export type DrainCheck = (target: string, from: string, epoch: number) => Promise<DrainStatus>;

export interface PossibleLoss extends Backlog {
  region: string;
  /**
   * How long before its lease ran out the old writer may have acknowledged writes that
   * nobody else heard of (since its last report to the voters or its last batch); 0 when none.
   */
  unreportedMs: number;
  /** How the figure was measured. */
  basis: string;
}

export interface StateChange {
  record: StateRecord;
  plan: TransitionPlan;
  possibleLoss?: PossibleLoss;
  /** Milliseconds spent waiting for the old writer's lease to run out, and whose. */
  waitedMs: number;
  waitedFor?: ChangeOutcome['waitedFor'];
}

/** How long an operator's change may wait for a quorum and for an old lease: two lease periods and a margin. */
export function changeTimeoutMs(leaseMs: number): number {
  return 2 * leaseMs + 2000;
}

export class StateService {
  private readonly records = new Map<string, StateRecord>();

  constructor(
    private readonly deps: {
      /** The app this region serves; any other is unknown here. */
      appId: string;
      region: string;
      topology: TopologyView;
      tables: SqliteTableStore;
      log: ChangeLog;
      clock: HybridLogicalClock;
      events: StateEvents;
      plane: ControlPlane;
      lease: WriterLease;
      leaseMs: number;
      /** Also what a forced switch's loss report reads (with an epoch no barrier reaches). */
      drainCheck: DrainCheck;
      /** Tells the other regions that the register moved (they read it; nothing more). */
      announce: (record: StateRecord) => void;
      /** Told of every state record committed here, with the one it replaced (metrics). */
      onRecord?: (before: StateRecord | null, after: StateRecord) => void;
      now?: () => Date;
    },
  ) {
    deps.tables.onCommit(APP_CONFIG_TABLE, (commit, tx) => {
      const before = commit.before?.item as StateRecord | null | undefined;
      const after = commit.after.item as StateRecord | null;
      if (!after) return;
      this.records.set(commit.key, after);
      if (isWriter(before ?? undefined, deps.region) && !isWriter(after, deps.region)) {
        // Every write this region admitted is in its log before this entry: what a drain waits for.
        deps.log.append({ kind: 'barrier', appId: after.appId, epoch: after.epoch });
      }
      tx.afterCommit(() => {
        deps.lease.follow(after);
        deps.events.publish(after);
        deps.onRecord?.(before ?? null, after);
      });
    });
  }

  get region(): string {
    return this.deps.region;
  }

  get topology(): TopologyView {
    return this.deps.topology;
  }

  /** Load the last records this region read from the register (served until the register answers). */
  async init(): Promise<void> {
    const page = await this.deps.tables.scan(APP_CONFIG_TABLE, { limit: 1000 });
    for (const stored of page.items)
      if (stored.item) this.records.set(stored.key, stored.item as unknown as StateRecord);
    // A writer restarted on the record it last read asks for its lease again (the voters
    // decide; a register that moved on refuses it): reading the same record from the
    // register later is no change, so nothing else would.
    this.deps.lease.follow(this.records.get(this.deps.appId));
  }

  get(appId: string): StateRecord | undefined {
    return this.records.get(appId);
  }

  require(appId: string): StateRecord {
    this.checkApp(appId);
    const record = this.get(appId);
    if (!record) {
      throw new DomainError(
        'no_quorum',
        `${this.deps.region} has not yet read the state of "${appId}" from the voters`,
        {
          appId,
          retryAfter: 1,
        },
      );
    }
    return record;
  }

  highestEpoch(): number {
    let max = 0;
    for (const r of this.records.values()) max = Math.max(max, r.epoch);
    return max;
  }

  /**
   * Reads the register and keeps its record. An app the register has never held gets
   * its first record (active in the primary), through the register like any change.
   */
  async refresh(appId: string): Promise<StateRecord> {
    this.checkApp(appId);
    let record = await this.deps.plane.read(appId);
    if (!record) {
      const outcome = await this.deps.plane.change(
        appId,
        (current) =>
          current ?? { ...initialRecord(appId, this.deps.topology, this.now()), epoch: this.highestEpoch() + 1 },
        { requester: this.deps.region, timeoutMs: changeTimeoutMs(this.deps.leaseMs) },
      );
      record = outcome.record;
    }
    await this.keep(record);
    return record;
  }

  /** Validate and commit a transition requested by an operator. */
  async change(appId: string, request: TransitionRequest): Promise<StateChange> {
    const current = await this.refresh(appId);
    const plan = planTransition(current, request, this.deps.topology, this.now());
    if (plan.drainFrom) {
      const status = await this.deps.drainCheck(plan.next.activeRegion, plan.drainFrom, current.epoch);
      if (!status.drained) {
        throw new DomainError(
          'not_drained',
          `${plan.next.activeRegion} has not yet applied every write ${plan.drainFrom} accepted before the fence`,
          { from: plan.drainFrom, to: plan.next.activeRegion, backlog: status.backlog },
        );
      }
    }
    // The holder fencing itself stops admitting before it asks, so no write commits after the voters let go.
    const ownFence = plan.kind === 'fence' && isWriter(current, this.deps.region);
    const resume = ownFence ? this.deps.lease.suspend() : undefined;
    let outcome: ChangeOutcome;
    try {
      outcome = await this.deps.plane.change(
        appId,
        (now) => {
          if (!now || now.epoch !== current.epoch) {
            throw new DomainError('conflict', `the state changed meanwhile (now epoch ${now?.epoch}); look again`, {
              epoch: now?.epoch ?? null,
            });
          }
          // Stamped when the change is accepted, not when it was asked (a forced switch may wait).
          return { ...plan.next, changedAt: this.now().toISOString() };
        },
        { requester: this.deps.region, timeoutMs: changeTimeoutMs(this.deps.leaseMs) },
      );
    } catch (err) {
      resume?.();
      throw err;
    }
    await this.keep(outcome.record);
    resume?.();
    if (ownFence) void this.deps.lease.release(current.epoch);
    this.deps.announce(outcome.record);
    const possibleLoss = plan.kind === 'forced-switch' ? await this.lossOf(appId, current, outcome.record) : undefined;
    return {
      record: outcome.record,
      plan,
      waitedMs: outcome.waitedMs,
      ...(outcome.waitedFor ? { waitedFor: outcome.waitedFor } : {}),
      ...(possibleLoss ? { possibleLoss } : {}),
    };
  }

  /** Keeps a record read from the register if it is newer than the one held. */
  async keep(record: StateRecord): Promise<boolean> {
    const mine = this.records.get(record.appId);
    if (mine && mine.epoch >= record.epoch) return false;
    if (isWriter(record, this.deps.region)) {
      // Take the lease before serving the record: clients that follow it find the new writer admitting.
      this.deps.lease.follow(record);
      await this.deps.lease.renew();
    }
    await this.deps.tables.put(APP_CONFIG_TABLE, { ...record }, { stamp: () => this.stampAt(record.epoch) });
    return true;
  }

  /**
   * Measured once the old writer's lease has run out (the switch committed): the
   * newest log position of the old writer anyone heard of (its last report to the
   * voters with a lease renewal, or the head named in its last batch to the new
   * writer) less what the new writer has applied. Writes it acknowledged after that
   * were heard by nobody: the report says for how long that may have gone on (up to a
   * lease period after its last renewal), so it never reads as a bare 0.
   */
  private async lossOf(appId: string, from: StateRecord, to: StateRecord): Promise<PossibleLoss> {
    const old = from.activeRegion;
    const [report, drain] = await Promise.all([
      this.deps.plane.lastWriterReport(appId, old).catch(() => undefined),
      this.deps.drainCheck(to.activeRegion, old, Number.MAX_SAFE_INTEGER).catch(() => undefined),
    ]);
    const applied = drain?.applied;
    const fromReport = report && applied !== undefined ? Math.max(0, report.logHead - applied) : null;
    const fromBatches = drain?.backlog.entries ?? null;
    const known = fromReport === null && fromBatches === null ? null : Math.max(fromReport ?? 0, fromBatches ?? 0);
    // Its lease could last up to one period after its last renewal (its last report): writes
    // acknowledged in that time were reported to nobody.
    const unreportedMs = this.deps.leaseMs;
    const parts = [
      report
        ? `${old} reported log position ${report.logHead} to the voters ${Math.round(report.ageMs)} ms ago`
        : `${old} reported no log position to the voters`,
      applied !== undefined
        ? `${to.activeRegion} has applied up to ${applied}`
        : `${to.activeRegion}'s progress is unknown`,
      fromBatches !== null ? `${fromBatches} entries of its last batches not applied` : null,
    ].filter(Boolean);
    return { region: old, entries: known, bytes: null, unreportedMs, basis: parts.join('; ') };
  }

  private checkApp(appId: string): void {
    if (appId !== this.deps.appId) {
      throw new DomainError('app_not_found', `no application "${appId}" in ${this.deps.region}`, { appId });
    }
  }

  private stampAt(epoch: number) {
    return { epoch, hlc: this.deps.clock.tick(), region: this.deps.region };
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
