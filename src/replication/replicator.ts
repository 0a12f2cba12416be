/**
 * @module Replication in a region: a shipper per peer, the applier for what peers
 * send, log compaction under a retention cap, body collection, and the figures
 * operators watch. It reaches storage and other regions only through ports.
 *
 * Hooks for a rebuild (DESIGN §5): `rebuildsNeeded()` lists the peers this region can
 * no longer serve from its log and the origins that said this region must be rebuilt;
 * `onRebuildNeeded` tells of each as it happens; a peer rebuilt from a snapshot is
 * shipped to again by itself as soon as its position is one the log can serve
 * (`clearRebuildMark` does it at once).
 */
import type { Logger } from 'pino';
import type { LogEntry } from '../core/change.js';
import type { Hlc } from '../core/hlc.js';
import type { ChangeLog } from '../ports/change-log.js';
import type { ObjectBodies } from '../ports/object-bodies.js';
import type { DrainStatus, LogPosition, PeerAddress, PeerTransport } from '../ports/peer-transport.js';
import type { RebuildMark, ReplicaStore } from '../ports/replica-store.js';
import { Applier } from './applier.js';
import { localDrainStatus } from './drain.js';
import type { OriginLinkState } from './link-state.js';
import { Maintenance } from './maintenance.js';
import { type PeerFigures, Shipper } from './shipper.js';

export interface OriginFigures {
  name: string;
  /** The origin's log followed here (null: its first log) and the sequence applied of it. */
  logId: string | null;
  appliedSeq: number;
  originHead: number;
  barrierEpoch: number;
  lagMs: number | null;
  lastContactAt: string | null;
  state: OriginLinkState;
  /** Object entries of the origin applied here except for their body, still on its way. */
  waitingForBodies: { entries: number; bytes: number };
}

export type RebuildNeeded =
  | { side: 'peer'; mark: RebuildMark }
  | { side: 'origin'; origin: string; state: Extract<OriginLinkState, { kind: 'needs-rebuild' }> };

export const GC_INTERVAL_MS = 10 * 60_000;
/** How often each peer's retained bytes are held against the cap (a subtraction per peer). */
export const RETENTION_CHECK_MS = 1000;

export interface ReplicatorDeps {
  self: string;
  peers: readonly PeerAddress[];
  log: ChangeLog;
  bodies: ObjectBodies;
  store: ReplicaStore;
  clock: { observe(remote: Hlc): void };
  transport: PeerTransport;
  logger: Logger;
  epoch: () => number;
  onPeerEpoch: (peer: string, epoch: number) => void;
  /** Past this many bytes of log kept for one peer, it is marked as needing a rebuild. */
  maxPeerBacklogBytes: number;
  /** Told the entries of an origin's log applied here (metrics). */
  onApplied?: (origin: string, entries: readonly LogEntry[]) => void;
}

export class Replicator {
  readonly shippers: Shipper[];
  readonly applier: Applier;
  readonly maintenance: Maintenance;
  private gcTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly rebuildListeners = new Set<(event: RebuildNeeded) => void>();

  constructor(private readonly deps: ReplicatorDeps) {
    const { store, log } = deps;
    this.applier = new Applier({
      store,
      clock: deps.clock,
      logger: deps.logger,
      onRebuildNeeded: (origin, state) => this.tell({ side: 'origin', origin, state }),
      ...(deps.onApplied ? { onApplied: deps.onApplied } : {}),
    });
    this.maintenance = new Maintenance({
      log,
      store,
      bodies: deps.bodies,
      logger: deps.logger,
      acks: () =>
        this.shippers.map((s) => ({
          peer: s.peer,
          durableSeq: s.durableAckedSeq,
          position: s.durablePosition,
          excluded: s.needsRebuild,
        })),
    });
    const acks = store.acks();
    const marks = store.rebuildMarks();
    this.shippers = deps.peers.map((peer) => {
      const ack = acks.get(peer.name);
      const mark = marks.get(peer.name);
      return new Shipper({
        self: deps.self,
        peer,
        log,
        bodies: deps.bodies,
        transport: deps.transport,
        logger: deps.logger,
        epoch: deps.epoch,
        onPeerEpoch: deps.onPeerEpoch,
        onAck: () => this.maintenance.maybeCompact(),
        ...(ack ? { initial: { logId: ack.logId, seq: ack.seq } satisfies LogPosition } : {}),
        ...(mark ? { mark } : {}),
        marks: store,
        onNeedsRebuild: (m) => {
          this.tell({ side: 'peer', mark: m });
          this.maintenance.maybeCompact(true);
        },
      });
    });
  }

  start(): void {
    void this.applyArrivedBodies();
    for (const s of this.shippers) s.start();
    const gc = () => {
      this.maintenance
        .collectGarbage()
        .catch((err: Error) => this.deps.logger.error({ err: err.message }, 'body collection failed'));
      this.gcTimer = setTimeout(gc, GC_INTERVAL_MS).unref();
    };
    this.gcTimer = setTimeout(gc, GC_INTERVAL_MS).unref();
    this.retentionTimer = setInterval(() => this.checkRetention(), RETENTION_CHECK_MS).unref();
  }

  async stop(): Promise<void> {
    if (this.gcTimer) clearTimeout(this.gcTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await Promise.all(this.shippers.map((s) => s.stop()));
    this.maintenance.stop();
    this.maintenance.maybeCompact(true);
  }

  /**
   * Hold each peer's retained log against the cap; mark those over it. Then compact: a
   * peer marked for a rebuild sends no acknowledgement that would, and the log is no
   * longer kept for it.
   */
  checkRetention(): void {
    for (const s of this.shippers) s.checkRetention(this.deps.maxPeerBacklogBytes);
    if (this.shippers.some((s) => s.needsRebuild)) this.maintenance.maybeCompact();
  }

  peerFigures(): PeerFigures[] {
    return this.shippers.map((s) => s.figures());
  }

  originFigures(): OriginFigures[] {
    return this.deps.peers.map((peer) => {
      const row = this.deps.store.progress(peer.name);
      const view = this.applier.view(peer.name);
      return {
        name: peer.name,
        logId: row.logId,
        appliedSeq: row.seq,
        originHead: row.originHead,
        barrierEpoch: row.barrierEpoch,
        lagMs: this.applier.lagMs(peer.name),
        lastContactAt: view?.lastContactAt ? new Date(view.lastContactAt).toISOString() : null,
        state: view?.state ?? { kind: 'following' },
        waitingForBodies: this.deps.store.parkedCount(peer.name),
      };
    });
  }

  /** Where a rebuild is needed: peers this region cannot serve, origins that cannot serve this region. */
  rebuildsNeeded(): RebuildNeeded[] {
    const out: RebuildNeeded[] = [];
    for (const [, mark] of this.deps.store.rebuildMarks()) out.push({ side: 'peer', mark });
    for (const o of this.originFigures())
      if (o.state.kind === 'needs-rebuild') out.push({ side: 'origin', origin: o.name, state: o.state });
    return out;
  }

  onRebuildNeeded(listener: (event: RebuildNeeded) => void): () => void {
    this.rebuildListeners.add(listener);
    return () => this.rebuildListeners.delete(listener);
  }

  /** After a peer was rebuilt: ship to it again from the position it reports. */
  clearRebuildMark(peer: string): void {
    this.deps.store.clearRebuild(peer);
    this.shippers.find((s) => s.peer === peer)?.resume('its rebuild mark was cleared');
  }

  /**
   * A snapshot of this region was made for `peer` (it is being rebuilt from it): ship to
   * it from the snapshot's position, and keep the log for it from there (persisted now).
   */
  peerRebuilding(peer: string, position: LogPosition): void {
    const shipper = this.shippers.find((s) => s.peer === peer);
    if (!shipper) return;
    shipper.rebuildingFrom(position);
    this.maintenance.maybeCompact(true);
  }

  /** A body has arrived from a peer: apply the object entries that waited for it. */
  bodyArrived(sha256: string): void {
    this.applier.bodyArrived(sha256);
  }

  /** Parked entries whose body arrived before the process stopped (it stopped in between). */
  private async applyArrivedBodies(): Promise<void> {
    for (const peer of this.deps.peers) {
      for (const { sha256 } of this.deps.store.parkedBodies(peer.name, Number.MAX_SAFE_INTEGER)) {
        if (await this.deps.bodies.exists(sha256)) this.applier.bodyArrived(sha256);
      }
    }
  }

  /**
   * Wait until `from`'s log is applied here up to its barrier for `epoch`, every object
   * up to it with its body, or `waitMs` passes.
   */
  async waitDrained(from: string, epoch: number, waitMs: number): Promise<DrainStatus> {
    const check = () => localDrainStatus(this.deps.store, from, epoch);
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

  private tell(event: RebuildNeeded): void {
    for (const l of this.rebuildListeners) l(event);
  }
}
