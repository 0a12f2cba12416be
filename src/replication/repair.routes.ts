/**
 * @module The endpoints `mraa verify --repair` calls on each region (signed with the
 * replication key, by the operator only): the versions a region holds of given keys,
 * and logging given versions again so that replication carries them (src/replication/repair.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../core/errors.js';
import { isVersion } from '../core/version.js';
import { parseWith } from '../http/validation.js';
import {
  REPAIR_MAX_KEYS,
  REPAIR_RELOG_PATH,
  REPAIR_VERSIONS_PATH,
  type RelogRequest,
  type RepairDeps,
  relog,
  versionsOf,
} from './repair.js';
import type { PeerGuard } from './replication.routes.js';

/** Who may ask for a repair: the operator's CLI (it signs as this region name). */
export const OPERATOR = 'operator';

const kindName = { kind: z.enum(['table', 'bucket']), name: z.string().min(1).max(128) };
const key = z.string().min(1).max(1024);
const versionsBody = z.strictObject({ ...kindName, keys: z.array(key).min(1).max(REPAIR_MAX_KEYS) });
const relogBody = z.strictObject({
  ...kindName,
  versions: z
    .array(
      z.strictObject({
        key,
        versionId: z.string().min(1).max(128).nullable(),
        version: z.custom<RelogRequest['versions'][number]['version']>(isVersion, 'a version {epoch, hlc, region}'),
      }),
    )
    .min(1)
    .max(REPAIR_MAX_KEYS),
});

export function repairRoutes(app: FastifyInstance, deps: RepairDeps & { peerGuard: PeerGuard }): void {
  const peer = deps.peerGuard.options;
  const operatorOnly = (request: FastifyRequest) => {
    if (deps.peerGuard.caller(request).region !== OPERATOR)
      throw new DomainError('forbidden', 'only the operator (mraa verify --repair) asks for a repair');
  };

  app.post(REPAIR_VERSIONS_PATH, peer, async (request) => {
    operatorOnly(request);
    const body = parseWith(versionsBody, request.body);
    return { region: deps.region, versions: await versionsOf(deps, body.kind, body.name, body.keys) };
  });

  app.post(REPAIR_RELOG_PATH, peer, async (request) => {
    operatorOnly(request);
    const body = parseWith(relogBody, request.body) as RelogRequest;
    const result = await relog(deps, body);
    if (result.relogged.length > 0)
      request.log.warn(
        { kind: body.kind, name: body.name, relogged: result.relogged.length, skipped: result.skipped.length },
        `repair: logged ${result.relogged.length} version(s) of ${body.kind} ${body.name} again for replication`,
      );
    return result;
  });
}
