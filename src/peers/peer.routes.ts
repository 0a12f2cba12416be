/**
 * @module Inter-region endpoints under /internal, every one authenticated with the
 * replication key (src/peers/peer-auth.ts). Here: the state record, for a region's
 * state check.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../core/errors.js';
import { parseWith } from '../http/validation.js';
import type { StateService } from '../routing/state.service.js';
import type { PeerVerifier } from './peer-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    peer?: { region: string; contentSha256: string };
  }
}

const params = z.object({ appId: z.string().min(1).max(128) });

/** Registers a preHandler that refuses unsigned, forged, stale or replayed requests. */
export function peerAuthHook(verifier: PeerVerifier) {
  return async (request: FastifyRequest) => {
    const path = request.url;
    request.peer = verifier.verify({
      method: request.method,
      path,
      headers: request.headers,
      ...(request.rawBody !== undefined
        ? { rawBody: request.rawBody }
        : request.body === undefined
          ? { rawBody: '' }
          : {}),
    });
  };
}

export function peerStateRoutes(app: FastifyInstance, deps: { state: StateService; verifier: PeerVerifier }): void {
  const auth = peerAuthHook(deps.verifier);

  app.get('/internal/state/:appId', { preHandler: auth }, async (request) => {
    const { appId } = parseWith(params, request.params, 'path');
    const stored = deps.state.getVersioned(appId);
    if (!stored) throw new DomainError('app_not_found', `no application "${appId}" here`, { appId });
    return stored;
  });
}
