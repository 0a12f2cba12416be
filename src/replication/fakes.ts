/**
 * @module In-memory fakes of the ports replication stands on (change log, object
 * bodies, replica store, peer transport), for the shipper's and the applier's unit
 * tests: no SQLite, no HTTP. They keep the ports' contracts, simply.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Change, ItemChange, ObjectChange } from '../core/change.js';
import { DomainError } from '../core/errors.js';
import { compareVersions } from '../core/version.js';
import type { ChangeLog, EntryAfter, LogSegment, LogStats, RawLogEntry } from '../ports/change-log.js';
import type { ObjectBodies, StoredBody } from '../ports/object-bodies.js';
import type { ObjectVersion } from '../ports/object-store.js';
import type { LogPosition } from '../ports/peer-transport.js';
import {
  type ConflictRecord,
  type DataDigest,
  type ItemApplyOutcome,
  MissingBodyError,
  type NewConflict,
  type ObjectApplyOutcome,
  type OriginProgress,
  type ParkedObject,
  type PeerAck,
  type RebuildMark,
  type ReplicaStore,
} from '../ports/replica-store.js';
import type { StoredItem } from '../ports/table-store.js';

let ids = 0;
/** A log id: 32 hex digits, different each call. */
export function newLogId(): string {
  ids++;
  return createHash('sha256').update(`log-${ids}-${Math.random()}`).digest('hex').slice(0, 32);
}

export class MemoryLog implements ChangeLog {
  readonly entries: RawLogEntry[] = [];
  private headSeq = 0;
  private bytesTotal = 0;
  private durable = { head: 0, bytes: 0 };
  private readonly listeners = new Set<(head: number) => void>();
  private segs: LogSegment[] = [{ logId: newLogId(), base: 0, startedAt: 0, reason: 'created' }];
  private held: string | undefined;
  /** How many point lookups were made (a scrape must not scale with the backlog). */
  lookups = 0;
  /** false: entries become durable only by `makeDurable()`. */
  autoDurable = true;

  constructor(private readonly now: () => number = Date.now) {}

  append(change: Change, extraBytes = 0): number {
    if (this.held !== undefined) throw new DomainError('unavailable', this.held);
    const json = JSON.stringify(change);
    const bytes = Buffer.byteLength(json) + extraBytes;
    this.headSeq++;
    this.bytesTotal += bytes;
    this.entries.push({
      seq: this.headSeq,
      createdAt: this.now(),
      bytes,
      bytesThrough: this.bytesTotal,
      kind: change.kind,
      json,
    });
    if (this.autoDurable) this.makeDurable();
    return this.headSeq;
  }

  makeDurable(): void {
    this.durable = { head: this.headSeq, bytes: this.bytesTotal };
    for (const l of this.listeners) l(this.headSeq);
  }

  head(): number {
    return this.headSeq;
  }

  durableHead(): number {
    return this.durable.head;
  }

  durableBytes(): number {
    return this.durable.bytes;
  }

  onDurable(listener: (head: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  segments(): readonly LogSegment[] {
    return this.segs;
  }

  startNewLogId(reason: string): LogSegment {
    const segment = { logId: newLogId(), base: this.headSeq, startedAt: this.now(), reason };
    this.segs = [...this.segs, segment];
    return segment;
  }

  /** What a restore from a backup does: the log as it was at `seq` (later entries gone). */
  truncateTo(seq: number): void {
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.seq > seq) this.entries.pop();
    this.headSeq = seq;
    this.bytesTotal = this.entries[this.entries.length - 1]?.bytesThrough ?? 0;
    this.durable = { head: seq, bytes: this.bytesTotal };
  }

  readRawAfter(seq: number, limit: number, maxBytes = Infinity, upTo = Number.MAX_SAFE_INTEGER): RawLogEntry[] {
    const out: RawLogEntry[] = [];
    let bytes = 0;
    for (const e of this.entries) {
      if (e.seq <= seq || e.seq > upTo) continue;
      if (out.length >= limit || (out.length > 0 && bytes + e.json.length > maxBytes)) break;
      bytes += e.json.length;
      out.push(e);
    }
    return out;
  }

  entryAfter(seq: number): EntryAfter | undefined {
    this.lookups++;
    const e = this.entries.find((x) => x.seq > seq);
    return e ? { seq: e.seq, createdAt: e.createdAt, bytesBefore: e.bytesThrough - e.bytes } : undefined;
  }

  stats(): LogStats {
    const tail = this.entries[0]?.seq;
    return tail === undefined
      ? { head: this.headSeq, tail: this.headSeq + 1, entries: 0 }
      : { head: this.headSeq, tail, entries: this.entries.length };
  }

  compactThrough(seq: number): number {
    const before = this.entries.length;
    while (this.entries.length > 0 && this.entries[0]!.seq <= seq) this.entries.shift();
    return before - this.entries.length;
  }

  holdAppends(reason: string): void {
    this.held = reason;
  }

  releaseAppends(): void {
    this.held = undefined;
  }
}

export class MemoryBodies implements ObjectBodies {
  readonly bodies = new Map<string, Buffer>();

  async exists(sha256: string): Promise<boolean> {
    return this.bodies.has(sha256);
  }

  async size(sha256: string): Promise<number | undefined> {
    return this.bodies.get(sha256)?.length;
  }

  read(sha256: string): Readable {
    const body = this.bodies.get(sha256);
    if (!body) throw new Error(`ENOENT: ${sha256}`);
    return Readable.from([body]);
  }

  async write(body: Readable, options: { expectSha256: string }): Promise<{ sha256: string; size: number }> {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c as Buffer));
    const data = Buffer.concat(chunks);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (sha256 !== options.expectSha256) throw new Error('body does not match its digest');
    this.bodies.set(sha256, data);
    return { sha256, size: data.length };
  }

  /** Store a body as a local upload would; returns its digest. */
  put(data: string): string {
    const buf = Buffer.from(data);
    const sha256 = createHash('sha256').update(buf).digest('hex');
    this.bodies.set(sha256, buf);
    return sha256;
  }

  release(): void {}

  isHeld(): boolean {
    return false;
  }

  async *list(): AsyncIterable<StoredBody> {
    for (const [sha256, b] of this.bodies) yield { sha256, size: b.length, mtimeMs: 0 };
  }

  async remove(sha256: string): Promise<void> {
    this.bodies.delete(sha256);
  }
}

interface StoreState {
  items: Map<string, StoredItem>;
  objects: Map<string, ObjectVersion[]>;
  progress: Map<string, OriginProgress>;
  conflicts: ConflictRecord[];
  parked: ParkedObject[];
}

export class MemoryReplicaStore implements ReplicaStore {
  private state: StoreState = { items: new Map(), objects: new Map(), progress: new Map(), conflicts: [], parked: [] };
  private readonly ackRows = new Map<string, PeerAck>();
  private readonly marks = new Map<string, RebuildMark>();
  private depth = 0;
  /** Resolvers of `durable()` calls, when `manualSync` is set; else they resolve at once. */
  readonly syncs: Array<() => void> = [];
  manualSync = false;

  constructor(readonly bodies: MemoryBodies = new MemoryBodies()) {}

  transaction<T>(work: () => T): T {
    if (this.depth > 0) return work();
    const before = structuredClone(this.state);
    this.depth++;
    try {
      return work();
    } catch (err) {
      this.state = before;
      throw err;
    } finally {
      this.depth--;
    }
  }

  durable(): Promise<void> {
    if (!this.manualSync) return Promise.resolve();
    return new Promise((resolve) => this.syncs.push(resolve));
  }

  applyItem(change: ItemChange): ItemApplyOutcome {
    const id = `${change.table}/${change.key}`;
    const before = this.state.items.get(id);
    if (before) {
      const order = compareVersions(change.version, before.version);
      if (order === 0) return { outcome: 'duplicate' };
      if (order < 0) return { outcome: 'stale', current: before };
    }
    this.state.items.set(id, { key: change.key, item: change.item, version: change.version } as StoredItem);
    return { outcome: 'applied' };
  }

  item(table: string, key: string): StoredItem | undefined {
    return this.state.items.get(`${table}/${key}`);
  }

  applyObject(change: ObjectChange): ObjectApplyOutcome {
    const id = `${change.bucket}/${change.key}`;
    const versions = this.state.objects.get(id) ?? [];
    if (versions.some((v) => v.versionId === change.versionId)) return 'duplicate';
    if (change.sha256 !== null && !this.bodies.bodies.has(change.sha256)) throw new MissingBodyError(change.sha256);
    const { kind: _kind, ...version } = change;
    versions.push(version);
    versions.sort((a, b) => compareVersions(b.version, a.version));
    this.state.objects.set(id, versions);
    return versions[0]!.versionId === change.versionId ? 'applied' : 'not-latest';
  }

  latestObject(bucket: string, key: string): ObjectVersion | undefined {
    return this.state.objects.get(`${bucket}/${key}`)?.[0];
  }

  progress(origin: string): OriginProgress {
    return (
      this.state.progress.get(origin) ?? {
        origin,
        logId: null,
        seq: 0,
        barrierEpoch: 0,
        barrierSeq: 0,
        originHead: 0,
        updatedAt: 0,
      }
    );
  }

  setApplied(origin: string, logId: string | null, seq: number, originHead: number, now: number): void {
    const row = this.progress(origin);
    this.state.progress.set(origin, {
      ...row,
      logId,
      seq,
      originHead: Math.max(row.originHead, originHead),
      updatedAt: now,
    });
  }

  /** What a restore of this region from a backup does to its progress. */
  resetProgress(origin: string, position: LogPosition): void {
    this.state.progress.set(origin, { ...this.progress(origin), logId: position.logId, seq: position.seq });
  }

  recordBarrier(origin: string, epoch: number, seq: number): void {
    const row = this.progress(origin);
    this.state.progress.set(origin, { ...row, barrierEpoch: Math.max(row.barrierEpoch, epoch), barrierSeq: seq });
  }

  acks(): Map<string, PeerAck> {
    return new Map(this.ackRows);
  }

  recordAcks(acks: readonly PeerAck[]): void {
    for (const a of acks) this.ackRows.set(a.peer, a);
  }

  rebuildMarks(): Map<string, RebuildMark> {
    return new Map(this.marks);
  }

  markRebuild(mark: RebuildMark): void {
    this.marks.set(mark.peer, mark);
  }

  clearRebuild(peer: string): void {
    this.marks.delete(peer);
  }

  recordConflict(c: NewConflict): void {
    this.state.conflicts.push({ ...c, id: this.state.conflicts.length + 1, detectedAt: new Date(0).toISOString() });
  }

  conflicts(afterId = 0, limit = 100): ConflictRecord[] {
    return this.state.conflicts.filter((c) => c.id > afterId).slice(0, limit);
  }

  conflictCount(): number {
    return this.state.conflicts.length;
  }

  digest(): DataDigest {
    return { tables: {}, buckets: {} };
  }

  keyFingerprints(): Record<string, string> {
    return {};
  }

  isBodyReferenced(sha256: string): boolean {
    return (
      this.state.parked.some((p) => p.change.sha256 === sha256) ||
      [...this.state.objects.values()].some((vs) => vs.some((v) => v.sha256 === sha256))
    );
  }

  parkObject(parked: ParkedObject): void {
    if (this.state.parked.some((p) => samePlace(p, parked))) return;
    this.state.parked.push(structuredClone(parked));
  }

  parkedFor(sha256: string): ParkedObject[] {
    return this.state.parked.filter((p) => p.change.sha256 === sha256).map((p) => structuredClone(p));
  }

  unpark(parked: Pick<ParkedObject, 'origin' | 'logId' | 'seq'>): void {
    this.state.parked = this.state.parked.filter((p) => !samePlace(p, parked));
  }

  parkedBodies(origin: string, limit: number): Array<{ sha256: string; size: number }> {
    const out = new Map<string, number>();
    for (const p of this.state.parked)
      if (p.origin === origin && p.change.sha256) out.set(p.change.sha256, p.change.size);
    return [...out].slice(0, limit).map(([sha256, size]) => ({ sha256, size }));
  }

  parkedCount(origin: string, throughSeq = Number.MAX_SAFE_INTEGER): { entries: number; bytes: number } {
    const mine = this.state.parked.filter((p) => p.origin === origin && p.seq <= throughSeq);
    return { entries: mine.length, bytes: mine.reduce((n, p) => n + p.change.size, 0) };
  }
}

function samePlace(
  a: Pick<ParkedObject, 'origin' | 'logId' | 'seq'>,
  b: Pick<ParkedObject, 'origin' | 'logId' | 'seq'>,
) {
  return a.origin === b.origin && a.logId === b.logId && a.seq === b.seq;
}
