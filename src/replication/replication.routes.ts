/**
 * @module Replication endpoints. Between regions (replication key): batches of a
 * peer's change log, object bodies, digests. For administrators: the figures of
 * `GET /status`, the drain check operators wait on, and the conflict log.
 */

import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { BlobFiles } from '../adapters/disk/blob-files.js';
import type { ChangeLog } from '../adapters/sqlite/change-log.js';
import { isWriter } from '../core/app-state.js';
import { DomainError } from '../core/errors.js';
import { parseWith } from '../http/validation.js';
import { peerRouteOptions } from '../peers/peer.routes.js';
import type { PeerVerifier } from '../peers/peer-auth.js';
import type { StateService } from '../routing/state.service.js';
import type { ConflictLog } from './conflicts.js';
import type { Digests } from './digest.js';
import type { Replicator } from './replicator.js';
import { BATCH_PATH, type BatchRequest, type BatchResponse, BLOB_PATH } from './wire.js';
import { batchSchema } from './wire-schema.js';

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export const MAX_DRAIN_WAIT_MS = 30_000;

const shaParams = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const keysParams = z.object({ kind: z.enum(['table', 'bucket']), name: z.string().min(1).max(128) });
const drainQuery = z.object({
  from: z.string().min(1).max(64),
  epoch: z.coerce.number().int().min(0),
  waitMs: z.coerce.number().int().min(0).max(MAX_DRAIN_WAIT_MS).default(0),
});
const conflictsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export interface ReplicationRouteDeps {
  appId: string;
  region: string;
  /** The other regions of the configuration: the only origins a batch may come from. */
  peers: readonly string[];
  verifier: PeerVerifier;
  replicator: Replicator;
  state: StateService;
  log: ChangeLog;
  blobs: BlobFiles;
  digests: Digests;
  conflicts: ConflictLog;
  requireAdmin: Guard;
  /** Told when a peer's batch carries a newer epoch than this region knows. */
  onPeerEpoch: (peer: string, epoch: number) => void;
  /** The control plane as this region sees it: voters, quorum, its lease. */
  controlPlane: () => Promise<unknown>;
}

export function replicationRoutes(app: FastifyInstance, deps: ReplicationRouteDeps): void {
  const peerAuth = peerRouteOptions(deps.verifier);

  app.post(BATCH_PATH, { ...peerAuth, bodyLimit: 64 * 1024 * 1024 }, async (request): Promise<BatchResponse> => {
    const batch = parseWith(batchSchema, request.body) as BatchRequest;
    if (batch.origin !== request.peer!.region)
      throw new DomainError('invalid_request', 'a region ships only its own log');
    if (!deps.peers.includes(batch.origin))
      throw new DomainError('forbidden', `"${batch.origin}" is not a peer region of ${deps.region}`);
    if (batch.epoch > deps.state.highestEpoch()) deps.onPeerEpoch(batch.origin, batch.epoch);
    const result = await deps.replicator.applier.apply(batch);
    return { ...result, epoch: deps.state.highestEpoch() };
  });

  app.register(async (scope) => {
    // Object bodies arrive as a stream, checked against the SHA-256 the sender signed.
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.put(`${BLOB_PATH}:sha256`, peerAuth, async (request, reply) => {
      const { sha256 } = parseWith(shaParams, request.params, 'path');
      if (request.peer!.contentSha256 !== sha256)
        throw new DomainError('invalid_request', 'the signed digest is not the body named');
      const body = request.body as Readable | undefined;
      if (!body || typeof body.pipe !== 'function')
        throw new DomainError('invalid_request', 'expected an application/octet-stream body');
      const written = await deps.blobs.write(body, { expectSha256: sha256 });
      deps.blobs.release(written.sha256);
      return reply.code(201).send({ sha256: written.sha256, size: written.size });
    });
  });

  app.get('/internal/digest', peerAuth, async () => ({
    region: deps.region,
    ...deps.digests.compute(),
  }));

  app.get('/internal/digest/:kind/:name', peerAuth, async (request) => {
    const { kind, name } = parseWith(keysParams, request.params, 'path');
    return { region: deps.region, kind, name, keys: deps.digests.keys(kind, name) };
  });

  app.get('/internal/conflicts', peerAuth, async (request) => {
    const q = parseWith(conflictsQuery, request.query, 'query');
    return { region: deps.region, conflicts: deps.conflicts.list(q.after, q.limit) };
  });

  app.get('/status', { preHandler: deps.requireAdmin }, async () => ({
    ...statusOf(deps),
    controlPlane: await deps.controlPlane(),
  }));

  const drain = async (request: FastifyRequest) => {
    const q = parseWith(drainQuery, request.query, 'query');
    return deps.replicator.waitDrained(q.from, q.epoch, q.waitMs);
  };
  app.get('/replication/drain', { preHandler: deps.requireAdmin }, drain);
  app.get('/internal/drain', peerAuth, drain);

  app.get('/replication/conflicts', { preHandler: deps.requireAdmin }, async (request) => {
    const q = parseWith(conflictsQuery, request.query, 'query');
    return { region: deps.region, conflicts: deps.conflicts.list(q.after, q.limit) };
  });
}

export function statusOf(
  deps: Pick<ReplicationRouteDeps, 'appId' | 'region' | 'state' | 'log' | 'replicator' | 'conflicts'>,
) {
  const record = deps.state.get(deps.appId) ?? null;
  return {
    region: deps.region,
    appId: deps.appId,
    state: record,
    writer: isWriter(record ?? undefined, deps.region),
    log: deps.log.stats(),
    peers: deps.replicator.peerFigures(),
    origins: deps.replicator.originFigures(),
    conflicts: deps.conflicts.count(),
  };
}
