/**
 * @module The edge: serves the web app and `/config.json` (the counterpart of the
 * reference solution's CloudFront distribution and uiConfig.json).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../config/config.js';
import { servingOf } from '../config/serving.js';
import { WEB_DIST } from '../paths.js';
import { PLACEHOLDER_PAGE } from './placeholder-page.js';

export interface EdgeConfigJson {
  appId: string;
  regions: Array<{ name: string; url: string; role: 'primary' | 'secondary' }>;
}

export function publicConfig(config: Config): EdgeConfigJson {
  return { appId: config.appId, regions: config.regions.map(({ name, url, role }) => ({ name, url, role })) };
}

export interface EdgeOptions {
  /** With `file`, relative certificate paths are read from its folder. */
  config: Config & { file?: string };
  logger: FastifyBaseLogger;
  webDist?: string;
  /** Extra routes (the local supervisor's controls). */
  extend?: (app: FastifyInstance) => void;
}

export async function startEdge(options: EdgeOptions): Promise<FastifyInstance> {
  // edge.listen (default: the URL's host and port); HTTPS with edge.tls or the global tls.
  const serving = servingOf(options.config, 'edge');
  const app = (Fastify as unknown as (o: object) => FastifyInstance)({
    ...(serving.https ? { https: serving.https } : {}),
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  const dist = options.webDist ?? WEB_DIST;
  const body = publicConfig(options.config);

  app.get('/config.json', async (_req, reply) => reply.header('cache-control', 'no-cache').send(body));
  options.extend?.(app);

  if (existsSync(join(dist, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: dist,
      wildcard: false,
      setHeaders(reply, path) {
        // Vite puts a content hash in every asset's name: cache those for a year; index.html never.
        reply.header(
          'cache-control',
          path.includes(`${join(dist, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    // Client-side routes fall back to the app's index.html.
    app.setNotFoundHandler((request, reply) => {
      const api = request.url.startsWith('/assets/') || request.url.startsWith('/local/');
      if (request.method !== 'GET' || api)
        return reply.code(404).send({ error: { code: 'not_found', message: `no ${request.url.split('?')[0]} here` } });
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PLACEHOLDER_PAGE),
    );
  }

  await app.listen(serving.listen);
  return app;
}
