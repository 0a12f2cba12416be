/**
 * @module Inter-region endpoints under /internal, every one authenticated with the
 * replication key (src/peers/peer-auth.ts). Here: the announcement that the state
 * register has moved, which only makes this region read the register itself.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseWith } from '../http/validation.js';
import { PEER_HEADERS, type PeerVerifier, type VerifiedPeer } from './peer-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    peer?: VerifiedPeer;
  }
}

/**
 * Route options for an inter-region endpoint: a preHandler that refuses unsigned,
 * forged, stale or replayed requests, and an onSend hook that signs the answer to a
 * request it accepted (bound to that request's nonce). A refused request's answer is
 * not signed: the caller treats it as a failure and trusts nothing in it.
 */
export interface PeerRouteOptions {
  preHandler: (request: FastifyRequest) => Promise<void>;
  onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
}

export function peerRouteOptions(verifier: PeerVerifier): PeerRouteOptions {
  return {
    preHandler: peerAuthHook(verifier),
    onSend: async (request, reply, payload) => {
      if (!request.peer) return payload;
      const body = payload === null || payload === undefined ? '' : payload;
      if (typeof body !== 'string' && !Buffer.isBuffer(body)) return payload; // a stream: left unsigned
      reply.header(PEER_HEADERS.responseSignature, verifier.signResponse(request.peer, reply.statusCode, body));
      return payload;
    },
  };
}

/** A preHandler that refuses unsigned, forged, stale or replayed requests. */
function peerAuthHook(verifier: PeerVerifier) {
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
  app.post(STATE_HINT_PATH, peerRouteOptions(deps.verifier), async (request) => {
    const { appId, epoch } = parseWith(hintBody, request.body);
    deps.onHint(appId, epoch);
    return { ok: true };
  });
}
