/**
 * @module One clock for every bench process: CLOCK_MONOTONIC (process.hrtime), which
 * Linux shares across processes, so a time taken in the load generator and one taken
 * in the visibility observer can be subtracted.
 */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Monotonic milliseconds with sub-millisecond precision (comparable across processes). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
