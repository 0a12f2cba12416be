/**
 * @module Peer-transport port: how replication reaches another region (DESIGN §5),
 * and the messages it exchanges. The HTTP adapter is src/peers/peer-transport.ts
 * (signed requests and signed answers, src/peers/peer-auth.ts); the shipper and the
 * applier are unit-tested with an in-memory transport that hands batches straight to
 * an applier.
 *
 * Contract:
 * - Every answer a method resolves with came from a region holding the replication
 *   key and answers this very request: nobody on the path can forge `applied` or
 *   `durable`. Anything else rejects.
 * - A rejection is transient (unreachable, timed out, refused): the caller retries.
 * - `sendBatch` sends entries as stored (their JSON is not parsed again).
 * - `sendBody` streams a body; the peer checks its SHA-256. `hasBody` asks whether the
 *   peer already holds one (before a large body is sent).
 * - Several `sendBatch` calls may be in flight at once and may arrive out of order;
 *   the receiver applies a batch only after the one before it (DESIGN §5).
 */
import type { Readable } from 'node:stream';
import type { LogEntry } from '../core/change.js';
import type { RawLogEntry } from './change-log.js';

export const BATCH_PATH = '/internal/replication/batch';
export const BODY_PATH = '/internal/replication/blobs/';
export const POSITION_PATH = '/internal/replication/position/';
export const DRAIN_PATH = '/internal/drain';

export interface PeerAddress {
  name: string;
  url: string;
}

/** A position in one of a region's logs: its log id (null: its first log) and a sequence. */
export interface LogPosition {
  logId: string | null;
  seq: number;
}

export interface BatchHead {
  origin: string;
  /** The origin's log the entries belong to. */
  logId: string;
  /**
   * Move the receiver to `logId` first, compare-and-set: only if its position in the
   * origin's log is exactly `from`; it is then at sequence `at` of `logId`. Otherwise
   * nothing is applied and the answer tells where it is.
   */
  move?: { from: LogPosition; at: number };
  /** The origin's log head when the batch was read. */
  originHead: number;
  /** Commit time of the first entry the origin has not sent yet (null: the batch reaches its head). */
  pendingSince: number | null;
  /** The newest state epoch the origin knows: a receiver that knows less reads the register. */
  epoch: number;
  /** Set while the origin cannot bring the receiver up to date from its log. */
  rebuild?: { reason: string; message: string };
}

export interface BatchRequest extends BatchHead {
  entries: LogEntry[];
}

/** Why a receiver refused a whole batch (nothing of it applied, nothing adopted). */
export interface BatchRefusal {
  reason: 'clock_ahead';
  /** How far the batch's clock is ahead of the receiver's wall clock. */
  aheadMs: number;
  message: string;
}

export interface BatchResponse {
  /** The receiver's position in the origin's logs after this batch: the next batch starts after it. */
  logId: string | null;
  applied: number;
  /** The highest sequence of `logId` applied and on the receiver's disk: the origin may compact up to here. */
  durable: number;
  /**
   * Bodies the receiver waits for: object entries whose body has not arrived are kept
   * (parked) and applied once it has; the entries after them are applied meanwhile.
   */
  missingBlobs: string[];
  epoch: number;
  refused?: BatchRefusal;
}

export interface Backlog {
  entries: number | null;
  bytes: number | null;
}

export interface DrainStatus {
  drained: boolean;
  /** Entries and bytes of the fenced writer's log not yet applied by the target, when known. */
  backlog: Backlog;
  /** The sequence of the fenced writer's log the target has applied up to. */
  applied?: number;
  /** Object entries applied up to the barrier but still waiting for their body. */
  bodiesPending?: number;
}

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The body the origin was asked for is not stored here: it cannot be shipped. */
export class BodyNotHereError extends Error {
  constructor(readonly sha256: string) {
    super(`body ${sha256} is missing here: cannot ship it`);
    this.name = 'BodyNotHereError';
  }
}

export interface PeerTransport {
  sendBatch(
    peer: PeerAddress,
    head: BatchHead,
    entries: readonly RawLogEntry[],
    options: CallOptions,
  ): Promise<BatchResponse>;
  sendBody(
    peer: PeerAddress,
    body: { sha256: string; size: number; stream: Readable },
    options: CallOptions,
  ): Promise<void>;
  /** Whether `peer` already holds the body. */
  hasBody(peer: PeerAddress, sha256: string, options: CallOptions): Promise<boolean>;
  /** Where `peer` is in `origin`'s logs (the start-up check of a log's identity). */
  position(peer: PeerAddress, origin: string, options: CallOptions): Promise<LogPosition>;
  /** Whether `peer` has applied `from`'s log up to its barrier for `epoch`. */
  drainStatus(peer: PeerAddress, from: string, epoch: number, options: CallOptions): Promise<DrainStatus>;
}
