/**
 * @module The application state as a coloured badge: active green, fenced amber,
 * failover blue. The word is always shown: colour is never the only signal.
 */
import type { AppStateName } from '../../../src/routing/client/index.js';

const LABEL: Record<AppStateName, string> = { active: 'Active', fenced: 'Fenced', failover: 'Failover' };

export function StateBadge({ state }: { state: AppStateName }) {
  return <span className={`badge badge-${state}`}>{LABEL[state]}</span>;
}
