/**
 * @module State records as the routing client receives them: a check that a payload
 * is one, and which of two is newer (the order of DESIGN §3, from src/core).
 */
import { compareRecords, isAppState } from '../../core/app-state.js';
import type { StateRecord } from './types.js';

export { compareRecords };

/** Whether `candidate` should replace `current`. */
export function isNewer(candidate: StateRecord, current: StateRecord | undefined): boolean {
  return !current || compareRecords(candidate, current) > 0;
}

export function newest(records: readonly StateRecord[]): StateRecord | undefined {
  let best: StateRecord | undefined;
  for (const r of records) if (isNewer(r, best)) best = r;
  return best;
}

export function asStateRecord(value: unknown): StateRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ok =
    typeof v.appId === 'string' &&
    isAppState(v.state) &&
    typeof v.activeRegion === 'string' &&
    typeof v.epoch === 'number' &&
    typeof v.changedAt === 'string';
  return ok ? (v as unknown as StateRecord) : undefined;
}
