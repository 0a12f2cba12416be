/**
 * @module Replication figures as Prometheus metrics, read when scraped. Every figure is
 * a running counter or a point lookup: a scrape costs the same at any backlog.
 */

import type { Metrics } from '../http/metrics.js';
import type { ChangeLog } from '../ports/change-log.js';
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
  const perPeer = (
    name: string,
    help: string,
    read: (f: ReturnType<Replicator['peerFigures']>[number]) => number | null,
  ) =>
    metrics.gaugeFn(name, help, ['peer'], (set) => {
      for (const f of deps.replicator.peerFigures()) {
        const v = read(f);
        if (v !== null) set({ peer: f.name }, v);
      }
    });
  perPeer(
    'mraa_replication_backlog_entries',
    'Change-log entries the peer has not acknowledged',
    (f) => f.backlog.entries,
  );
  perPeer(
    'mraa_replication_backlog_bytes',
    'Bytes (entries and object bodies) the peer has not acknowledged',
    (f) => f.backlog.bytes,
  );
  perPeer(
    'mraa_replication_lag_seconds',
    'Age of the oldest entry the peer has not acknowledged',
    (f) => f.lagMs / 1000,
  );
  perPeer('mraa_replication_peer_connected', '1 when the last exchange with the peer succeeded', (f) =>
    f.connected ? 1 : 0,
  );
  perPeer('mraa_replication_last_ack_timestamp_seconds', 'When the peer last acknowledged', (f) =>
    f.lastAckAt ? Date.parse(f.lastAckAt) / 1000 : null,
  );
  perPeer('mraa_replication_needs_rebuild', '1 when the peer can no longer be brought up to date from this log', (f) =>
    f.state.kind === 'needs-rebuild' ? 1 : 0,
  );
  perPeer(
    'mraa_replication_acked_sequence',
    "Highest sequence of this region's log the peer acknowledged",
    (f) => f.ackedSeq,
  );
  metrics.gaugeFn(
    'mraa_replication_applied_sequence',
    'Highest sequence applied here, per origin region',
    ['origin'],
    (set) => {
      for (const o of deps.replicator.originFigures()) set({ origin: o.name }, o.appliedSeq);
    },
  );
  metrics.gaugeFn('mraa_replica_lag_seconds', 'How far this region may be behind each origin', ['origin'], (set) => {
    for (const o of deps.replicator.originFigures()) if (o.lagMs !== null) set({ origin: o.name }, o.lagMs / 1000);
  });
  metrics.gaugeFn('mraa_changelog_entries', "Entries stored in this region's change log", [], (set) =>
    set({}, deps.log.stats().entries),
  );
  metrics.gaugeFn('mraa_changelog_head_sequence', "Highest sequence of this region's change log", [], (set) =>
    set({}, deps.log.head()),
  );
  metrics.gaugeFn('mraa_conflicts', 'Writes that lost a last-writer-wins conflict, kept for review', [], (set) =>
    set({}, deps.conflicts.conflictCount()),
  );
}
