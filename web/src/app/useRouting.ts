/**
 * @module The routing client's live snapshot as React state: re-renders on every
 * state change pushed by any region, never asking for a reload.
 */
import { useSyncExternalStore } from 'react';
import type { RoutingClient, RoutingSnapshot } from '../../../src/routing/client/index.js';

export function useRouting(routing: RoutingClient): RoutingSnapshot {
  return useSyncExternalStore(
    (onChange) => routing.subscribe(onChange),
    () => routing.snapshot,
  );
}
