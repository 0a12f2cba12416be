/**
 * @module Replication figures as Prometheus metrics. Figures read when scraped are
 * running counters or point lookups: a scrape costs the same at any backlog. Traffic
 * (entries and bytes shipped to each peer, applied from each origin) is counted as it
 * happens: `meteredTransport` wraps the peer transport, `onApplied` is the applier's hook.
 *
 * Two lags, two names: `mraa_replication_backlog_age_seconds{peer}` is how old the
 * oldest entry of this region's log a peer has not acknowledged is (the sending side);
 * `mraa_replication_apply_lag_seconds{origin}` is how far this region's copy of an
 * origin's data may be behind it (the receiving side).
 */

import type { LogEntry } from '../core/change.js';
import type { Metrics } from '../http/metrics.js';
import type { ChangeLog } from '../ports/change-log.js';
import type { PeerTransport } from '../ports/peer-transport.js';
import type { ConflictStore } from '../ports/replica-store.js';
import type { Replicator } from './replicator.js';

export function replicationMetrics(
  metrics: Metrics,
  deps: {
    replicator: Replicator;
    log: Pick<ChangeLog, 'stats' | 'head'>;
    conflicts: Pick<ConflictStore, 'conflictCount'>;
  },
): void {
  type Figures = ReturnType<Replicator['peerFigures']>[number];
  const perPeer = (name: string, help: string, read: (f: Figures) => number | null, kind: 'gauge' | 'counter') =>
    (kind === 'gauge' ? metrics.gaugeFn.bind(metrics) : metrics.counterFn.bind(metrics))(
      name,
      help,
      ['peer'],
      (set) => {
        for (const f of deps.replicator.peerFigures()) {
          const v = read(f);
          if (v !== null) set({ peer: f.name }, v);
        }
      },
    );
  perPeer(
    'mraa_replication_backlog_entries',
    "Entries of this region's change log the peer has not acknowledged",
    (f) => f.backlog.entries,
    'gauge',
  );
  perPeer(
    'mraa_replication_backlog_bytes',
    "Bytes (entries and object bodies) of this region's log the peer has not acknowledged",
    (f) => f.backlog.bytes,
    'gauge',
  );
  perPeer(
    'mraa_replication_backlog_age_seconds',
    "Age of the oldest entry of this region's change log the peer has not acknowledged (0 when it has them all)",
    (f) => f.lagMs / 1000,
    'gauge',
  );
  perPeer(
    'mraa_replication_peer_connected',
    '1 when the last exchange with the peer succeeded',
    (f) => (f.connected ? 1 : 0),
    'gauge',
  );
  perPeer(
    'mraa_replication_last_ack_timestamp_seconds',
    'When the peer last acknowledged (Unix time)',
    (f) => (f.lastAckAt ? Date.parse(f.lastAckAt) / 1000 : null),
    'gauge',
  );
  perPeer(
    'mraa_replication_needs_rebuild',
    '1 when the peer can no longer be brought up to date from this log',
    (f) => (f.state.kind === 'needs-rebuild' ? 1 : 0),
    'gauge',
  );
  perPeer(
    'mraa_replication_in_flight_batches',
    "Batches of this region's log on their way to the peer or not answered yet (the streaming window)",
    (f) => f.inFlight.batches,
    'gauge',
  );
  perPeer(
    'mraa_replication_bodies_pending',
    'Object bodies waiting or on their way to the peer (they travel beside the log)',
    (f) => f.bodies.pending,
    'gauge',
  );
  perPeer(
    'mraa_replication_bodies_pending_bytes',
    'Bytes of the object bodies waiting or on their way to the peer',
    (f) => f.bodies.pendingBytes,
    'gauge',
  );
  perPeer(
    'mraa_replication_acked_sequence_total',
    "Highest sequence of this region's change log the peer acknowledged (a log position: it only grows)",
    (f) => f.ackedSeq,
    'counter',
  );
  metrics.counterFn(
    'mraa_replication_applied_sequence_total',
    "Highest sequence of each origin's change log applied here (a log position: it only grows)",
    ['origin'],
    (set) => {
      for (const o of deps.replicator.originFigures()) set({ origin: o.name }, o.appliedSeq);
    },
  );
  metrics.gaugeFn(
    'mraa_replication_apply_lag_seconds',
    "How far this region's copy of each origin's data may be behind it: the age of the origin's oldest write not applied here, as of the last contact (0 when caught up)",
    ['origin'],
    (set) => {
      for (const o of deps.replicator.originFigures()) if (o.lagMs !== null) set({ origin: o.name }, o.lagMs / 1000);
    },
  );
  metrics.gaugeFn(
    'mraa_replication_objects_waiting_for_body',
    "Object entries of each origin's log applied here but for their body, which is still on its way",
    ['origin'],
    (set) => {
      for (const o of deps.replicator.originFigures()) set({ origin: o.name }, o.waitingForBodies.entries);
    },
  );
  metrics.gaugeFn(
    'mraa_changelog_entries',
    "Entries stored in this region's change log (after compaction)",
    [],
    (set) => set({}, deps.log.stats().entries),
  );
  metrics.counterFn(
    'mraa_changelog_head_sequence_total',
    "Highest sequence of this region's change log: entries appended to it (a log position: it only grows)",
    [],
    (set) => set({}, deps.log.head()),
  );
  metrics.gaugeFn('mraa_conflicts', 'Writes that lost a last-writer-wins conflict, kept for review', [], (set) =>
    set({}, deps.conflicts.conflictCount()),
  );
}

/** Counters of what is shipped and applied, per peer and origin. */
export function replicationTraffic(metrics: Metrics): {
  /** The peer transport, counting entries, bytes and bodies each peer accepted. */
  metered(transport: PeerTransport): PeerTransport;
  /** The applier's hook: entries applied from an origin. */
  onApplied(origin: string, entries: readonly LogEntry[]): void;
} {
  const counter = (name: string, help: string, label: 'peer' | 'origin') => metrics.counter(name, help, [label]);
  const shippedEntries = counter(
    'mraa_replication_shipped_entries_total',
    'Change-log entries shipped to the peer in batches it answered',
    'peer',
  );
  const shippedBytes = counter(
    'mraa_replication_shipped_bytes_total',
    'Bytes of change-log entries shipped to the peer in batches it answered',
    'peer',
  );
  const shippedBodies = counter('mraa_replication_shipped_bodies_total', 'Object bodies streamed to the peer', 'peer');
  const shippedBodyBytes = counter(
    'mraa_replication_shipped_body_bytes_total',
    'Bytes of object bodies streamed to the peer',
    'peer',
  );
  const appliedEntries = counter(
    'mraa_replication_applied_entries_total',
    "Entries of the origin's change log applied here",
    'origin',
  );
  const appliedBytes = counter(
    'mraa_replication_applied_bytes_total',
    "Bytes (the changes' JSON) of the origin's change-log entries applied here",
    'origin',
  );
  return {
    metered: (transport) => ({
      sendBatch: async (peer, head, entries, options) => {
        const res = await transport.sendBatch(peer, head, entries, options);
        shippedEntries.inc({ peer: peer.name }, entries.length);
        let bytes = 0;
        for (const e of entries) bytes += e.bytes;
        shippedBytes.inc({ peer: peer.name }, bytes);
        return res;
      },
      sendBody: async (peer, body, options) => {
        await transport.sendBody(peer, body, options);
        shippedBodies.inc({ peer: peer.name });
        shippedBodyBytes.inc({ peer: peer.name }, body.size);
      },
      hasBody: (peer, sha256, options) => transport.hasBody(peer, sha256, options),
      position: (peer, origin, options) => transport.position(peer, origin, options),
      drainStatus: (peer, from, epoch, options) => transport.drainStatus(peer, from, epoch, options),
    }),
    onApplied: (origin, entries) => {
      if (entries.length === 0) return;
      appliedEntries.inc({ origin }, entries.length);
      // An entry's bytes are its JSON plus, for an object, its body: counted without serialising again.
      let bytes = 0;
      for (const e of entries) bytes += e.bytes - (e.change.kind === 'object' ? e.change.size : 0);
      appliedBytes.inc({ origin }, bytes);
    },
  };
}
