/**
 * @module A region's own metrics, wired in one place: the state as this region sees it
 * (epoch, writer, live-event subscribers), the state transitions it saw committed,
 * and the fdatasyncs of its write-ahead log. Replication's figures are in
 * src/replication/replication.metrics.ts, the control plane's in control-plane-status.ts.
 */
import type { StateRecord } from '../core/app-state.js';
import { isWriter } from '../core/app-state.js';
import type { Metrics, TransitionLabel } from '../http/metrics.js';

/**
 * The kind of transition from one record to the next, read from the records alone: a
 * change of writer from a fenced state is counted as a switch, from a writing state as
 * a forced switch (the only way to move writes without fencing first). A region that
 * missed records in between (it was down) classifies the step it saw.
 */
export function transitionKind(before: StateRecord | null, after: StateRecord): TransitionLabel | null {
  if (!before || after.epoch <= before.epoch) return null;
  if (after.state === 'fenced') return before.state === 'fenced' ? null : 'fence';
  if (after.activeRegion === before.activeRegion) return before.state === 'fenced' ? 'lift' : null;
  return before.state === 'fenced' ? 'switch' : 'forced-switch';
}

export function regionMetrics(
  metrics: Metrics,
  deps: {
    appId: string;
    region: string;
    record: () => StateRecord | undefined;
    subscribers: () => number;
  },
): { onRecord(before: StateRecord | null, after: StateRecord): void } {
  metrics.gaugeFn('mraa_state_epoch', 'Epoch of the newest state record this region knows', ['app'], (set) => {
    const r = deps.record();
    if (r) set({ app: deps.appId }, r.epoch);
  });
  metrics.gaugeFn(
    'mraa_state_writer',
    '1 when this region accepts application writes; the state label is the state record this region knows (active, fenced, failover)',
    ['app', 'state', 'active_region'],
    (set) => {
      const r = deps.record();
      if (r) set({ app: deps.appId, state: r.state, active_region: r.activeRegion }, isWriter(r, deps.region) ? 1 : 0);
    },
  );
  metrics.gaugeFn('mraa_state_event_subscribers', 'Clients subscribed to live state events', [], (set) =>
    set({}, deps.subscribers()),
  );
  return {
    onRecord(before, after) {
      if (after.appId !== deps.appId) return;
      const kind = transitionKind(before, after);
      if (kind) metrics.transitions.inc({ kind });
    },
  };
}
