/**
 * @module A shipper per peer: streams the entries of this region's change log after the
 * peer's position, in batches, as soon as they are durable (woken by the log, no
 * polling interval), several batches in flight within a window (src/replication/
 * ship-window.ts), answers taken as they come back; object bodies go beside the log by
 * workers of their own (src/replication/body-shipper.ts). A lost, late or refused batch
 * rewinds the stream to where the peer really is. It probes one batch at a time while
 * the peer is unreachable, with backoff. An idle shipper sends an empty batch as a
 * heartbeat, so both sides know the link is up and how far behind they are.
 *
 * Positions are (log id, sequence) pairs (src/ports/change-log.ts): the shipper moves
 * the peer from one of this region's log ids to the next once it has all of the
 * first, and never takes a peer's word that it applied more of the current log than
 * exists. What the log can no longer serve (compacted, over the retention cap,
 * diverged) is a typed `needs-rebuild` state, persisted, not an endless retry.
 */
import type { Logger } from 'pino';
import type { ObjectChange } from '../core/change.js';
import type { ChangeLog, LogSegment, RawLogEntry } from '../ports/change-log.js';
import type { ObjectBodies } from '../ports/object-bodies.js';
import type {
  BatchHead,
  BatchRefusal,
  BatchResponse,
  LogPosition,
  PeerAddress,
  PeerTransport,
} from '../ports/peer-transport.js';
import type { RebuildMark, RebuildReason } from '../ports/replica-store.js';
import { Signal } from '../util/signal.js';
import { type BodyFigures, BodyShipper } from './body-shipper.js';
import {
  clockAheadMessage,
  compactedMessage,
  divergedMessage,
  type PeerLinkState,
  retentionMessage,
  shortId,
} from './link-state.js';
import {
  type BatchPlan,
  EntryAfterMemo,
  isAheadOfLog,
  lostEntries,
  planBatch,
  segmentIndex,
  sequenceOf,
} from './log-position.js';
import { type Flight, ShipWindow, type WindowLimits } from './ship-window.js';

export const BATCH_MAX_ENTRIES = 1000;
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;
export const HEARTBEAT_MS = 1000;
/** A batch not answered in this time is abandoned and sent again (it is idempotent). */
export const BATCH_TIMEOUT_MS = 5000;
export const BACKOFF_MIN_MS = 50;
export const BACKOFF_MAX_MS = 2000;

export interface PeerFigures {
  name: string;
  url: string;
  connected: boolean;
  /** How far the peer has applied this region's log (a sequence of this region's log). */
  ackedSeq: number;
  /** The peer's position as it reported it: one of this region's log ids and a sequence. */
  position: LogPosition;
  backlog: { entries: number; bytes: number };
  /** Age of the oldest entry the peer has not acknowledged (0 when none). */
  lagMs: number;
  lastAckAt: string | null;
  lastError: string | null;
  state: PeerLinkState;
  /** Entries the peer holds of a log id of ours that this region lost (restore, lost tail). */
  notice: string | null;
  /** Batches on their way or unanswered: how many, their entries and bytes of JSON. */
  inFlight: { batches: number; entries: number; bytes: number };
  /** Object bodies on their way beside the log. */
  bodies: BodyFigures;
}

export interface ShipperDeps {
  self: string;
  peer: PeerAddress;
  log: ChangeLog;
  bodies: ObjectBodies;
  transport: PeerTransport;
  logger: Logger;
  /** The highest state epoch this region knows (sent with every batch). */
  epoch: () => number;
  /** Told when the peer knows a higher epoch than ours (it only prompts a register read). */
  onPeerEpoch: (peer: string, epoch: number) => void;
  /** Told when the peer's durable acknowledgement moves (compaction listens). */
  onAck: (peer: string) => void;
  /** The peer's position as last persisted (undefined: it never acknowledged anything). */
  initial?: LogPosition;
  /** The rebuild mark persisted for the peer, if any. */
  mark?: RebuildMark;
  /** Where rebuild marks are kept (they survive restarts). */
  marks: { markRebuild(mark: RebuildMark): void; clearRebuild(peer: string): void };
  /** Told when the peer is marked as needing a rebuild: where a rebuild starts from. */
  onNeedsRebuild?: (mark: RebuildMark) => void;
  /** The window of batches in flight (default: ship-window.ts's WINDOW). */
  window?: WindowLimits;
  now?: () => number;
}

export class Shipper {
  /** The peer's position in this region's logs, as it last answered (or as persisted). */
  private position: LogPosition;
  /** What the peer has applied and has on disk, as a position (persisted with compactions). */
  private durablePos: LogPosition;
  /** The same two, as sequences of this region's log. */
  private acked: number;
  private durableAcked: number;
  /** Where the batches in flight of the current generation end: the next one follows it. */
  private sentPos: LogPosition;
  /** The window ordinal from which answers were made after `position` was learnt. */
  private positionLearntAt = 0;
  private readonly window: ShipWindow;
  private readonly bodiesOut: BodyShipper;
  private state: PeerLinkState = { kind: 'shipping' };
  private notice: string | null = null;
  private connected = false;
  /** A batch of this round failed (unreachable, refused): the loop backs off. */
  private failed = false;
  /** After a failure, one batch at a time until the peer answers again. */
  private probing = false;
  private lastAckAt: number | null = null;
  private lastError: string | null = null;
  private stopped = false;
  private readonly wake = new Signal();
  private readonly unsubscribe: () => void;
  private loop: Promise<void> | undefined;
  private backoff = BACKOFF_MIN_MS;
  /** Aborted on stop: cuts every request in flight. */
  private readonly stopping = new AbortController();
  /** The first entry after `acked` and after `durableAcked`: looked up once per position, not per scrape. */
  private readonly afterAcked = new EntryAfterMemo();
  private readonly afterDurable = new EntryAfterMemo();

  constructor(private readonly deps: ShipperDeps) {
    this.position = deps.initial ?? { logId: null, seq: 0 };
    this.durablePos = this.position;
    this.sentPos = this.position;
    this.acked = this.sequenceOf(this.position);
    this.durableAcked = this.acked;
    this.window = new ShipWindow(deps.window);
    this.bodiesOut = new BodyShipper({
      peer: deps.peer,
      bodies: deps.bodies,
      transport: deps.transport,
      logger: deps.logger,
      signal: this.stopping.signal,
      ...(deps.now ? { now: deps.now } : {}),
    });
    if (deps.mark) this.state = stateOf(deps.mark);
    // A write leaves the moment it is durable: the batch is launched from the listener
    // itself (no hop through the loop), the loop only told.
    this.unsubscribe = deps.log.onDurable(() => {
      if (this.loop && !this.failed) this.fill();
      this.wake.notify();
    });
  }

  get peer(): string {
    return this.deps.peer.name;
  }

  get ackedSeq(): number {
    return this.acked;
  }

  get durableAckedSeq(): number {
    return this.durableAcked;
  }

  /** The peer's durable position, as persisted with each compaction. */
  get durablePosition(): LogPosition {
    return this.durablePos;
  }

  get linkState(): PeerLinkState {
    return this.state;
  }

  get needsRebuild(): boolean {
    return this.state.kind === 'needs-rebuild';
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    this.stopping.abort();
    this.bodiesOut.stop();
    this.wake.notify();
    await this.loop;
  }

  /**
   * One round of what `start()` runs: fill the window with what is pending (or send a
   * heartbeat) and wait for every answer. Returns whether the peer acknowledged them all.
   */
  async shipOnce(): Promise<boolean> {
    this.failed = false;
    if (this.state.kind === 'needs-rebuild') {
      await this.heartbeatWhileMarked();
    } else {
      if (!this.fill()) this.launch(true);
      await this.window.settled();
    }
    return !this.failed;
  }

  /** Resolves once no object body is waiting or on its way to the peer. */
  bodiesSettled(): Promise<void> {
    return this.bodiesOut.idle();
  }

  /**
   * Bytes of this region's log kept for the peer (after its durable acknowledgement):
   * a subtraction of running totals, no scan.
   */
  retainedBytes(): number {
    const after = this.afterDurable.get(this.deps.log, this.durableAcked);
    return after ? Math.max(0, this.deps.log.durableBytes() - after.bytesBefore) : 0;
  }

  /** Mark the peer as needing a rebuild once more than `capBytes` of the log is kept for it alone. */
  checkRetention(capBytes: number): boolean {
    if (this.state.kind === 'needs-rebuild' || this.retainedBytes() <= capBytes) return false;
    this.markRebuild('retention', retentionMessage(this.peer, capBytes));
    return true;
  }

  figures(): PeerFigures {
    const log = this.deps.log;
    const durableHead = log.durableHead();
    const after = this.afterAcked.get(log, this.acked);
    const pending = after !== undefined && after.seq <= durableHead;
    return {
      name: this.deps.peer.name,
      url: this.deps.peer.url,
      connected: this.connected,
      ackedSeq: this.acked,
      position: this.position,
      backlog: {
        entries: Math.max(0, durableHead - this.acked),
        bytes: pending ? Math.max(0, log.durableBytes() - after.bytesBefore) : 0,
      },
      lagMs: pending ? Math.max(0, this.now() - after.createdAt) : 0,
      lastAckAt: this.lastAckAt === null ? null : new Date(this.lastAckAt).toISOString(),
      lastError: this.lastError,
      state: this.state,
      notice: this.notice,
      inFlight: { batches: this.window.size, entries: this.window.entries, bytes: this.window.bytes },
      bodies: this.bodiesOut.figures(),
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.state.kind === 'needs-rebuild') {
        this.failed = false;
        await this.heartbeatWhileMarked();
        if (!this.stopped) await this.wake.wait(this.failed ? this.nextBackoff() : HEARTBEAT_MS);
        continue;
      }
      const launched = this.fill();
      if (this.failed) {
        // Wait, then probe with one batch (what is still in the air steers nothing).
        await this.wake.wait(this.nextBackoff()).then(() => undefined);
        if (this.stopped) break;
        this.failed = false;
        this.launch(true);
        continue;
      }
      if (this.window.currentSize > 0) {
        await this.wake.wait(HEARTBEAT_MS); // an answer or a newly durable write
        continue;
      }
      if (!launched && this.connected && this.deps.log.durableHead() > this.acked) {
        // Everything sent has been answered, yet the peer is not past it: go on from where it is.
        this.rewind(false);
        if (this.fill()) continue;
      }
      const woken = await this.wake.wait(HEARTBEAT_MS);
      if (this.stopped) break;
      if (!woken && this.window.currentSize === 0) this.launch(true);
    }
  }

  private nextBackoff(): number {
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    return wait;
  }

  /** Launch batches while there is something durable to send and room in the window. Returns whether any left. */
  private fill(): boolean {
    let any = false;
    while (!this.stopped && !this.failed && this.state.kind !== 'needs-rebuild' && this.launch(false)) any = true;
    return any;
  }

  /**
   * Send the next batch after what is in flight, without waiting for its answer. An
   * empty batch (the heartbeat, or a move to a new log id) only with `heartbeat`.
   * Returns whether a batch left.
   */
  private launch(heartbeat: boolean): boolean {
    if (this.state.kind === 'needs-rebuild' || !this.window.hasRoom(this.probing)) return false;
    const log = this.deps.log;
    const plan = planBatch(log.segments(), this.sentPos, log.durableHead());
    const pending = plan.after < plan.upTo;
    if (!pending && !heartbeat && !plan.move) return false;
    if (plan.move && this.window.currentSize > 0) return false; // a move travels alone
    const entries = pending ? log.readRawAfter(plan.after, BATCH_MAX_ENTRIES, BATCH_MAX_BYTES, plan.upTo) : [];
    if (pending && entries[0]?.seq !== plan.after + 1) {
      // Compacted past the peer's position (a new peer, or one restored from an old backup).
      this.markRebuild('compacted', compactedMessage(this.peer, plan.after + 1, log.stats().tail));
      return false;
    }
    const last = entries[entries.length - 1];
    let bytes = 0;
    for (const e of entries) bytes += e.json.length;
    const flight = this.window.open({
      logId: plan.logId,
      after: plan.after,
      last: last?.seq ?? plan.after,
      entries: entries.length,
      bytes,
      launchedAt: this.now(),
      exclusive: plan.move !== undefined,
    });
    this.sentPos = { logId: plan.logId, seq: flight.last };
    for (const e of entries) {
      if (e.kind !== 'object') continue;
      const change = JSON.parse(e.json) as ObjectChange;
      if (change.sha256) this.bodiesOut.want(change.sha256, change.size);
    }
    // Only a batch cut short leaves entries behind: then say how old the first of them is.
    const durableHead = log.durableHead();
    const next = last && last.seq < durableHead ? log.readRawAfter(last.seq, 1)[0] : undefined;
    const head: BatchHead = {
      origin: this.deps.self,
      logId: plan.logId,
      ...(plan.move ? { move: plan.move } : {}),
      originHead: durableHead,
      pendingSince: next?.createdAt ?? null,
      epoch: this.deps.epoch(),
    };
    this.post(head, entries).then(
      (res) => this.answered(flight, res),
      (err: Error) => this.lost(flight, err),
    );
    return true;
  }

  private answered(flight: Flight, res: BatchResponse): void {
    this.window.close(flight);
    try {
      if (this.stopped) return;
      if (res.epoch > this.deps.epoch()) this.deps.onPeerEpoch(this.peer, res.epoch);
      if (!this.connected) this.bodiesOut.reachable();
      for (const sha of res.missingBlobs) this.bodiesOut.want(sha, 0, flight.launchedAt);
      this.connected = true;
      this.lastError = null;
      this.backoff = BACKOFF_MIN_MS;
      this.probing = false;
      if (res.refused) {
        this.refused(res.refused);
        this.lastError = res.refused.message;
        this.rewind(true);
        return;
      }
      if (!this.isNews(flight, res)) return;
      this.accept(res);
      this.positionLearntAt = this.window.nextToLeave;
      // The peer is not where this batch left it: one before it was lost or late, or the
      // receiver did not follow (a move refused, a peer restored): go on from where it is.
      const reached = res.logId === flight.logId && res.applied >= flight.last;
      if (this.window.isCurrent(flight) && !reached) this.rewind(false);
    } finally {
      this.wake.notify();
    }
  }

  private lost(flight: Flight, err: Error): void {
    this.window.close(flight);
    if (!this.stopped && this.window.isCurrent(flight)) {
      if (this.connected || this.lastError === null) {
        this.deps.logger.warn({ peer: this.peer, err: err.message }, 'replication: peer unreachable, backing off');
      }
      this.connected = false;
      this.lastError = err.message;
      this.rewind(true);
    }
    this.wake.notify();
  }

  /** Start again from the peer's position; with `failed`, after a backoff. */
  private rewind(failed: boolean): void {
    this.window.rewind();
    this.sentPos = this.position;
    if (failed) {
      this.failed = true;
      this.probing = true;
    }
  }

  /**
   * Whether an answer tells something new: one made after the current position was
   * learnt is believed (even lower: the peer was restored); an older one, which may
   * have been overtaken by later answers, only if it moves the position on.
   */
  private isNews(flight: Flight, res: BatchResponse): boolean {
    if (flight.ordinal >= this.positionLearntAt) return true;
    return res.logId === this.position.logId && res.applied > this.position.seq;
  }

  /** Take the peer's answer: where it is, and what of it is on its disk. */
  private accept(res: BatchResponse): void {
    const log = this.deps.log;
    const segs = log.segments();
    // Nothing above the durable head was ever shipped: a peer beyond it in the current
    // log id holds entries this log lost. Never accepted as an acknowledgement.
    const head = log.durableHead();
    if (isAheadOfLog(segs, { logId: res.logId, seq: res.applied }, head)) {
      this.markRebuild('diverged', divergedMessage(this.peer, res.applied, segs[segs.length - 1]!.logId, head));
      return;
    }
    if (this.state.kind === 'refused') {
      this.deps.logger.info({ peer: this.peer }, 'replication: the peer accepts our batches again');
      this.state = { kind: 'shipping' };
    }
    this.position = { logId: res.logId, seq: res.applied };
    this.noteLostEntries(segs);
    const applied = this.sequenceOf(this.position);
    if (applied < this.acked) {
      this.deps.logger.warn(
        { peer: this.peer, acked: this.acked, peerApplied: applied, peerLogId: res.logId },
        'replication: peer is behind what it acknowledged; resending',
      );
    }
    this.acked = applied;
    const durablePos = { logId: res.logId, seq: Math.min(res.durable, res.applied) };
    const durable = this.sequenceOf(durablePos);
    if (durable > this.durableAcked || applied < this.durableAcked) {
      this.durableAcked = durable;
      this.durablePos = durablePos;
      this.deps.onAck(this.peer);
    }
    this.lastAckAt = this.now();
  }

  /**
   * While marked: heartbeats that tell the peer it must be rebuilt, and learn where it
   * is. A peer the log can serve again (rebuilt from a snapshot) is shipped to again.
   */
  private async heartbeatWhileMarked(): Promise<void> {
    const state = this.state as Extract<PeerLinkState, { kind: 'needs-rebuild' }>;
    const segs = this.deps.log.segments();
    const res = await this.post(
      {
        origin: this.deps.self,
        logId: segs[segs.length - 1]!.logId,
        originHead: this.deps.log.durableHead(),
        pendingSince: null,
        epoch: this.deps.epoch(),
        rebuild: { reason: state.reason, message: state.message },
      },
      [],
    ).catch((err: Error) => {
      this.connected = false;
      this.lastError = err.message;
      this.failed = true;
      return undefined;
    });
    if (!res || this.stopped) return;
    this.connected = true;
    this.lastError = null;
    this.backoff = BACKOFF_MIN_MS;
    if (res.epoch > this.deps.epoch()) this.deps.onPeerEpoch(this.peer, res.epoch);
    const moved = res.logId !== this.position.logId || res.applied !== this.position.seq;
    this.position = { logId: res.logId, seq: res.applied };
    this.lastAckAt = this.now();
    if (moved && this.servable()) this.resume('the peer is at a position this log can serve again');
  }

  /** Ship to the peer again from the position it reports (after a rebuild), clearing its mark. */
  resume(why: string): void {
    if (this.state.kind !== 'needs-rebuild') return;
    this.deps.logger.info({ peer: this.peer, position: this.position }, `replication: ${why}; shipping resumes`);
    this.deps.marks.clearRebuild(this.peer);
    this.state = { kind: 'shipping' };
    this.acked = this.sequenceOf(this.position);
    this.durableAcked = this.acked;
    this.durablePos = this.position;
    this.rewind(false);
    this.positionLearntAt = this.window.nextToLeave;
    this.wake.notify();
  }

  /**
   * The peer is being rebuilt from a snapshot of this region holding this log up to
   * `position` (src/region/rebuild.ts): its mark is cleared, the log is kept for it from
   * there, and it is shipped to from there once it is back.
   */
  rebuildingFrom(position: LogPosition): void {
    if (this.state.kind === 'needs-rebuild') this.deps.marks.clearRebuild(this.peer);
    this.deps.logger.info(
      { peer: this.peer, position },
      `replication: ${this.peer} is being rebuilt from a snapshot of this region (log ${shortId(position.logId)} up to ${position.seq}); shipping resumes from there`,
    );
    this.state = { kind: 'shipping' };
    this.position = position;
    this.acked = this.sequenceOf(position);
    this.durableAcked = this.acked;
    this.durablePos = position;
    this.rewind(false);
    this.positionLearntAt = this.window.nextToLeave;
    this.deps.onAck(this.peer);
    this.wake.notify();
  }

  /** Whether the log holds everything the peer needs from its position on. */
  private servable(): boolean {
    const segs = this.deps.log.segments();
    if (segmentIndex(segs, this.position.logId) < 0) return false;
    if (isAheadOfLog(segs, this.position, this.deps.log.durableHead())) return false;
    const plan = this.plan();
    if (plan.after >= plan.upTo) return true;
    return this.deps.log.entryAfter(plan.after)?.seq === plan.after + 1;
  }

  private markRebuild(reason: RebuildReason, message: string): void {
    const mark: RebuildMark = { peer: this.peer, reason, message, markedAt: this.now() };
    this.deps.marks.markRebuild(mark);
    this.state = stateOf(mark);
    this.deps.logger.error({ peer: this.peer, reason }, `replication: ${message}`);
    this.deps.onNeedsRebuild?.(mark);
    this.deps.onAck(this.peer); // compaction no longer waits for this peer
  }

  private refused(refusal: BatchRefusal): void {
    if (this.state.kind !== 'refused') {
      this.deps.logger.warn(
        { peer: this.peer, reason: refusal.reason, aheadMs: refusal.aheadMs },
        `replication: ${this.peer} refuses our batches: ${refusal.message}`,
      );
    }
    this.state = {
      kind: 'refused',
      reason: refusal.reason,
      aheadMs: refusal.aheadMs,
      message: `${this.peer} ${clockAheadMessage(refusal.aheadMs)} (this region's clock is ahead of its own)`,
      since: this.state.kind === 'refused' ? this.state.since : new Date(this.now()).toISOString(),
    };
  }

  /** A peer that holds more of a past log id than this region has: say so once, keep going. */
  private noteLostEntries(segs: readonly LogSegment[]): void {
    const lost = lostEntries(segs, this.position);
    if (!lost) return;
    const notice =
      `${this.peer} holds entries ${lost.from}..${lost.to} of log ${shortId(lost.logId)} that this region ` +
      `no longer has (restored from a backup, or an unsynced tail lost): they stay there; it continues with log ${shortId(lost.next)}`;
    if (notice !== this.notice) this.deps.logger.warn({ peer: this.peer }, `replication: ${notice}`);
    this.notice = notice;
  }

  /** A position as a sequence of this region's log (0 for a log id not ours). */
  private sequenceOf(pos: LogPosition): number {
    return sequenceOf(this.deps.log.segments(), pos) ?? 0;
  }

  private plan(): BatchPlan {
    return planBatch(this.deps.log.segments(), this.position, this.deps.log.durableHead());
  }

  /** Posts a batch; the transport splices the entries' stored JSON in (no parse and re-serialise). */
  private post(head: BatchHead, entries: RawLogEntry[]): Promise<BatchResponse> {
    return this.deps.transport.sendBatch(this.deps.peer, head, entries, {
      timeoutMs: BATCH_TIMEOUT_MS,
      signal: this.stopping.signal,
    });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

function stateOf(mark: RebuildMark): PeerLinkState {
  return {
    kind: 'needs-rebuild',
    reason: mark.reason,
    message: mark.message,
    since: new Date(mark.markedAt).toISOString(),
  };
}
