/**
 * @module The Fastify instance every region server starts from: logging, JSON bodies
 * under their bounds (kept raw too, for signed inter-region requests), the timeouts and
 * connection caps of src/http/limits.ts, CORS for the edge's origin, metrics and the
 * one error mapping.
 */

import cors from '@fastify/cors';
import type { FastifyBaseLogger } from 'fastify';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { installErrorHandling } from './error-handler.js';
import { installJsonBodies, JSON_BODY_LIMIT, tooSlow } from './json-body.js';
import {
  type AddressSlots,
  capConnections,
  DEFAULT_LIMITS,
  isRefused,
  type Limits,
  lingerBeforeClose,
  serverTimeouts,
} from './limits.js';
import type { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The connections this server holds, per address and in all. */
    connectionSlots: AddressSlots;
  }
}

export async function buildHttpApp(opts: {
  logger: FastifyBaseLogger;
  corsOrigins: string[];
  metrics: Metrics;
  limits?: Limits;
  /** A certificate and key (PEM): the server speaks HTTPS. */
  https?: { cert: Buffer; key: Buffer };
  /** Fastify's trustProxy: whose X-Forwarded-For sets `request.ip` (settings.trustProxy). */
  trustProxy?: boolean | number | string[];
}): Promise<FastifyInstance> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  // With `https`, Fastify makes an https.Server: the same routes and hooks, typed alike here.
  const app = (Fastify as unknown as (o: object) => FastifyInstance)({
    ...(opts.https ? { https: opts.https } : {}),
    trustProxy: opts.trustProxy ?? false,
    loggerInstance: opts.logger,
    bodyLimit: JSON_BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    return503OnClosing: true,
    ...serverTimeouts(limits),
  });
  app.decorate('connectionSlots', capConnections(app.server, limits));
  // A request on a connection refused by the cap is not served: that connection is closing.
  app.addHook('onRequest', (request, reply, done) => {
    if (!isRefused(request.raw.socket)) return done();
    reply.hijack();
    request.raw.socket.destroy();
  });
  // Answered before its body was read whole (refused, too large, timed out): the rest is
  // read and dropped for a moment, so the client sees the answer rather than a reset, then
  // the connection is closed. A body too slow to arrive is not waited for at all.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.raw.complete) return payload;
    reply.header('connection', 'close');
    if (!tooSlow(request.raw)) lingerBeforeClose(request.raw);
    return payload;
  });
  installErrorHandling(app);
  opts.metrics.instrument(app);
  installJsonBodies(app, { bodyTimeoutMs: limits.bodyTimeoutMs });

  await app.register(cors, {
    origin: opts.corsOrigins,
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'range', 'if-none-match'],
    exposedHeaders: ['x-replica-lag-ms', 'retry-after', 'etag', 'content-range', 'x-region'],
    maxAge: 600,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (request.url !== '/healthz') request.log.debug({ method: request.method, url: request.url }, 'request');
    void reply;
  });
  app.addHook('onResponse', async (request, reply) => {
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'info' : 'debug';
    request.log[level](
      {
        method: request.method,
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request done',
    );
  });
  return app;
}
