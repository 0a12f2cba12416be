/**
 * @module Liveness, readiness and Prometheus metrics. `/metrics` answers loopback
 * callers and administrators, and, when `secrets.metricsToken` is set, anyone who
 * presents it as `Authorization: Bearer <token>` (a Prometheus on another host).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether the request carries the scrape token (compared in constant time). */
export function hasScrapeToken(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
}

export function healthRoutes(
  app: FastifyInstance,
  deps: {
    region: string;
    metrics: Metrics;
    readiness: () => { ready: boolean; reason?: string };
    requireLoopbackOrAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** secrets.metricsToken: a bearer token that may read /metrics from anywhere. */
    metricsToken?: string;
  },
): void {
  app.get('/healthz', async () => ({ status: 'ok', region: deps.region }));

  app.get('/readyz', async (_request, reply) => {
    const r = deps.readiness();
    return reply
      .code(r.ready ? 200 : 503)
      .send({ status: r.ready ? 'ready' : 'starting', region: deps.region, ...(r.reason ? { reason: r.reason } : {}) });
  });

  const { metricsToken } = deps;
  const scrapeGuard = async (request: FastifyRequest, reply: FastifyReply) => {
    if (metricsToken && hasScrapeToken(request.headers.authorization, metricsToken)) return;
    await deps.requireLoopbackOrAdmin(request, reply);
  };
  app.get('/metrics', { preHandler: scrapeGuard }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
