/**
 * @module A shipper per peer: sends the entries of this region's change log after the
 * peer's position, in batches, as soon as they are durable (woken by the log, no
 * polling interval); streams the object bodies the peer lacks; backs off while the
 * peer is unreachable. An idle shipper sends an empty batch as a heartbeat, so both
 * sides know the link is up and how far behind they are.
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
import {
  type BatchHead,
  type BatchRefusal,
  type BatchResponse,
  BodyNotHereError,
  type LogPosition,
  type PeerAddress,
  type PeerTransport,
} from '../ports/peer-transport.js';
import type { RebuildMark, RebuildReason } from '../ports/replica-store.js';
import { Signal } from '../util/signal.js';
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

export const BATCH_MAX_ENTRIES = 1000;
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;
export const HEARTBEAT_MS = 1000;
/** A batch not answered in this time is abandoned and sent again (it is idempotent). */
export const BATCH_TIMEOUT_MS = 5000;
export const BACKOFF_MIN_MS = 50;
export const BACKOFF_MAX_MS = 2000;
/** Object bodies a shipper streams to its peer at once. */
export const BLOB_STREAMS = 3;

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
  now?: () => number;
}

/** The peer refused a whole batch: nothing of it was applied. */
class BatchRefusedError extends Error {
  constructor(readonly refusal: BatchRefusal) {
    super(refusal.message);
  }
}

export class Shipper {
  /** The peer's position in this region's logs, as it last answered (or as persisted). */
  private position: LogPosition;
  /** What the peer has applied and has on disk, as a position (persisted with compactions). */
  private durablePos: LogPosition;
  /** The same two, as sequences of this region's log. */
  private acked: number;
  private durableAcked: number;
  private state: PeerLinkState = { kind: 'shipping' };
  private notice: string | null = null;
  private connected = false;
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
    this.acked = this.sequenceOf(this.position);
    this.durableAcked = this.acked;
    if (deps.mark) this.state = stateOf(deps.mark);
    this.unsubscribe = deps.log.onDurable(() => this.wake.notify());
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
    this.wake.notify();
    await this.loop;
  }

  /**
   * One step of the loop that `start()` runs: ship one batch of what is pending (an
   * empty batch is the heartbeat). Returns whether the peer acknowledged.
   */
  async shipOnce(): Promise<boolean> {
    try {
      if (this.state.kind === 'needs-rebuild') await this.heartbeatWhileMarked();
      else await this.shipPlanned();
      this.connected = true;
      this.lastError = null;
      this.backoff = BACKOFF_MIN_MS;
      return true;
    } catch (err) {
      if (err instanceof BatchRefusedError) {
        this.connected = true;
        this.refused(err.refusal);
      } else {
        if (this.connected || this.lastError === null) {
          this.deps.logger.warn(
            { peer: this.peer, err: (err as Error).message },
            'replication: peer unreachable, backing off',
          );
        }
        this.connected = false;
      }
      this.lastError = (err as Error).message;
      return false;
    }
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
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const pending = this.state.kind !== 'needs-rebuild' && this.deps.log.durableHead() > this.acked;
      if (!pending && this.connected) {
        const woken = await this.wake.wait(HEARTBEAT_MS);
        if (this.stopped) break;
        if (woken) continue;
      }
      const ok = await this.shipOnce();
      if (!ok && !this.stopped) {
        await this.wake.wait(this.backoff).then(() => undefined);
        this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
      }
    }
  }

  private async shipPlanned(): Promise<void> {
    const plan = this.plan();
    const entries =
      plan.after < plan.upTo
        ? this.deps.log.readRawAfter(plan.after, BATCH_MAX_ENTRIES, BATCH_MAX_BYTES, plan.upTo)
        : [];
    if (plan.after < plan.upTo && entries[0]?.seq !== plan.after + 1) {
      // Compacted past the peer's position (a new peer, or one restored from an old backup).
      const tail = this.deps.log.stats().tail;
      this.markRebuild('compacted', compactedMessage(this.peer, plan.after + 1, tail));
      return;
    }
    await this.send(plan, entries);
  }

  private async send(plan: BatchPlan, entries: RawLogEntry[]): Promise<void> {
    const { log, peer, self } = this.deps;
    const last = entries[entries.length - 1];
    const durableHead = log.durableHead();
    // Only a batch cut short leaves entries behind: then say how old the first of them is.
    const next = last && last.seq < durableHead ? log.readRawAfter(last.seq, 1)[0] : undefined;
    const head: BatchHead = {
      origin: self,
      logId: plan.logId,
      ...(plan.move ? { move: plan.move } : {}),
      originHead: durableHead,
      pendingSince: next?.createdAt ?? null,
      epoch: this.deps.epoch(),
    };
    let res = await this.post(head, entries);
    if (res.missingBlobs.length > 0 && !res.refused) {
      const sizes = new Map<string, number>();
      for (const e of entries) {
        if (e.kind !== 'object') continue;
        const change = JSON.parse(e.json) as ObjectChange;
        if (change.sha256) sizes.set(change.sha256, change.size);
      }
      await eachConcurrently(res.missingBlobs, BLOB_STREAMS, (sha) => this.sendBody(sha, sizes.get(sha) ?? 0));
      // The move (if any) is done: send the rest in the log the receiver now follows.
      if (res.logId === plan.logId) {
        const { move: _done, ...rest } = head;
        res = await this.post(
          rest,
          entries.filter((e) => e.seq > res.applied),
        );
      }
    }
    if (res.epoch > this.deps.epoch()) this.deps.onPeerEpoch(peer.name, res.epoch);
    if (res.refused) throw new BatchRefusedError(res.refused);
    this.accept(res);
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
    );
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

  private async sendBody(sha256: string, size: number): Promise<void> {
    if (!(await this.deps.bodies.exists(sha256))) throw new BodyNotHereError(sha256);
    await this.deps.transport.sendBody(
      this.deps.peer,
      { sha256, size, stream: this.deps.bodies.read(sha256) },
      { timeoutMs: 60_000 + Math.ceil(size / 1000), signal: this.stopping.signal },
    );
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

async function eachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
