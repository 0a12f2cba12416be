/**
 * @module The application state machine of DESIGN §3: the three states, the
 * transition table, and the order between two state records. Pure: no I/O.
 */
import { DomainError } from './errors.js';

export const APP_STATES = ['active', 'fenced', 'failover'] as const;
export type AppStateName = (typeof APP_STATES)[number];

export function isAppState(value: unknown): value is AppStateName {
  return typeof value === 'string' && (APP_STATES as readonly string[]).includes(value);
}

/** The state record stored in the replicated `app-config` table, one per appId. */
export interface StateRecord {
  appId: string;
  state: AppStateName;
  /** The writer: the region taking writes, or, while fenced, the region that held them. */
  activeRegion: string;
  epoch: number;
  changedAt: string;
  reason?: string;
  /** Set on a forced switch: what the old writer may not have shipped. */
  possibleLoss?: { region: string; entries: number | null; bytes: number | null };
}

export interface TopologyView {
  primary: string;
  regions: readonly string[];
}

export interface TransitionRequest {
  state: AppStateName;
  activeRegion?: string;
  reason?: string;
  force?: boolean;
}

export type TransitionKind = 'fence' | 'lift' | 'switch' | 'forced-switch';

export interface TransitionPlan {
  kind: TransitionKind;
  next: StateRecord;
  /** For a graceful switch: the fenced writer whose log the new writer must have drained. */
  drainFrom?: string;
}

/** Whether `region` may accept application writes under `record` (the admission rule). */
export function isWriter(record: StateRecord | undefined, region: string): boolean {
  return !!record && record.state !== 'fenced' && record.activeRegion === region;
}

/** Order between two records of one app: higher epoch, then later changedAt, then region name. */
export function compareRecords(a: StateRecord, b: StateRecord): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.changedAt !== b.changedAt) return a.changedAt < b.changedAt ? -1 : 1;
  if (a.activeRegion !== b.activeRegion) return a.activeRegion < b.activeRegion ? -1 : 1;
  return 0;
}

export function newestRecord<T extends StateRecord>(records: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const r of records) if (!best || compareRecords(r, best) > 0) best = r;
  return best;
}

/** The first record of an app: active in the primary, epoch 1. */
export function initialRecord(appId: string, topology: TopologyView, now: Date): StateRecord {
  return {
    appId,
    state: 'active',
    activeRegion: topology.primary,
    epoch: 1,
    changedAt: now.toISOString(),
    reason: 'created',
  };
}

function resolveTarget(req: TransitionRequest, current: StateRecord, topology: TopologyView): string {
  const { primary, regions } = topology;
  if (req.activeRegion !== undefined && !regions.includes(req.activeRegion)) {
    throw new DomainError(
      'invalid_request',
      `unknown region "${req.activeRegion}"; regions are ${regions.join(', ')}`,
      {
        regions,
      },
    );
  }
  if (req.state === 'fenced') {
    if (req.activeRegion !== undefined && req.activeRegion !== current.activeRegion) {
      throw new DomainError('invalid_request', 'a fence keeps the current activeRegion; fence first, then switch');
    }
    return current.activeRegion;
  }
  if (req.state === 'active') {
    if (req.activeRegion !== undefined && req.activeRegion !== primary) {
      throw new DomainError(
        'invalid_request',
        `state "active" means the primary region (${primary}) takes writes; use "failover" for another region`,
      );
    }
    return primary;
  }
  if (req.activeRegion !== undefined) {
    if (req.activeRegion === primary) {
      throw new DomainError(
        'invalid_request',
        `state "failover" means a region other than the primary (${primary}); use "active" for the primary`,
      );
    }
    return req.activeRegion;
  }
  if (current.state !== 'active' && current.activeRegion !== primary) return current.activeRegion;
  const secondaries = regions.filter((r) => r !== primary);
  if (secondaries.length !== 1) {
    throw new DomainError(
      'invalid_request',
      `more than one secondary region: name the target with activeRegion (${secondaries.join(', ')})`,
    );
  }
  return secondaries[0]!;
}

/**
 * Validate a requested transition against the table of DESIGN §3 and compute the
 * next record. Drain is not checked here (it needs I/O): a plan with `drainFrom`
 * must be confirmed drained by the caller before it is committed.
 */
export function planTransition(
  current: StateRecord,
  req: TransitionRequest,
  topology: TopologyView,
  now: Date,
): TransitionPlan {
  const target = resolveTarget(req, current, topology);
  const base = {
    appId: current.appId,
    state: req.state,
    activeRegion: target,
    epoch: current.epoch + 1,
    changedAt: now.toISOString(),
    ...(req.reason !== undefined ? { reason: req.reason } : {}),
  } satisfies StateRecord;
  const illegal = (why: string) =>
    new DomainError(
      'illegal_transition',
      `${current.state} → ${req.state}${target !== current.activeRegion ? ` (${target})` : ''} is not allowed: ${why}`,
      {
        from: current.state,
        to: req.state,
        activeRegion: current.activeRegion,
      },
    );

  if (req.state === 'fenced') {
    if (current.state === 'fenced') throw illegal('the application is already fenced');
    return { kind: 'fence', next: base };
  }
  if (target === current.activeRegion) {
    if (current.state !== 'fenced') throw illegal(`${target} already takes writes`);
    return { kind: 'lift', next: base };
  }
  if (req.force) return { kind: 'forced-switch', next: base };
  if (current.state !== 'fenced') throw illegal('fence first, or use force when the current writer is unreachable');
  return { kind: 'switch', next: base, drainFrom: current.activeRegion };
}
