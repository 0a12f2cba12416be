/**
 * @module The composition root of a region server: opens the region's storage, wires
 * the services to their ports and the routes to the services, listens on the
 * region's URL, then runs the start-up check before admitting writes.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { type EmbeddedStorage, openEmbeddedStorage } from '../adapters/embedded.js';
import { authRoutes } from '../auth/auth.routes.js';
import { AuthService } from '../auth/auth.service.js';
import { TokenSigner } from '../auth/tokens.js';
import { UsersRepository } from '../auth/users.repository.js';
import { CommentsRepository } from '../comments/comments.repository.js';
import { commentsRoutes } from '../comments/comments.routes.js';
import { CommentsService } from '../comments/comments.service.js';
import { findRegion, type LoadedConfig, peerUrl, primaryRegion } from '../config/config.js';
import { isWriter } from '../core/app-state.js';
import { HybridLogicalClock } from '../core/hlc.js';
import { buildHttpApp } from '../http/app.js';
import { guards } from '../http/auth-guards.js';
import { healthRoutes } from '../http/health.routes.js';
import { Metrics } from '../http/metrics.js';
import { peerStateRoutes } from '../peers/peer.routes.js';
import { PeerVerifier } from '../peers/peer-auth.js';
import { PeerClient } from '../peers/peer-client.js';
import { PhotosRepository } from '../photos/photos.repository.js';
import { photosRoutes } from '../photos/photos.routes.js';
import { PhotosService } from '../photos/photos.service.js';
import { ConflictLog } from '../replication/conflicts.js';
import { Digests } from '../replication/digest.js';
import { drainChecker, lossEstimator } from '../replication/drain.js';
import { ReplicationProgress } from '../replication/progress.js';
import { replicationMetrics } from '../replication/replication.metrics.js';
import { replicationRoutes } from '../replication/replication.routes.js';
import { Replicator } from '../replication/replicator.js';
import { stateRoutes } from '../routing/state.routes.js';
import { StateService } from '../routing/state.service.js';
import { StateEvents } from '../routing/state-events.js';
import { StateSync } from '../routing/state-sync.js';
import { WriteAdmission } from '../routing/write-admission.js';
import { TABLES } from './tables.js';

export const LOG_REDACT = [
  'password',
  '*.password',
  'newPassword',
  'currentPassword',
  'token',
  '*.token',
  'passwordHash',
  '*.passwordHash',
  'secrets',
  '*.secrets',
  'req.headers.authorization',
  'headers.authorization',
];

export interface RegionOptions {
  config: LoadedConfig;
  region: string;
  logger?: Logger;
  /** Password for `admin` when this region creates it (MRAA_ADMIN_PASSWORD). */
  adminPassword?: string;
  /**
   * false: do not ship this region's log to its peers (benchmarks compare the same
   * server with replication on and off). Writes are still logged; peers may still ship here.
   */
  replication?: boolean;
  /** Told the generated admin password, once, when this region created `admin` without one. */
  onGeneratedAdminPassword?: (password: string) => void;
}

export interface RunningRegion {
  name: string;
  url: string;
  app: FastifyInstance;
  storage: EmbeddedStorage;
  state: StateService;
  replicator: Replicator;
  close(): Promise<void>;
}

export async function startRegion(options: RegionOptions): Promise<RunningRegion> {
  const { config } = options;
  const self = findRegion(config, options.region);
  const logger = options.logger ?? pino({ base: { region: self.name }, redact: LOG_REDACT });
  const peers = config.regions.filter((r) => r.name !== self.name).map((r) => ({ name: r.name, url: peerUrl(r) }));
  const urlOf = (name: string) => config.regions.find((r) => r.name === name)?.url;
  const peerUrlOf = (name: string) => peers.find((r) => r.name === name)?.url;
  const topology = { primary: primaryRegion(config).name, regions: config.regions.map((r) => r.name) };

  const storage = await openEmbeddedStorage(join(config.dataRoot, self.name), TABLES);
  const clock = new HybridLogicalClock();
  const events = new StateEvents();
  const metrics = new Metrics(self.name);
  const progress = new ReplicationProgress(storage.db);
  const peerClient = new PeerClient(config.secrets.replicationKey, self.name);
  const verifier = new PeerVerifier(
    config.secrets.replicationKey,
    new Set([...config.regions.map((r) => r.name), 'operator']),
  );

  const state = new StateService({
    region: self.name,
    topology,
    tables: storage.tables,
    log: storage.log,
    clock,
    events,
    drainCheck: drainChecker(self.name, progress, peerClient, peerUrlOf),
    lossEstimate: lossEstimator(self.name, progress, peerClient, peerUrlOf),
  });
  await state.init(config.appId);
  const admission = new WriteAdmission({ appId: config.appId, region: self.name, state, clock, regionUrl: urlOf });
  const stamp = () => {
    try {
      return admission.stamp();
    } catch (err) {
      metrics.writesRefused.inc({ reason: (err as { code?: string }).code ?? 'unknown' });
      throw err;
    }
  };
  const auth = new AuthService(
    new UsersRepository(storage.tables),
    new TokenSigner(config.secrets.tokenKey, config.appId, config.settings.tokenTtlSeconds),
  );

  metrics.gaugeFn('mraa_state_epoch', 'Epoch of the newest state record this region knows', ['app'], (set) => {
    const r = state.get(config.appId);
    if (r) set({ app: config.appId }, r.epoch);
  });
  metrics.gaugeFn('mraa_state_writer', '1 when this region accepts application writes', ['app', 'state'], (set) => {
    const r = state.get(config.appId);
    if (r) set({ app: config.appId, state: r.state }, isWriter(r, self.name) ? 1 : 0);
  });
  metrics.gaugeFn('mraa_state_event_subscribers', 'Clients subscribed to live state events', [], (set) =>
    set({}, events.subscriberCount()),
  );

  const photosRepo = new PhotosRepository(storage.tables, storage.objects, config.appId);
  const comments = new CommentsService(
    new CommentsRepository(storage.tables),
    async (id) => (await photosRepo.get(id)) !== undefined,
  );
  const photos = new PhotosService({
    repo: photosRepo,
    comments,
    appId: config.appId,
    maxUploadBytes: config.settings.maxUploadBytes,
    stamp,
  });

  const conflicts = new ConflictLog(storage.db);
  const sync = new StateSync({ appId: config.appId, state, peers, client: peerClient, logger });
  const pullFrom = (peer: string, epoch: number) => {
    admission.heardOfEpoch(epoch);
    void sync.pullFromPeers({ only: peer });
  };
  const replicator = new Replicator({
    self: self.name,
    peers,
    storage,
    progress,
    conflicts,
    clock,
    client: peerClient,
    logger,
    epoch: () => state.highestEpoch(),
    onPeerEpoch: pullFrom,
  });
  replicationMetrics(metrics, { replicator, log: storage.log, conflicts });

  let ready = false;
  const app = await buildHttpApp({ logger, corsOrigins: [new URL(config.edge.url).origin], metrics });
  const g = guards((token) => auth.verifyToken(token));
  healthRoutes(app, {
    region: self.name,
    metrics,
    readiness: () => (ready ? { ready } : { ready, reason: 'start-up check in progress' }),
    requireLoopbackOrAdmin: g.requireLoopbackOrAdmin,
  });
  stateRoutes(app, { state, events, requireAdmin: g.requireAdmin });
  authRoutes(app, { auth, requireUser: g.requireUser, requireAdmin: g.requireAdmin, stamp });
  photosRoutes(app, { photos, requireUser: g.requireUser });
  commentsRoutes(app, { comments, requireUser: g.requireUser, stamp });
  peerStateRoutes(app, { state, verifier });
  replicationRoutes(app, {
    appId: config.appId,
    region: self.name,
    peers: peers.map((p) => p.name),
    verifier,
    replicator,
    state,
    log: storage.log,
    blobs: storage.blobs,
    digests: new Digests(storage.db),
    conflicts,
    requireAdmin: g.requireAdmin,
    onPeerEpoch: pullFrom,
  });
  app.addHook('onSend', async (request, reply) => {
    // A passive region's reads say how far behind the writer they may be.
    if (request.method !== 'GET' || request.url.startsWith('/internal/') || reply.statusCode >= 400) return;
    const record = state.get(config.appId);
    if (!record || record.activeRegion === self.name) return;
    const lag = replicator.applier.lagMs(record.activeRegion);
    if (lag !== null) reply.header('x-replica-lag-ms', String(lag));
  });

  const url = new URL(self.url);
  await app.listen({ host: url.hostname, port: Number(url.port) });
  logger.info({ url: self.url, dataDir: storage.dataDir }, 'region server listening');

  await sync.pullFromPeers();
  if (options.replication !== false) replicator.start();
  else logger.warn('replication is off: this region does not ship its writes');
  admission.markReady();
  const record = state.get(config.appId);
  if (isWriter(record, self.name)) {
    const created = await auth.ensureAdmin(options.adminPassword, () => ({
      epoch: record!.epoch,
      hlc: clock.tick(),
      region: self.name,
    }));
    if (created.created) logger.info({ username: 'admin' }, 'created the admin user');
    if (created.generatedPassword) options.onGeneratedAdminPassword?.(created.generatedPassword);
  }
  ready = true;
  logger.info(
    { state: record?.state ?? 'unknown', activeRegion: record?.activeRegion, epoch: record?.epoch },
    'region server ready',
  );

  return {
    name: self.name,
    url: self.url,
    app,
    storage,
    state,
    replicator,
    close: async () => {
      await replicator.stop();
      await app.close();
      storage.close();
    },
  };
}
