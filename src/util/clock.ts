/**
 * @module The monotonic clock leases are counted on (DESIGN §3a): milliseconds that
 * never go back and keep counting while the process is paused, unlike the wall clock.
 */
import { performance } from 'node:perf_hooks';

export const monotonicNow = (): number => performance.now();
