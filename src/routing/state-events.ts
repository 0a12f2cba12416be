/**
 * @module Live state events: subscribers per appId receive every committed change of
 * the state record (local or replicated) as soon as it commits.
 */
import type { StateRecord } from '../core/app-state.js';

export type StateListener = (record: StateRecord) => void;

export class StateEvents {
  private readonly listeners = new Map<string, Set<StateListener>>();

  subscribe(appId: string, listener: StateListener): () => void {
    let set = this.listeners.get(appId);
    if (!set) {
      set = new Set();
      this.listeners.set(appId, set);
    }
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.listeners.delete(appId);
    };
  }

  publish(record: StateRecord): void {
    for (const l of this.listeners.get(record.appId) ?? []) l(record);
  }

  subscriberCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
