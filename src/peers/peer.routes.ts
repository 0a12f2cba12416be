/**
 * @module Inter-region endpoints under /internal, every one authenticated with the
 * replication key (src/peers/peer-auth.ts). Here: the announcement that the state
 * register has moved, which only makes this region read the register itself.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseWith } from '../http/validation.js';
import type { PeerVerifier } from './peer-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    peer?: { region: string; contentSha256: string };
  }
}

/** A preHandler that refuses unsigned, forged, stale or replayed requests. */
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

export const STATE_HINT_PATH = '/internal/state-hint';

const hintBody = z.strictObject({ appId: z.string().min(1).max(128), epoch: z.number().int().min(0) });

/** `POST /internal/state-hint`: a peer says the register moved; `onHint` reads it (a claim is never adopted). */
export function peerStateRoutes(
  app: FastifyInstance,
  deps: { verifier: PeerVerifier; onHint: (appId: string, epoch: number) => void },
): void {
  app.post(STATE_HINT_PATH, { preHandler: peerAuthHook(deps.verifier) }, async (request) => {
    const { appId, epoch } = parseWith(hintBody, request.body);
    deps.onHint(appId, epoch);
    return { ok: true };
  });
}
