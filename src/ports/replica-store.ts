/**
 * @module Replica-store port: what replication keeps in a region's storage besides the
 * change log (DESIGN §5): applying another region's changes last-writer-wins, the
 * progress per origin and per peer, the peers marked as needing a rebuild, the
 * conflict log and the digests `mraa verify` compares. The embedded adapter is
 * src/adapters/sqlite/replica-store.ts; the shipper and applier are unit-tested
 * against an in-memory fake (src/replication/testing/fakes.ts).
 *
 * Contract:
 * - `transaction(work)` runs `work` atomically: the changes it applies, the conflicts
 *   it records and the progress it sets commit together or not at all (an exception
 *   rolls everything back). Work is synchronous.
 * - `applyItem`/`applyObject` are idempotent: the same version twice is `duplicate`.
 *   A version that loses to the stored one by (epoch, hlc, region) is `stale` (items:
 *   nothing written) or `not-latest` (objects: kept as an older version, as S3 keeps
 *   every version). An object whose body is not stored yet throws MissingBodyError and
 *   writes nothing.
 * - `durable()` resolves once every committed transaction is on disk; `force` syncs even
 *   when this process has committed nothing (what an earlier process left).
 * - Progress per origin is a position in one of the origin's logs: (log id, sequence).
 *   A null log id is the origin's first log (progress kept before log ids existed, or
 *   none yet). `recordBarrier` works on an origin never heard of before.
 * - An object entry whose body has not arrived is parked (`parkObject`, inside the
 *   applying transaction, so the position moves past it) and applied once the body is
 *   there (`parkedFor`, `unpark`): the entries after it are not held behind it. Parked
 *   entries count as references to their body (it is never collected).
 * - Acknowledgements are kept per peer as the position the peer reported on disk.
 * - A rebuild mark stays until cleared: it survives restarts.
 */
import type { ItemChange, ObjectChange } from '../core/change.js';
import type { ObjectVersion } from './object-store.js';
import type { StoredItem } from './table-store.js';

/** An object's body has not arrived: ask the origin for it, apply the rest later. */
export class MissingBodyError extends Error {
  constructor(readonly sha256: string) {
    super(`body ${sha256} has not arrived`);
    this.name = 'MissingBodyError';
  }
}

export interface OriginProgress {
  origin: string;
  /** The origin's log this region follows (null: the origin's first log). */
  logId: string | null;
  /** The highest sequence of that log applied here. */
  seq: number;
  barrierEpoch: number;
  barrierSeq: number;
  /** The origin's log head as it last reported it. */
  originHead: number;
  /** 0 until the origin was heard from. */
  updatedAt: number;
}

export interface PeerAck {
  peer: string;
  /** The log id of ours the peer was following (null: our first log). */
  logId: string | null;
  seq: number;
  ackedAt: number;
}

/** Why a peer can no longer be brought up to date from this region's log. */
export type RebuildReason =
  /** It fell further behind than the retention cap allows: its entries were compacted. */
  | 'retention'
  /** It needs entries the log no longer holds (new peer, empty or stale data directory). */
  | 'compacted'
  /** It reports having applied more of this region's current log than exists. */
  | 'diverged';

export interface RebuildMark {
  peer: string;
  reason: RebuildReason;
  /** The sentence shown to operators. */
  message: string;
  markedAt: number;
}

/** An object entry of an origin's log kept until its body arrives. */
export interface ParkedObject {
  origin: string;
  logId: string;
  seq: number;
  change: ObjectChange;
}

export type ItemApplyOutcome =
  | { outcome: 'applied' }
  | { outcome: 'duplicate' }
  | { outcome: 'stale'; current: StoredItem };

export type ObjectApplyOutcome = 'applied' | 'duplicate' | 'not-latest';

export interface ConflictRecord {
  id: number;
  detectedAt: string;
  kind: 'item' | 'object';
  /** Table or bucket. */
  name: string;
  key: string;
  /** The region whose write lost. */
  origin: string;
  loser: unknown;
  winner: unknown;
}

export type NewConflict = Omit<ConflictRecord, 'id' | 'detectedAt'>;

export interface DataDigest {
  tables: Record<string, { items: number; live: number; digest: string }>;
  buckets: Record<string, { versions: number; digest: string }>;
}

export type KeyFingerprints = Record<string, string>;

/** Applying a peer's changes, in one transaction with the progress. */
export interface ReplicaApply {
  transaction<T>(work: () => T): T;
  durable(options?: { force?: boolean }): Promise<void>;
  applyItem(change: ItemChange): ItemApplyOutcome;
  applyObject(change: ObjectChange): ObjectApplyOutcome;
  latestObject(bucket: string, key: string): ObjectVersion | undefined;
}

/** Object entries waiting for their body (DESIGN §5: bodies travel beside the log). */
export interface ParkedObjects {
  /** Inside the applying transaction. */
  parkObject(parked: ParkedObject): void;
  /** Every parked entry waiting for this body, in log order. */
  parkedFor(sha256: string): ParkedObject[];
  unpark(parked: Pick<ParkedObject, 'origin' | 'logId' | 'seq'>): void;
  /** Bodies `origin`'s parked entries wait for, oldest first, at most `limit`. */
  parkedBodies(origin: string, limit: number): Array<{ sha256: string; size: number }>;
  /** Parked entries of `origin` at or below `throughSeq` (all without it), and their bodies' bytes. */
  parkedCount(origin: string, throughSeq?: number): { entries: number; bytes: number };
}

export interface ReplicaProgress {
  progress(origin: string): OriginProgress;
  /** Inside the applying transaction: the position reached in `origin`'s log `logId`. */
  setApplied(origin: string, logId: string | null, seq: number, originHead: number, now: number): void;
  recordBarrier(origin: string, epoch: number, seq: number): void;
  acks(): Map<string, PeerAck>;
  recordAcks(acks: readonly PeerAck[]): void;
  rebuildMarks(): Map<string, RebuildMark>;
  markRebuild(mark: RebuildMark): void;
  clearRebuild(peer: string): void;
}

export interface ConflictStore {
  recordConflict(conflict: NewConflict): void;
  conflicts(afterId: number, limit: number): ConflictRecord[];
  conflictCount(): number;
}

export interface ReplicaDigests {
  /** One digest per table and bucket (region-local tables left out). */
  digest(): DataDigest;
  /** Per key of one table or bucket, a fingerprint of its stored version(s). */
  keyFingerprints(kind: 'table' | 'bucket', name: string): KeyFingerprints;
  /** Whether any object version refers to the body (unreferenced bodies are collected). */
  isBodyReferenced(sha256: string): boolean;
}

export interface ReplicaStore extends ReplicaApply, ParkedObjects, ReplicaProgress, ConflictStore, ReplicaDigests {}
