/**
 * @module The composition root of a region server: opens the region's storage and its
 * voter, builds the control plane, wires the services and routes, listens on the
 * region's URL, then reads the state register before it admits a write (and admits
 * one only under a writer lease, DESIGN §3a).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { type EmbeddedStorage, openEmbeddedStorage } from '../adapters/embedded.js';
import { SqliteReplicaStore } from '../adapters/sqlite/replica-store.js';
import { SqliteSnapshots } from '../adapters/sqlite/snapshot.js';
import { Voter } from '../adapters/voters/voter.js';
import { VoterFiles } from '../adapters/voters/voter-files.js';
import { authRoutes } from '../auth/auth.routes.js';
import { AuthService } from '../auth/auth.service.js';
import { Passwords } from '../auth/passwords.js';
import { TokenSigner } from '../auth/tokens.js';
import { USERS_TABLE, UsersRepository } from '../auth/users.repository.js';
import { CommentsRepository } from '../comments/comments.repository.js';
import { commentsRoutes } from '../comments/comments.routes.js';
import { CommentsService } from '../comments/comments.service.js';
import { findRegion, type LoadedConfig, peerUrl, primaryRegion } from '../config/config.js';
import { createFilesPrivately, requirePrivateDataDir } from '../config/file-modes.js';
import { retentionCapBytes } from '../config/retention.js';
import { peerCa, servingOf } from '../config/serving.js';
import type { StateRecord } from '../core/app-state.js';
import { isWriter } from '../core/app-state.js';
import type { DomainError } from '../core/errors.js';
import { HybridLogicalClock, parseHlc } from '../core/hlc.js';
import { buildHttpApp } from '../http/app.js';
import { guards } from '../http/auth-guards.js';
import { healthRoutes } from '../http/health.routes.js';
import { LOG_REDACT } from '../http/log-redact.js';
import { Metrics } from '../http/metrics.js';
import { BatchStreams } from '../peers/batch-stream.js';
import { batchStreamRoutes } from '../peers/batch-stream.routes.js';
import { peerRouteOptions, peerStateRoutes, STATE_HINT_PATH } from '../peers/peer.routes.js';
import { PeerVerifier, replicationKeys } from '../peers/peer-auth.js';
import { PeerClient, trustPeerCa } from '../peers/peer-client.js';
import { HttpPeerTransport } from '../peers/peer-transport.js';
import { voterRoutes } from '../peers/voter.routes.js';
import { PhotosRepository } from '../photos/photos.repository.js';
import { photosRoutes } from '../photos/photos.routes.js';
import { PhotosService } from '../photos/photos.service.js';
import type { NewConflict } from '../ports/replica-store.js';
import { drainChecker } from '../replication/drain.js';
import { settleLogIdentity } from '../replication/log-identity.js';
import { repairRoutes } from '../replication/repair.routes.js';
import { replicationMetrics, replicationTraffic } from '../replication/replication.metrics.js';
import { replicationRoutes } from '../replication/replication.routes.js';
import { Replicator } from '../replication/replicator.js';
import { snapshotRoutes } from '../replication/snapshot.routes.js';
import { stateRoutes } from '../routing/state.routes.js';
import { StateService } from '../routing/state.service.js';
import { StateEvents } from '../routing/state-events.js';
import { StateFollower } from '../routing/state-follower.js';
import { WriteAdmission } from '../routing/write-admission.js';
import { WriterLease } from '../routing/writer-lease.js';
import { BoundedQueue } from '../util/bounded-queue.js';
import { monotonicNow } from '../util/clock.js';
import { buildControlPlane } from './control-plane.js';
import { controlPlaneMetrics, controlPlaneStatus } from './control-plane-status.js';
import { regionMetrics } from './region.metrics.js';
import { TABLES } from './tables.js';

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
  /**
   * Test hook (MRAA_CLOCK_OFFSET_MS): added to the wall clock the region's hybrid logical
   * clock reads, and to nothing else, to run a region as if its host's clock were set
   * back (negative) or ahead. 0 in production.
   */
  clockOffsetMs?: number;
}

export interface RunningRegion {
  name: string;
  url: string;
  app: FastifyInstance;
  storage: EmbeddedStorage;
  state: StateService;
  lease: WriterLease;
  replicator: Replicator;
  close(): Promise<void>;
}

/** How long a starting region waits for a majority of voters before it says it is ready anyway. */
const STARTUP_QUORUM_WAIT_MS = 5000;

/** The epochs of the writes one request stamped, confirmed against the lease before it is answered. */
const stampedEpochs = new AsyncLocalStorage<Set<number>>();

export async function startRegion(options: RegionOptions): Promise<RunningRegion> {
  const { config } = options;
  const self = findRegion(config, options.region);
  const logger = options.logger ?? pino({ base: { region: self.name }, redact: LOG_REDACT });
  const peers = config.regions.filter((r) => r.name !== self.name).map((r) => ({ name: r.name, url: peerUrl(r) }));
  const urlOf = (name: string) => config.regions.find((r) => r.name === name)?.url;
  const topology = { primary: primaryRegion(config).name, regions: config.regions.map((r) => r.name) };

  // Password hashes and data: the owner's alone (refused to start otherwise, with the fix).
  createFilesPrivately();
  // Where it binds, its certificate (HTTPS), and the CA its peers must be signed by.
  const serving = servingOf(config, { region: self.name });
  trustPeerCa(peerCa(config));
  requirePrivateDataDir(config.dataRoot);
  const storage = await openEmbeddedStorage(join(config.dataRoot, self.name), TABLES);
  // Nothing is logged before the log's identity is settled with the peers (below, once listening).
  storage.log.holdAppends(`${self.name} is starting: its change log is being checked against its peers`);
  const cp = config.controlPlane;
  const voterFiles = new VoterFiles(join(storage.dataDir, 'voter'));
  const voter = new Voter({
    storage: voterFiles,
    now: monotonicNow,
    leaseMs: cp.leaseMs,
  });
  // DESIGN §5, clocks: start above every version on disk, so no local write is stamped
  // older than one already stored, even when the host's wall clock was set back.
  const clockOffsetMs = options.clockOffsetMs ?? 0;
  const wallClock = clockOffsetMs === 0 ? Date.now : () => Date.now() + clockOffsetMs;
  const seed = storage.highestHlc();
  const clock = new HybridLogicalClock({ now: wallClock, seed, maxAheadMs: config.settings.maxClockAheadMs });
  if (clockOffsetMs !== 0)
    logger.warn({ clockOffsetMs }, 'test hook: the hybrid logical clock reads a shifted wall clock');
  const seedAheadMs = seed === undefined ? 0 : parseHlc(seed).wall - wallClock();
  if (seedAheadMs > 0) {
    logger.warn(
      { newestVersion: seed, aheadMs: seedAheadMs },
      "the newest version on disk is ahead of this host's wall clock (was the clock set back?); timestamps continue from it",
    );
  }
  const replicaStore = new SqliteReplicaStore({
    tx: storage.tx,
    tables: storage.tables,
    objects: storage.objects,
    localTables: TABLES.filter((t) => t.local).map((t) => t.name),
  });
  // Every loser goes to the conflict log: the applier records replicated ones, the stores
  // tell of local writes refused because they do not beat the stored version.
  const recordLocalLoser = (loser: NewConflict) => {
    replicaStore.recordConflict(loser);
    logger.warn(
      { kind: loser.kind, name: loser.name, key: loser.key },
      'a local write lost to a newer stored version: refused and recorded as a conflict',
    );
  };
  storage.tables.onLocalLoser(recordLocalLoser);
  storage.objects.onLocalLoser(recordLocalLoser);
  const events = new StateEvents();
  const metrics = new Metrics(self.name);
  const traffic = replicationTraffic(metrics);
  storage.durability.syncObserver = (seconds, ok) => metrics.observeWalSync(seconds, ok);
  const stateMetrics = regionMetrics(metrics, {
    appId: config.appId,
    region: self.name,
    record: () => state.get(config.appId),
    subscribers: () => events.subscriberCount(),
  });
  const peerClient = new PeerClient(replicationKeys(config.secrets), self.name);
  const streams = new BatchStreams(replicationKeys(config.secrets), self.name, {
    onFallback: (peerUrl, status) => {
      if (status === null) logger.info({ peerUrl }, 'replication: the batch stream to this peer works again');
      else
        logger.warn(
          { peerUrl, status },
          `replication: the batch stream upgrade was answered ${status} (a peer of an older version, or a proxy that does not pass upgrades): batches go as HTTP requests, the stream is tried again every minute`,
        );
    },
  });
  const transport = traffic.metered(new HttpPeerTransport(peerClient, streams));
  const verifier = new PeerVerifier(
    replicationKeys(config.secrets),
    new Set([...config.regions.map((r) => r.name), ...cp.witnesses.map((w) => w.name), 'operator']),
  );
  const plane = buildControlPlane({ config, self: self.name, client: peerClient, localVoter: voter });

  let follower: StateFollower;
  const lease = new WriterLease({
    appId: config.appId,
    region: self.name,
    plane,
    now: monotonicNow,
    leaseMs: cp.leaseMs,
    logHead: () => storage.durability.durableHead,
    onNewerEpoch: () => follower?.hint(),
    onChange: (held, why) => {
      logger.info(
        { epoch: held?.epoch ?? null, why },
        held ? 'holding the writer lease' : 'not holding the writer lease',
      );
      const record = state.get(config.appId);
      if (record) events.publish(record);
      if (held) void createAdmin();
    },
  });
  const announce = (record: StateRecord) => {
    for (const peer of peers) {
      void peerClient
        .call(peer.url, 'POST', STATE_HINT_PATH, { appId: record.appId, epoch: record.epoch }, { timeoutMs: 1000 })
        .catch(() => undefined);
    }
  };
  const state = new StateService({
    appId: config.appId,
    region: self.name,
    topology,
    tables: storage.tables,
    log: storage.log,
    clock,
    events,
    plane,
    lease,
    leaseMs: cp.leaseMs,
    drainCheck: drainChecker(self.name, replicaStore, transport, (name) => peers.find((p) => p.name === name)),
    announce,
    onRecord: stateMetrics.onRecord,
  });
  await state.init();
  follower = new StateFollower({
    appId: config.appId,
    state,
    logger,
    intervalMs: Math.min(1000, cp.leaseMs / 4),
    onQuorumChange: () => {
      const record = state.get(config.appId);
      if (record) events.publish(record);
    },
  });
  const admission = new WriteAdmission({
    appId: config.appId,
    region: self.name,
    state,
    lease,
    clock,
    regionUrl: urlOf,
  });
  const stamp = () => {
    try {
      const version = admission.stamp();
      stampedEpochs.getStore()?.add(version.epoch);
      return version;
    } catch (err) {
      metrics.writesRefused.inc({ reason: (err as { code?: string }).code ?? 'unknown' });
      throw err;
    }
  };
  const limits = config.settings.limits;
  const passwords = new Passwords({ threads: limits.passwordHashThreads, queue: limits.passwordHashQueue });
  const auth = new AuthService(
    new UsersRepository(storage.tables),
    new TokenSigner(
      config.secrets.tokenKey,
      config.appId,
      config.settings.tokenTtlSeconds,
      config.secrets.previousTokenKeys,
    ),
    passwords,
  );
  // A user changed here or replicated in: the next session check reads it again.
  storage.tables.onCommit(USERS_TABLE, (commit) => auth.forgetUser(commit.key));

  let adminCreation: Promise<void> | undefined;
  const createAdmin = () => {
    adminCreation ??= auth
      .ensureAdmin(options.adminPassword, stamp)
      .then((created) => {
        if (created.created) logger.info({ username: 'admin' }, 'created the admin user');
        if (created.generatedPassword) options.onGeneratedAdminPassword?.(created.generatedPassword);
      })
      .catch((err: Error) => {
        adminCreation = undefined;
        logger.warn({ err: err.message }, 'could not create the admin user yet; trying again with the next lease');
      });
    return adminCreation;
  };

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
    thumbnails: new BoundedQueue('thumbnails', limits.thumbnailConcurrency, limits.thumbnailQueue),
  });

  // A peer that claims a newer epoch only makes this region read the register.
  const pullFrom = (_peer: string, epoch: number) => {
    if (epoch > state.highestEpoch()) follower.hint();
  };
  const maxPeerBacklogBytes = retentionCapBytes(config.settings, storage.dataDir);
  const replicator = new Replicator({
    self: self.name,
    peers,
    log: storage.log,
    bodies: storage.blobs,
    store: replicaStore,
    clock,
    transport,
    logger,
    epoch: () => state.highestEpoch(),
    onPeerEpoch: pullFrom,
    maxPeerBacklogBytes,
    onApplied: traffic.onApplied,
  });
  replicationMetrics(metrics, { replicator, log: storage.log, conflicts: replicaStore });

  let ready = false;
  const app = await buildHttpApp({
    logger,
    corsOrigins: [new URL(config.edge.url).origin],
    metrics,
    limits,
    trustProxy: config.settings.trustProxy,
    ...(serving.https ? { https: serving.https } : {}),
  });
  const g = guards((token) => auth.authenticate(token));
  // Every write a request stamped is confirmed against the lease once durable, before the answer.
  app.addHook('onRequest', (_request, _reply, done) => stampedEpochs.run(new Set(), done));
  app.addHook('onSend', async (request, reply, payload) => {
    const epochs = stampedEpochs.getStore();
    if (!epochs?.size || reply.statusCode >= 300) return payload;
    try {
      for (const epoch of epochs) admission.confirm(epoch);
      return payload;
    } catch (err) {
      const refusal = err as DomainError;
      metrics.writesRefused.inc({ reason: 'lease_expired_before_ack' });
      request.log.warn({ err: refusal.message }, 'a write became durable after the lease ran out: not acknowledged');
      reply
        .code(503)
        .header('retry-after', String(refusal.details.retryAfter ?? 1))
        .type('application/json');
      return JSON.stringify({ error: { code: refusal.code, message: refusal.message, ...refusal.details } });
    }
  });
  healthRoutes(app, {
    region: self.name,
    metrics,
    readiness: () => (ready ? { ready } : { ready, reason: 'reading the state from the voters' }),
    requireLoopbackOrAdmin: g.requireLoopbackOrAdmin,
    ...(config.secrets.metricsToken ? { metricsToken: config.secrets.metricsToken } : {}),
  });
  stateRoutes(app, {
    state,
    events,
    quorum: () => follower.quorum,
    requireAdmin: g.requireAdmin,
    streamLimits: limits,
  });
  authRoutes(app, {
    auth,
    requireSignedIn: g.requireSignedIn,
    requireUser: g.requireUser,
    requireAdmin: g.requireAdmin,
    stamp,
  });
  photosRoutes(app, { photos, requireUser: g.requireUser });
  commentsRoutes(app, { comments, requireUser: g.requireUser, stamp });
  peerStateRoutes(app, {
    verifier,
    onHint: (appId, epoch) => {
      if (appId === config.appId && epoch > state.highestEpoch()) follower.hint();
    },
  });
  voterRoutes(app, { voter, verifier, metrics });
  const { receiveBatch } = replicationRoutes(app, {
    appId: config.appId,
    region: self.name,
    peers: peers.map((p) => p.name),
    peerGuard: { options: peerRouteOptions(verifier), caller: (request) => request.peer! },
    replicator,
    state,
    log: storage.log,
    bodies: storage.blobs,
    store: replicaStore,
    requireAdmin: g.requireAdmin,
    onPeerEpoch: pullFrom,
    controlPlane: () =>
      controlPlaneStatus({ appId: config.appId, kind: cp.kind, leaseMs: cp.leaseMs, plane, lease, follower }),
  });
  batchStreamRoutes(app, { verifier, receive: receiveBatch, logger });
  // The source side of a rebuild: a consistent snapshot and the bodies it names (DESIGN §5).
  snapshotRoutes(app, {
    region: self.name,
    peers: peers.map((p) => p.name),
    peerGuard: { options: peerRouteOptions(verifier), caller: (request) => request.peer! },
    snapshots: new SqliteSnapshots({
      db: storage.db,
      file: join(storage.dataDir, 'region.db'),
      dataDir: storage.dataDir,
      region: self.name,
      localTables: TABLES.filter((t) => t.local).map((t) => t.name),
    }),
    log: storage.log,
    bodies: storage.blobs,
    durable: () => replicaStore.durable({ force: true }),
    isWriter: () => isWriter(state.get(config.appId), self.name),
    onSnapshot: (peer, position) => replicator.peerRebuilding(peer, position),
    logger,
  });
  // mraa verify --repair: the versions held of given keys, and logging them again for replication.
  repairRoutes(app, {
    region: self.name,
    peerGuard: { options: peerRouteOptions(verifier), caller: (request) => request.peer! },
    tables: storage.tables,
    objects: storage.objects,
    bodies: storage.blobs,
    log: storage.log,
    store: replicaStore,
    localTables: TABLES.filter((t) => t.local).map((t) => t.name),
  });
  controlPlaneMetrics(metrics, { appId: config.appId, plane, lease, follower });
  app.addHook('onSend', async (request, reply) => {
    // A passive region's reads say how far behind the writer they may be.
    if (request.method !== 'GET' || request.url.startsWith('/internal/') || reply.statusCode >= 400) return;
    const record = state.get(config.appId);
    if (!record || record.activeRegion === self.name) return;
    const lag = replicator.applier.lagMs(record.activeRegion);
    if (lag !== null) reply.header('x-replica-lag-ms', String(lag));
  });

  await app.listen(serving.listen);
  logger.info(
    { url: self.url, listen: serving.listen, https: !!serving.https, dataDir: storage.dataDir },
    'region server listening',
  );

  // Peers answer where they are in this region's log while it starts (they may be starting too).
  const identity = settleLogIdentity({ self: self.name, peers, log: storage.log, transport, logger }).then(
    (outcome) => {
      storage.log.releaseAppends();
      return outcome;
    },
  );
  await follower.start();
  // Voters started at the same moment (mraa up) may answer a moment later: wait a little
  // for a majority before saying ready, never for ever (a region cut off still serves reads).
  for (const until = Date.now() + STARTUP_QUORUM_WAIT_MS; !follower.quorum && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await identity;
  // A writer that starts takes its lease before it says it is ready (a majority permitting).
  await lease.renew();
  const known = state.get(config.appId);
  if (known && lease.admits(known.epoch)) await createAdmin();
  if (options.replication !== false) replicator.start();
  else logger.warn('replication is off: this region does not ship its writes');
  ready = true;
  const record = state.get(config.appId);
  logger.info(
    {
      state: record?.state ?? 'unknown',
      activeRegion: record?.activeRegion,
      epoch: record?.epoch,
      quorum: follower.quorum,
      ...(follower.error ? { error: follower.error } : {}),
    },
    'region server ready',
  );

  return {
    name: self.name,
    url: self.url,
    app,
    storage,
    state,
    lease,
    replicator,
    close: async () => {
      follower.stop();
      lease.stop();
      await replicator.stop();
      streams.close();
      await app.close();
      await passwords.close();
      await storage.close();
      await voterFiles.close();
    },
  };
}
