/**
 * @module Replication in a region: a shipper per peer, the applier for what peers
 * send, log compaction and body collection, and the figures operators watch.
 */
import type { Logger } from 'pino';
import type { EmbeddedStorage } from '../adapters/embedded.js';
import type { HybridLogicalClock } from '../core/hlc.js';
import type { PeerClient } from '../peers/peer-client.js';
import type { DrainStatus } from '../routing/state.service.js';
import { Applier } from './applier.js';
import type { ConflictLog } from './conflicts.js';
import { localDrainStatus } from './drain.js';
import { Maintenance } from './maintenance.js';
import type { ReplicationProgress } from './progress.js';
import { type PeerFigures, Shipper } from './shipper.js';

export interface OriginFigures {
  name: string;
  appliedSeq: number;
  originHead: number;
  barrierEpoch: number;
  lagMs: number | null;
  lastContactAt: string | null;
}

export const GC_INTERVAL_MS = 10 * 60_000;

export class Replicator {
  readonly shippers: Shipper[];
  readonly applier: Applier;
  readonly maintenance: Maintenance;
  private gcTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      self: string;
      peers: ReadonlyArray<{ name: string; url: string }>;
      storage: EmbeddedStorage;
      progress: ReplicationProgress;
      conflicts: ConflictLog;
      clock: HybridLogicalClock;
      client: PeerClient;
      logger: Logger;
      epoch: () => number;
      onPeerEpoch: (peer: string, epoch: number) => void;
    },
  ) {
    const { storage, progress } = deps;
    this.applier = new Applier({
      tx: storage.tx,
      tables: storage.tables,
      objects: storage.objects,
      progress,
      conflicts: deps.conflicts,
      clock: deps.clock,
      blobExists: (sha) => storage.blobs.exists(sha),
    });
    this.maintenance = new Maintenance({
      tx: storage.tx,
      progress,
      objects: storage.objects,
      blobs: storage.blobs,
      logger: deps.logger,
      acks: () => new Map(this.shippers.map((s) => [s.peer, s.durableAckedSeq])),
    });
    const acks = progress.acks();
    this.shippers = deps.peers.map(
      (peer) =>
        new Shipper({
          self: deps.self,
          peer,
          log: storage.log,
          blobs: storage.blobs,
          client: deps.client,
          logger: deps.logger,
          epoch: deps.epoch,
          onPeerEpoch: deps.onPeerEpoch,
          onAck: () => this.maintenance.maybeCompact(),
          initialAck: acks.get(peer.name)?.seq ?? 0,
          durableHead: () => storage.durability.durableHead,
        }),
    );
  }

  start(): void {
    for (const s of this.shippers) s.start();
    const gc = () => {
      this.maintenance
        .collectGarbage()
        .catch((err: Error) => this.deps.logger.error({ err: err.message }, 'body collection failed'));
      this.gcTimer = setTimeout(gc, GC_INTERVAL_MS).unref();
    };
    this.gcTimer = setTimeout(gc, GC_INTERVAL_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.gcTimer) clearTimeout(this.gcTimer);
    await Promise.all(this.shippers.map((s) => s.stop()));
    this.maintenance.stop();
    this.maintenance.maybeCompact(true);
  }

  peerFigures(): PeerFigures[] {
    return this.shippers.map((s) => s.figures());
  }

  originFigures(): OriginFigures[] {
    return this.deps.peers.map((peer) => {
      const row = this.deps.progress.applied(peer.name);
      const view = this.applier.view(peer.name);
      return {
        name: peer.name,
        appliedSeq: row.seq,
        originHead: row.originHead,
        barrierEpoch: row.barrierEpoch,
        lagMs: this.applier.lagMs(peer.name),
        lastContactAt: view?.lastContactAt ? new Date(view.lastContactAt).toISOString() : null,
      };
    });
  }

  /** Wait until `from`'s log is applied here up to its barrier for `epoch`, or `waitMs` passes. */
  async waitDrained(from: string, epoch: number, waitMs: number): Promise<DrainStatus> {
    const check = () => localDrainStatus(this.deps.progress, from, epoch);
    let status = check();
    if (status.drained || waitMs <= 0) return status;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      const off = this.applier.onApplied(() => {
        status = check();
        if (status.drained) done();
      });
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    return check();
  }
}
