/**
 * @module The routing layer's HTTP API: the state record, its transitions (admin),
 * and Server-Sent Events that push every change to subscribed clients.
 */

import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { APP_STATES, type StateRecord } from '../core/app-state.js';
import { DomainError } from '../core/errors.js';
import { SMALL_JSON_BODY_LIMIT } from '../http/json-body.js';
import { AddressSlots } from '../http/limits.js';
import { parseWith } from '../http/validation.js';
import type { StateService } from './state.service.js';
import type { StateEvents } from './state-events.js';

const HEARTBEAT_MS = 15_000;
/** A stream refused for its cap is retried after this (the web app's EventSource reconnects by itself). */
const STREAM_RETRY_AFTER_S = 5;

const params = z.object({ appId: z.string().min(1).max(128) });

const transitionBody = z.strictObject({
  state: z.enum(APP_STATES, { error: `state must be one of ${APP_STATES.join(', ')}` }),
  reason: z.string().max(500).optional(),
  force: z.boolean().optional(),
  activeRegion: z.string().min(1).max(64).optional(),
});

export function stateRoutes(
  app: FastifyInstance,
  deps: {
    state: StateService;
    events: StateEvents;
    /** Whether this region reads the register from a majority of voters. */
    quorum: () => boolean;
    requireAdmin: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** Event streams held at once, in all and per address (anyone may subscribe). */
    streamLimits: { maxEventStreams: number; maxEventStreamsPerAddress: number; perAddressOnLoopback: boolean };
  },
): void {
  const { state, events } = deps;
  const view = (record: StateRecord) => ({ ...record, region: state.region, quorum: deps.quorum() });
  const streams = new Set<ServerResponse>();
  const slots = new AddressSlots(
    deps.streamLimits.maxEventStreams,
    deps.streamLimits.maxEventStreamsPerAddress,
    deps.streamLimits.perAddressOnLoopback,
  );

  app.get('/state/:appId', async (request) => {
    const { appId } = parseWith(params, request.params, 'path');
    return view(state.require(appId));
  });

  app.put('/state/:appId', { preHandler: deps.requireAdmin, bodyLimit: SMALL_JSON_BODY_LIMIT }, async (request) => {
    const { appId } = parseWith(params, request.params, 'path');
    const body = parseWith(transitionBody, request.body);
    const change = await state.change(appId, body);
    request.log.info(
      {
        appId,
        from: change.plan.kind,
        state: change.record.state,
        activeRegion: change.record.activeRegion,
        epoch: change.record.epoch,
        possibleLoss: change.possibleLoss,
        waitedMs: change.waitedMs,
        by: request.user?.username,
      },
      'state changed',
    );
    return {
      ...view(change.record),
      ...(change.possibleLoss ? { possibleLoss: change.possibleLoss } : {}),
      ...(change.waitedFor ? { waitedForLease: { ...change.waitedFor, waitedMs: change.waitedMs } } : {}),
    };
  });

  app.get('/state/:appId/events', async (request, reply) => {
    const { appId } = parseWith(params, request.params, 'path');
    const first = state.require(appId);
    // request.ip: the client behind a trusted proxy (settings.trustProxy), else the connection's address.
    const release = slots.take(request.ip);
    if (release === 'address')
      throw new DomainError('rate_limited', 'too many event streams from this address', {
        retryAfter: STREAM_RETRY_AFTER_S,
        limit: deps.streamLimits.maxEventStreamsPerAddress,
      });
    if (release === 'total')
      throw new DomainError('overloaded', 'this region serves as many event streams as it may', {
        retryAfter: STREAM_RETRY_AFTER_S,
      });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 1000\n\n');
    const send = (record: StateRecord) =>
      raw.write(`id: ${record.epoch}\nevent: state\ndata: ${JSON.stringify(view(record))}\n\n`);
    send(first);
    streams.add(raw);
    const unsubscribe = events.subscribe(appId, send);
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
    raw.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(raw);
      release();
    });
  });

  app.addHook('onClose', async () => {
    for (const s of streams) s.end();
  });
}
