/**
 * @module The Fastify instance every region server starts from: logging, JSON bodies
 * (kept raw too, for signed inter-region requests), CORS for the edge's origin,
 * metrics and the one error mapping.
 */

import cors from '@fastify/cors';
import type { FastifyBaseLogger } from 'fastify';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { installErrorHandling } from './error-handler.js';
import type { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

export const JSON_BODY_LIMIT = 1024 * 1024;

export async function buildHttpApp(opts: {
  logger: FastifyBaseLogger;
  corsOrigins: string[];
  metrics: Metrics;
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: JSON_BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  installErrorHandling(app);
  opts.metrics.instrument(app);

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    parseJson(request, body as string, done);
  });

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
