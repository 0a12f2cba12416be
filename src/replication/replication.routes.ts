/**
 * @module Replication endpoints. Between regions (replication key, signed answers):
 * batches of a peer's change log, object bodies, where this region is in a peer's
 * log, digests. For administrators: the figures of `GET /status`, the drain check
 * operators wait on, and the conflict log.
 */

import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isWriter, type StateRecord } from '../core/app-state.js';
import { DomainError } from '../core/errors.js';
import { parseWith } from '../http/validation.js';
import type { ChangeLog } from '../ports/change-log.js';
import type { ObjectBodies } from '../ports/object-bodies.js';
import {
  BATCH_PATH,
  type BatchRequest,
  type BatchResponse,
  BODY_PATH,
  DRAIN_PATH,
  type LogPosition,
  POSITION_PATH,
} from '../ports/peer-transport.js';
import type { ReplicaStore } from '../ports/replica-store.js';
import type { Replicator } from './replicator.js';
import { batchSchema } from './wire-schema.js';

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * The inter-region guard the composition root supplies (src/peers/peer.routes.ts):
 * route options that refuse unsigned, forged or replayed requests and sign the
 * answer, and who signed a request they let through.
 */
export interface PeerGuard {
  options: {
    onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    preParsing: (request: FastifyRequest, reply: FastifyReply, payload: Readable) => Promise<Readable>;
    onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
  };
  caller(request: FastifyRequest): { region: string; contentSha256: string };
}

export const MAX_DRAIN_WAIT_MS = 30_000;

const shaParams = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const originParams = z.object({ origin: z.string().min(1).max(64) });
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
  peerGuard: PeerGuard;
  replicator: Replicator;
  /** The state record this region follows, and the highest epoch it knows. */
  state: { get(appId: string): StateRecord | undefined; highestEpoch(): number };
  log: Pick<ChangeLog, 'stats' | 'segments'>;
  bodies: Pick<ObjectBodies, 'write' | 'release' | 'exists'>;
  store: Pick<ReplicaStore, 'progress' | 'digest' | 'keyFingerprints' | 'conflicts' | 'conflictCount'>;
  requireAdmin: Guard;
  /** Told when a peer's batch carries a newer epoch than this region knows (it only prompts a register read). */
  onPeerEpoch: (peer: string, epoch: number) => void;
  /** The control plane as this region sees it: voters, quorum, its lease. */
  controlPlane: () => Promise<unknown>;
}

/**
 * Registers the routes; returns how a batch is received, for the batch stream the
 * composition root opens beside them (src/peers/batch-stream.routes.ts).
 */
export function replicationRoutes(
  app: FastifyInstance,
  deps: ReplicationRouteDeps,
): { receiveBatch(region: string, body: unknown): Promise<BatchResponse> } {
  const peer = deps.peerGuard.options;
  const caller = (request: FastifyRequest) => deps.peerGuard.caller(request);

  /** A batch of `region`'s log (it signed the request or opened the stream it came by), validated and applied. */
  const receiveBatch = async (region: string, body: unknown): Promise<BatchResponse> => {
    const batch = parseWith(batchSchema, body) as BatchRequest;
    if (batch.origin !== region) throw new DomainError('invalid_request', 'a region ships only its own log');
    if (!deps.peers.includes(batch.origin))
      throw new DomainError('forbidden', `"${batch.origin}" is not a peer region of ${deps.region}`);
    if (batch.epoch > deps.state.highestEpoch()) deps.onPeerEpoch(batch.origin, batch.epoch);
    const result = await deps.replicator.applier.apply(batch);
    return { ...result, epoch: deps.state.highestEpoch() };
  };

  app.post(BATCH_PATH, { ...peer, bodyLimit: 64 * 1024 * 1024 }, (request) =>
    receiveBatch(caller(request).region, request.body),
  );

  app.register(async (scope) => {
    // Object bodies arrive as a stream, checked against the SHA-256 the sender signed.
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.put(`${BODY_PATH}:sha256`, peer, async (request, reply) => {
      const { sha256 } = parseWith(shaParams, request.params, 'path');
      if (caller(request).contentSha256 !== sha256)
        throw new DomainError('invalid_request', 'the signed digest is not the body named');
      const body = request.body as Readable | undefined;
      if (!body || typeof body.pipe !== 'function')
        throw new DomainError('invalid_request', 'expected an application/octet-stream body');
      const written = await deps.bodies.write(body, { expectSha256: sha256 });
      // Held until the objects that waited for it are applied (then they refer to it).
      deps.replicator.bodyArrived(written.sha256);
      deps.bodies.release(written.sha256);
      return reply.code(201).send({ sha256: written.sha256, size: written.size });
    });
    scope.get(`${BODY_PATH}:sha256`, peer, async (request) => {
      const { sha256 } = parseWith(shaParams, request.params, 'path');
      return { sha256, present: await deps.bodies.exists(sha256) };
    });
  });

  app.get(`${POSITION_PATH}:origin`, peer, async (request): Promise<LogPosition> => {
    const { origin } = parseWith(originParams, request.params, 'path');
    const row = deps.store.progress(origin);
    return { logId: row.logId, seq: row.seq };
  });

  app.get('/internal/digest', peer, async () => ({ region: deps.region, ...deps.store.digest() }));

  app.get('/internal/digest/:kind/:name', peer, async (request) => {
    const { kind, name } = parseWith(keysParams, request.params, 'path');
    return { region: deps.region, kind, name, keys: deps.store.keyFingerprints(kind, name) };
  });

  app.get('/internal/conflicts', peer, async (request) => {
    const q = parseWith(conflictsQuery, request.query, 'query');
    return { region: deps.region, conflicts: deps.store.conflicts(q.after, q.limit) };
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
  app.get(DRAIN_PATH, peer, drain);

  app.get('/replication/conflicts', { preHandler: deps.requireAdmin }, async (request) => {
    const q = parseWith(conflictsQuery, request.query, 'query');
    return { region: deps.region, conflicts: deps.store.conflicts(q.after, q.limit) };
  });
  return { receiveBatch };
}

/** `GET /status` without the control plane: every figure here is O(1) in the size of the log. */
function statusOf(deps: Pick<ReplicationRouteDeps, 'appId' | 'region' | 'state' | 'log' | 'replicator' | 'store'>) {
  const record = deps.state.get(deps.appId) ?? null;
  const segments = deps.log.segments();
  const current = segments[segments.length - 1]!;
  return {
    region: deps.region,
    appId: deps.appId,
    state: record,
    writer: isWriter(record ?? undefined, deps.region),
    log: {
      ...deps.log.stats(),
      logId: current.logId,
      logStartedAt: new Date(current.startedAt).toISOString(),
      /** `created`, or why this region started a new log id (restored from a backup, ...). */
      logStartedBecause: current.reason,
      logIds: segments.length,
    },
    peers: deps.replicator.peerFigures(),
    origins: deps.replicator.originFigures(),
    conflicts: deps.store.conflictCount(),
  };
}
