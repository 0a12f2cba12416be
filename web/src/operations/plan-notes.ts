/**
 * @module What a plan's result says beyond its steps, in words (as `mraa failover`
 * prints it): how long a forced switch waited for the old writer's lease to run out,
 * and what the old writer may have had that the new one had not applied, with the
 * basis of that figure.
 */

import { describeLoss } from '../../../src/orchestration/loss-words.js';
import type { RegionRecord } from '../../../src/orchestration/plan.js';
import { formatMs } from '../ui/format';

export function waitedLine(record: RegionRecord): string | undefined {
  const w = record.waitedForLease;
  if (!w) return undefined;
  return (
    `Waited ${formatMs(w.waitedMs)} for ${w.holder}’s lease (epoch ${w.epoch}) to run out at a majority of voters: ` +
    `until then ${w.holder} could still take writes, so no other region could.`
  );
}

/** `loss` starts with "Possible loss:" (the label the console sets in bold); the CLI's words. */
export function lossLines(record: RegionRecord): { loss: string; recovery: string } | undefined {
  return describeLoss(record, formatMs);
}

/** While a forced switch runs: what it is waiting for. */
export function forcedWaitLine(from: string | undefined, leaseMs: number | undefined): string {
  return (
    `waiting for ${from ? `${from}’s` : 'the old writer’s'} lease to run out at a majority of voters` +
    `${leaseMs ? ` (up to ${formatMs(leaseMs)})` : ''}`
  );
}
