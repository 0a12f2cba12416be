/**
 * @module Prometheus metrics of a region server. Its own series are named `mraa_…`;
 * Node's default metrics keep their standard names (`process_cpu_seconds_total`,
 * `nodejs_eventloop_lag_seconds`, …) so stock Node dashboards match, except three
 * gauges prom-client names like counters (`nodejs_active_handles_total`, …: the same
 * figures are served per type without the suffix). Every series
 * carries a `region` label. Only counters end in `_total` (`promtool check metrics`
 * clean). Replication and the control plane add their figures through `gaugeFn` and
 * `counterFn` (read when scraped).
 */

import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** prom-client's default gauges whose names end in `_total` (left out: see the constructor). */
const NOT_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The kinds of state transition (src/core/app-state.ts `TransitionKind`). */
export type TransitionLabel = 'fence' | 'lift' | 'switch' | 'forced-switch';

export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Application writes refused, by reason (the error code: no_quorum, fenced, not_writer, …). */
  readonly writesRefused: Counter<'reason'>;
  /** fdatasyncs of the write-ahead log and how long each took. */
  readonly walSync: Histogram;
  readonly walSyncFailures: Counter;
  /** State transitions this region saw committed, by kind. */
  readonly transitions: Counter<'kind'>;

  constructor(region: string) {
    this.registry.setDefaultLabels({ region });
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters (promtool refuses them); the same figures remain per type
    // in nodejs_active_handles, nodejs_active_requests and nodejs_active_resources: sum them.
    for (const name of NOT_COUNTERS) this.registry.removeSingleMetric(name);
    this.httpDuration = new Histogram({
      name: 'mraa_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.writesRefused = new Counter({
      name: 'mraa_writes_refused_total',
      help: 'Application writes refused by the admission rule, by reason (no_quorum, fenced, not_writer, lease_expired_before_ack, …)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.walSync = new Histogram({
      name: 'mraa_wal_fsync_duration_seconds',
      help: 'fdatasyncs of the SQLite write-ahead log (group commit: one covers every commit before it) and their duration',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [this.registry],
    });
    this.walSyncFailures = new Counter({
      name: 'mraa_wal_fsync_failures_total',
      help: 'fdatasyncs of the write-ahead log that failed (the process exits on one)',
      registers: [this.registry],
    });
    this.transitions = new Counter({
      name: 'mraa_state_transitions_total',
      help: 'State transitions this region saw committed (read from the register or made here), by kind: fence, lift, switch, forced-switch',
      labelNames: ['kind'],
      registers: [this.registry],
    });
    for (const kind of ['fence', 'lift', 'switch', 'forced-switch'] as const) this.transitions.inc({ kind }, 0);
  }

  /** Told the duration of each WAL fdatasync (src/adapters/sqlite/durability.ts's observer). */
  observeWalSync(seconds: number, ok: boolean): void {
    this.walSync.observe(seconds);
    if (!ok) this.walSyncFailures.inc();
  }

  /** A gauge whose value is read when scraped. */
  gaugeFn<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (set: (labels: Record<L, string>, value: number) => void) => void,
  ): void {
    new Gauge({
      name,
      help,
      labelNames: labelNames as L[],
      registers: [this.registry],
      collect() {
        this.reset();
        read((labels, value) => this.set(labels as never, value));
      },
    });
  }

  /** A counter in this registry, counted as things happen. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames: labelNames as L[], registers: [this.registry] });
  }

  /**
   * A counter whose value is read when scraped: a figure that only grows (a log
   * position). Its name must end in `_total`. A figure that goes back (a rebuilt log)
   * reads as a counter reset.
   */
  counterFn<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (set: (labels: Record<L, string>, value: number) => void) => void,
  ): void {
    if (!name.endsWith('_total')) throw new Error(`a counter's name ends in _total: ${name}`);
    new Counter({
      name,
      help,
      labelNames: labelNames as L[],
      registers: [this.registry],
      collect() {
        this.reset();
        read((labels, value) => this.inc(labels as never, Math.max(0, value)));
      },
    });
  }

  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      this.httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }
}
