/**
 * @module When to ask again for a photo's bytes that are not here yet. A passive
 * region lists a photo as soon as its record has replicated, and its bodies follow
 * beside the log (DESIGN §5): for a moment the image answers 404. Asked again after
 * 0.25, 0.5, 1, 2 s, then every 4 s, for up to `ARRIVAL_WAIT_MS` in all.
 */
import { ApiError } from '../api/errors';

export const ARRIVAL_WAIT_MS = 30_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 4000;

/** Whether a failed load may be a body still on its way (a 404 for bytes of a listed photo). */
export function mayStillArrive(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

/** The delay before attempt `attempt` (1 = the first retry), or null once `waitedMs` is spent. */
export function arrivalRetryDelay(attempt: number, waitedMs: number): number | null {
  const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (attempt - 1));
  return waitedMs + delay > ARRIVAL_WAIT_MS ? null : delay;
}
