/**
 * @module Inter-region endpoints under /internal, every one authenticated with the
 * replication key (src/peers/peer-auth.ts). Here: the state record, for a region's
 * start-up check and for the operator's CLI.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isVersion } from '../core/version.js';
import { isAppState } from '../core/app-state.js';
import { DomainError } from '../core/errors.js';
import { parseWith } from '../http/validation.js';
import type { StoredItem } from '../ports/table-store.js';
import type { StateService } from '../routing/state.service.js';
import type { PeerVerifier } from './peer-auth.js';
import { localDrainStatus } from '../replication/drain.js';
import type { ReplicationProgress } from '../replication/progress.js';

declare module 'fastify' {
  interface FastifyRequest {
    peer?: { region: string; contentSha256: string };
  }
}

const params = z.object({ appId: z.string().min(1).max(128) });
const storedRecord = z.object({
  table: z.literal('app-config'),
  key: z.string(),
  item: z.looseObject({ appId: z.string(), state: z.string().refine(isAppState), activeRegion: z.string(), epoch: z.number().int() }),
  version: z.custom(isVersion),
});

/** Registers a preHandler that refuses unsigned, forged, stale or replayed requests. */
export function peerAuthHook(verifier: PeerVerifier) {
  return async (request: FastifyRequest) => {
    const path = request.url;
    request.peer = verifier.verify({
      method: request.method,
      path,
      headers: request.headers,
      ...(request.rawBody !== undefined ? { rawBody: request.rawBody } : request.body === undefined ? { rawBody: '' } : {}),
    });
  };
}

const drainQuery = z.object({ from: z.string().min(1).max(64), epoch: z.coerce.number().int().min(0) });

export function peerStateRoutes(app: FastifyInstance, deps: { state: StateService; verifier: PeerVerifier; progress: ReplicationProgress }): void {
  const auth = peerAuthHook(deps.verifier);

  app.get('/internal/state/:appId', { preHandler: auth }, async (request) => {
    const { appId } = parseWith(params, request.params, 'path');
    const stored = deps.state.getVersioned(appId);
    if (!stored) throw new DomainError('app_not_found', `no application "${appId}" here`, { appId });
    return stored;
  });

  app.post('/internal/state/:appId', { preHandler: auth }, async (request) => {
    const { appId } = parseWith(params, request.params, 'path');
    const stored = parseWith(storedRecord, request.body) as StoredItem;
    if (stored.key !== appId) throw new DomainError('invalid_request', 'the record is for another app');
    const adopted = deps.state.adoptPeerRecord(stored);
    return { adopted, record: deps.state.get(appId) };
  });

  app.get('/internal/drain', { preHandler: auth }, async (request) => {
    const q = parseWith(drainQuery, request.query, 'query');
    return localDrainStatus(deps.progress, q.from, q.epoch);
  });
}
