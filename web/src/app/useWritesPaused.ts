/**
 * @module Whether writes are paused now, and why, as React state: from the live
 * routing snapshot and from writes refused for want of a quorum. Every write control
 * (upload, comment, delete) reads it.
 */
import { useSyncExternalStore } from 'react';
import { useServices } from './services';
import { useRouting } from './useRouting';
import { type WritesPaused, writesPaused } from './writes';

export function useWritesPaused(): WritesPaused | undefined {
  const { routing, quorum } = useServices();
  const snapshot = useRouting(routing);
  const refused = useSyncExternalStore(quorum.subscribe, () => quorum.refused);
  return writesPaused(snapshot, refused);
}
