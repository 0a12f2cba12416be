/**
 * @module Whether the app can take writes now, and if not, why (shown beside every
 * disabled upload or comment control).
 */
import type { StateRecord } from '../../../src/routing/client/index.js';

export function writesPausedReason(record: StateRecord | undefined): string | undefined {
  if (!record) return 'No region answers at the moment, so nothing can be saved.';
  if (record.state === 'fenced') return 'Writes are paused while the application is fenced.';
  return undefined;
}
