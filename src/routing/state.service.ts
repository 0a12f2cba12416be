/**
 * @module The routing layer's state: the newest state record of each app as this
 * region knows it, transitions validated by the state machine (src/core/app-state.ts)
 * and written to the replicated `app-config` table, and the barrier entry a region
 * logs when it stops being the writer.
 */

import type { ChangeLog } from '../adapters/sqlite/change-log.js';
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
import { compareVersions, type Version } from '../core/version.js';
import type { StoredItem } from '../ports/table-store.js';
import type { StateEvents } from './state-events.js';

export const APP_CONFIG_TABLE = 'app-config';

export interface DrainStatus {
  drained: boolean;
  /** Entries and bytes of the fenced writer's log not yet applied by the target, when known. */
  backlog: { entries: number | null; bytes: number | null };
}

/** Asks the would-be writer whether it has applied `from`'s log up to its barrier for `epoch`. */
export type DrainCheck = (target: string, from: string, epoch: number) => Promise<DrainStatus>;

export interface StateChange {
  record: StateRecord;
  plan: TransitionPlan;
  possibleLoss?: DrainStatus['backlog'];
}

/** Reports what a forced switch may lose: the old writer's backlog as the target last saw it. */
export type LossEstimate = (target: string, from: string) => Promise<DrainStatus['backlog']>;

export class StateService {
  private readonly records = new Map<string, StoredItem<StateRecord & Record<string, unknown>>>();

  constructor(
    private readonly deps: {
      region: string;
      topology: TopologyView;
      tables: SqliteTableStore;
      log: ChangeLog;
      clock: HybridLogicalClock;
      events: StateEvents;
      drainCheck: DrainCheck;
      lossEstimate: LossEstimate;
      now?: () => Date;
    },
  ) {
    deps.tables.onCommit(APP_CONFIG_TABLE, (commit, tx) => {
      const before = commit.before?.item as StateRecord | null | undefined;
      const after = commit.after.item as StateRecord | null;
      if (!after) return;
      const stored = commit.after as StoredItem<StateRecord & Record<string, unknown>>;
      this.records.set(commit.key, stored);
      if (isWriter(before ?? undefined, deps.region) && !isWriter(after, deps.region)) {
        deps.log.append({ kind: 'barrier', appId: after.appId, epoch: after.epoch });
      }
      tx.afterCommit(() => deps.events.publish(after));
    });
  }

  get region(): string {
    return this.deps.region;
  }

  get topology(): TopologyView {
    return this.deps.topology;
  }

  /** Load the records this region holds; in the primary, create the app's first record. */
  async init(appId: string): Promise<void> {
    const page = await this.deps.tables.scan(APP_CONFIG_TABLE, { limit: 1000 });
    for (const stored of page.items) {
      if (stored.item) this.records.set(stored.key, stored as StoredItem<StateRecord & Record<string, unknown>>);
    }
    if (!this.records.has(appId) && this.deps.region === this.deps.topology.primary) {
      const record = initialRecord(appId, this.deps.topology, this.now());
      await this.deps.tables.put(
        APP_CONFIG_TABLE,
        { ...record },
        { stamp: () => this.stampAt(record.epoch), expected: null },
      );
    }
  }

  get(appId: string): StateRecord | undefined {
    return this.records.get(appId)?.item ?? undefined;
  }

  getVersioned(appId: string): StoredItem<StateRecord & Record<string, unknown>> | undefined {
    return this.records.get(appId);
  }

  require(appId: string): StateRecord {
    const record = this.get(appId);
    if (!record) throw new DomainError('app_not_found', `no application "${appId}" in ${this.deps.region}`, { appId });
    return record;
  }

  highestEpoch(): number {
    let max = 0;
    for (const r of this.records.values()) max = Math.max(max, r.item?.epoch ?? 0);
    return max;
  }

  /** Validate and commit a transition requested by an operator. */
  async change(appId: string, request: TransitionRequest): Promise<StateChange> {
    const current = this.records.get(appId);
    if (!current?.item)
      throw new DomainError('app_not_found', `no application "${appId}" in ${this.deps.region}`, { appId });
    const plan = planTransition(current.item, request, this.deps.topology, this.now());
    let possibleLoss: DrainStatus['backlog'] | undefined;
    if (plan.drainFrom) {
      const status = await this.deps.drainCheck(plan.next.activeRegion, plan.drainFrom, current.item.epoch);
      if (!status.drained) {
        throw new DomainError(
          'not_drained',
          `${plan.next.activeRegion} has not yet applied every write ${plan.drainFrom} accepted before the fence`,
          {
            from: plan.drainFrom,
            to: plan.next.activeRegion,
            backlog: status.backlog,
          },
        );
      }
    } else if (plan.kind === 'forced-switch') {
      possibleLoss = await this.deps.lossEstimate(plan.next.activeRegion, current.item.activeRegion);
    }
    const next: StateRecord = possibleLoss
      ? { ...plan.next, possibleLoss: { region: current.item.activeRegion, ...possibleLoss } }
      : plan.next;
    // Conditional on the version read: a concurrent change makes this one fail rather than both apply.
    await this.deps.tables.put(
      APP_CONFIG_TABLE,
      { ...next },
      { stamp: () => this.stampAt(next.epoch), expected: current.version },
    );
    return { record: next, plan, ...(possibleLoss ? { possibleLoss } : {}) };
  }

  /** Keep a peer's record if it is newer than ours (start-up check, self-fencing). */
  adoptPeerRecord(stored: StoredItem): boolean {
    const mine = this.records.get(stored.key);
    if (mine && compareVersions(stored.version, mine.version) <= 0) return false;
    this.deps.clock.observe(stored.version.hlc);
    const outcome = this.deps.tables.applyRemote({
      kind: 'item',
      table: APP_CONFIG_TABLE,
      key: stored.key,
      item: stored.item,
      version: stored.version,
    });
    return outcome.outcome === 'applied';
  }

  private stampAt(epoch: number): Version {
    return { epoch, hlc: this.deps.clock.tick(), region: this.deps.region };
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
