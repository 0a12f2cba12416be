/**
 * @module The words for what a forced switch may have lost, one wording for the CLI
 * and the web console. Never a bare "0": writes the old writer acknowledged after its
 * last report were heard of by nobody, and the window in which it may have is said.
 */
import type { RegionRecord } from './plan-types.js';

export function describeLoss(
  record: RegionRecord,
  formatMs: (ms: number) => string,
): { loss: string; recovery: string } | undefined {
  const loss = record.possibleLoss;
  if (!loss) return undefined;
  const to = record.activeRegion;
  const n = loss.entries;
  const what =
    n === null
      ? `an unknown number of logged writes not applied by ${to}`
      : n > 0
        ? `at least ${n} logged write${n === 1 ? '' : 's'} not applied by ${to}`
        : `no write known to be missing from ${to}`;
  const tail = loss.unreportedMs
    ? `; and any it acknowledged in the last ${formatMs(loss.unreportedMs)} of its lease, which it reported to nobody`
    : '';
  return {
    loss: `Possible loss: ${loss.region} had ${what}${tail}${loss.basis ? ` (${loss.basis})` : ''}.`,
    recovery: `They are not lost if ${loss.region} comes back with its data: its stranded writes are shipped and merged (see mraa conflicts).`,
  };
}
