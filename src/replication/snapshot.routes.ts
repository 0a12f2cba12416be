/**
 * @module The source side of a rebuild (DESIGN §5): a region that has data serves a
 * consistent snapshot of its storage, and the object bodies it names, to a peer that
 * must be rebuilt (src/region/rebuild.ts). Every request is signed with the
 * replication key; the manifest (the file's size and SHA-256, the log position it
 * holds) travels in a signed answer, the file and the bodies as streams the receiver
 * checks against it. A snapshot made for a peer moves this region's shipper to that
 * peer to the snapshot's position: the log is kept for it from there.
 */
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../core/errors.js';
import { parseRange } from '../http/range.js';
import { parseWith } from '../http/validation.js';
import type { ChangeLog } from '../ports/change-log.js';
import type { ObjectBodies } from '../ports/object-bodies.js';
import type { LogPosition } from '../ports/peer-transport.js';
import {
  SNAPSHOT_BODY_PATH,
  SNAPSHOT_PATH,
  SNAPSHOT_SOURCE_PATH,
  type SnapshotManifest,
  type SnapshotSourceInfo,
  type Snapshots,
} from '../ports/snapshot.js';
import type { PeerGuard } from './replication.routes.js';

const idParams = z.object({ id: z.string().regex(/^[0-9]{13}-[0-9a-f]{12}$/) });
const shaParams = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export interface SnapshotRouteDeps {
  region: string;
  /** The other regions of the configuration: the only ones a snapshot is made for. */
  peers: readonly string[];
  peerGuard: PeerGuard;
  snapshots: Snapshots;
  log: Pick<ChangeLog, 'segments' | 'durableHead'>;
  bodies: Pick<ObjectBodies, 'exists' | 'read'>;
  /** Makes everything committed durable first: the snapshot holds nothing a power loss could take back here. */
  durable: () => Promise<void>;
  isWriter: () => boolean;
  /** Told once a snapshot was made for a peer: it follows this region's log from `position`. */
  onSnapshot: (peer: string, position: LogPosition) => void;
  logger: { info(obj: object, msg: string): void };
}

export function snapshotRoutes(app: FastifyInstance, deps: SnapshotRouteDeps): void {
  const peer = deps.peerGuard.options;
  const callerOf = (request: FastifyRequest) => deps.peerGuard.caller(request).region;
  let making: Promise<unknown> = Promise.resolve();

  app.get(SNAPSHOT_SOURCE_PATH, peer, async (): Promise<SnapshotSourceInfo> => {
    const segs = deps.log.segments();
    return {
      region: deps.region,
      writer: deps.isWriter(),
      hasData: deps.snapshots.hasData(),
      logId: segs[segs.length - 1]!.logId,
      head: deps.log.durableHead(),
    };
  });

  app.post(SNAPSHOT_PATH, peer, async (request): Promise<SnapshotManifest> => {
    const caller = callerOf(request);
    if (!deps.peers.includes(caller))
      throw new DomainError('forbidden', `"${caller}" is not a peer region of ${deps.region}`);
    // One snapshot at a time: each is a full copy of the database.
    const made = making.then(async () => {
      await deps.durable();
      return deps.snapshots.create(caller);
    });
    making = made.catch(() => undefined);
    const manifest = await made;
    deps.logger.info(
      { peer: caller, snapshot: manifest.id, bytes: manifest.size, bodies: manifest.bodies, head: manifest.head },
      `rebuild: made a snapshot for ${caller} (${manifest.size} bytes, ${manifest.bodies} bodies of ${manifest.bodyBytes} bytes, this region's log up to ${manifest.head})`,
    );
    deps.onSnapshot(caller, { logId: manifest.logId, seq: manifest.head });
    return manifest;
  });

  app.get(`${SNAPSHOT_PATH}/:id`, peer, async (request, reply) => {
    const { id } = parseWith(idParams, request.params, 'path');
    const found = deps.snapshots.find(id);
    if (!found || found.manifest.forPeer !== callerOf(request))
      throw new DomainError('not_found', `no snapshot ${id} here (made for another region, or removed)`);
    const { size, sha256 } = found.manifest;
    const range = parseRange(request.headers.range, size);
    reply.header('accept-ranges', 'bytes').header('x-mraa-snapshot-sha256', sha256).type('application/octet-stream');
    if (range) {
      reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', String(range.end - range.start + 1));
      return reply.send(createReadStream(found.file, { start: range.start, end: range.end, highWaterMark: 1 << 20 }));
    }
    reply.header('content-length', String(size));
    return reply.send(createReadStream(found.file, { highWaterMark: 1 << 20 }));
  });

  app.get(`${SNAPSHOT_BODY_PATH}:sha256`, peer, async (request, reply) => {
    const { sha256 } = parseWith(shaParams, request.params, 'path');
    if (!(await deps.bodies.exists(sha256))) throw new DomainError('not_found', `body ${sha256} is not here`);
    reply.type('application/octet-stream');
    return reply.send(deps.bodies.read(sha256));
  });
}
