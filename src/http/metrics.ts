/**
 * @module Prometheus metrics of a region server (names prefixed `mraa_`): HTTP
 * requests, the state as this region sees it, live-event subscribers. Replication
 * adds its per-peer figures through `gaugeFn`.
 */

import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly writesRefused: Counter<'reason'>;

  constructor(region: string) {
    this.registry.setDefaultLabels({ region });
    collectDefaultMetrics({ register: this.registry, prefix: 'mraa_process_' });
    this.httpDuration = new Histogram({
      name: 'mraa_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.writesRefused = new Counter({
      name: 'mraa_writes_refused_total',
      help: 'Application writes refused by the admission rule, by reason',
      labelNames: ['reason'],
      registers: [this.registry],
    });
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

  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      this.httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }
}
