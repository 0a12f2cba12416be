/**
 * @module The voter's HTTP endpoint: `POST /internal/voter`, one control-plane message
 * (src/ports/voter-protocol.ts) per request, signed with the replication key. The
 * sender named by the signature is the one the voter trusts as the requester (a fence
 * by the lease holder is recognised by it). With metrics, every request is counted by
 * operation and sender (`mraa_voter_requests_total`: the `grant`s are lease renewals).
 */
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { APP_STATES } from '../core/app-state.js';
import type { Metrics } from '../http/metrics.js';
import { parseWith } from '../http/validation.js';
import type { VoterEndpoint, VoterRequest } from '../ports/voter-protocol.js';
import { peerRouteOptions } from './peer.routes.js';
import type { PeerVerifier } from './peer-auth.js';
import { VOTER_PATH } from './voter-link.js';

const name = z.string().min(1).max(128);
const appId = z.string().min(1).max(128);
const epoch = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const ballot = z.strictObject({ n: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), by: name });
const record = z.object({
  appId,
  state: z.enum(APP_STATES),
  activeRegion: name,
  epoch: epoch.min(1),
  changedAt: z.string().max(64),
  reason: z.string().max(500).optional(),
});

const requestSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('peek'), appId }),
  z.strictObject({ op: z.literal('prepare'), appId, ballot }),
  z.strictObject({
    op: z.literal('accept'),
    appId,
    ballot,
    value: z.strictObject({ record, changeId: z.string().min(1).max(128) }),
  }),
  z.strictObject({
    op: z.literal('grant'),
    appId,
    holder: name,
    epoch,
    durationMs: z.number().int().min(1).max(600_000),
    logHead: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  }),
  z.strictObject({ op: z.literal('release'), appId, holder: name, epoch }),
  z.strictObject({ op: z.literal('status'), appId }),
  z.strictObject({
    op: z.literal('seed'),
    appId,
    ballot,
    value: z.strictObject({ record, changeId: z.string().min(1).max(128) }),
  }),
]);

export function voterRoutes(
  app: FastifyInstance,
  deps: { voter: VoterEndpoint; verifier: PeerVerifier; metrics?: Metrics },
): void {
  const requests = deps.metrics
    ? new Counter({
        name: 'mraa_voter_requests_total',
        help: 'Control-plane requests this voter received over the network, by operation and sender',
        labelNames: ['op', 'from'] as const,
        registers: [deps.metrics.registry],
      })
    : undefined;
  app.post(VOTER_PATH, peerRouteOptions(deps.verifier), async (request) => {
    const message = parseWith(requestSchema, request.body) as VoterRequest;
    requests?.inc({ op: message.op, from: request.peer!.region });
    return deps.voter.handle(message, request.peer!.region);
  });
}
