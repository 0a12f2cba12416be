/**
 * @module Liveness, readiness and Prometheus metrics.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.js';

export function healthRoutes(
  app: FastifyInstance,
  deps: {
    region: string;
    metrics: Metrics;
    readiness: () => { ready: boolean; reason?: string };
    requireLoopbackOrAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  },
): void {
  app.get('/healthz', async () => ({ status: 'ok', region: deps.region }));

  app.get('/readyz', async (_request, reply) => {
    const r = deps.readiness();
    return reply
      .code(r.ready ? 200 : 503)
      .send({ status: r.ready ? 'ready' : 'starting', region: deps.region, ...(r.reason ? { reason: r.reason } : {}) });
  });

  app.get('/metrics', { preHandler: deps.requireLoopbackOrAdmin }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
