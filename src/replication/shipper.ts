/**
 * @module A shipper per peer: sends the entries of this region's change log after the
 * peer's acknowledged sequence, in batches, as soon as they are committed (woken by
 * the log, no polling interval); streams the object bodies the peer lacks; backs
 * off while the peer is unreachable. An idle shipper sends an empty batch as a
 * heartbeat, so both sides know the link is up and how far behind they are.
 */
import type { Logger } from 'pino';
import type { BlobFiles } from '../adapters/disk/blob-files.js';
import type { ChangeLog, RawLogEntry } from '../adapters/sqlite/change-log.js';
import type { ObjectChange } from '../core/change.js';
import { type PeerClient, PeerRequestError, RawJson } from '../peers/peer-client.js';
import { Signal } from '../util/signal.js';
import { BATCH_PATH, type BatchRequest, type BatchResponse, BLOB_PATH } from './wire.js';

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
  ackedSeq: number;
  backlog: { entries: number; bytes: number };
  /** Age of the oldest entry the peer has not acknowledged (0 when none). */
  lagMs: number;
  lastAckAt: string | null;
  lastError: string | null;
}

export interface ShipperDeps {
  self: string;
  peer: { name: string; url: string };
  log: ChangeLog;
  blobs: BlobFiles;
  client: PeerClient;
  logger: Logger;
  /** The highest state epoch this region knows (sent with every batch). */
  epoch: () => number;
  /** Told when the peer knows a higher epoch than ours. */
  onPeerEpoch: (peer: string, epoch: number) => void;
  /** Told when the peer's durable acknowledgement moves (compaction listens). */
  onAck: (peer: string, seq: number) => void;
  initialAck: number;
  /** The highest sequence of the log known to be on disk: nothing beyond it is shipped. */
  durableHead: () => number;
  now?: () => number;
}

export class Shipper {
  /** What the peer has applied: the next batch starts after it. */
  private acked: number;
  /** What the peer has applied and has on disk: the log may be compacted up to it. */
  private durableAcked: number;
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

  constructor(private readonly deps: ShipperDeps) {
    this.acked = deps.initialAck;
    this.durableAcked = deps.initialAck;
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
    const entries = this.deps.log.readRawAfter(this.acked, BATCH_MAX_ENTRIES, BATCH_MAX_BYTES, this.deps.durableHead());
    try {
      await this.send(entries);
      this.connected = true;
      this.lastError = null;
      this.backoff = BACKOFF_MIN_MS;
      return true;
    } catch (err) {
      if (this.connected || this.lastError === null) {
        this.deps.logger.warn(
          { peer: this.peer, err: (err as Error).message },
          'replication: peer unreachable, backing off',
        );
      }
      this.connected = false;
      this.lastError = (err as Error).message;
      return false;
    }
  }

  figures(): PeerFigures {
    const now = this.now();
    const backlog = this.deps.log.backlogAfter(this.acked);
    return {
      name: this.deps.peer.name,
      url: this.deps.peer.url,
      connected: this.connected,
      ackedSeq: this.acked,
      backlog: { entries: backlog.entries, bytes: backlog.bytes },
      lagMs: backlog.oldestAt === null ? 0 : Math.max(0, now - backlog.oldestAt),
      lastAckAt: this.lastAckAt === null ? null : new Date(this.lastAckAt).toISOString(),
      lastError: this.lastError,
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const pending = this.deps.durableHead() > this.acked;
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

  private async send(entries: RawLogEntry[]): Promise<void> {
    const { log, peer, self } = this.deps;
    const last = entries[entries.length - 1];
    const durableHead = this.deps.durableHead();
    // Only a batch cut short leaves entries behind: then say how old the first of them is.
    const next = last && last.seq < durableHead ? log.readRawAfter(last.seq, 1)[0] : undefined;
    const head: Omit<BatchRequest, 'entries'> = {
      origin: self,
      originHead: durableHead,
      pendingSince: next?.createdAt ?? null,
      epoch: this.deps.epoch(),
    };
    let res = await this.post(head, entries);
    if (res.missingBlobs.length > 0) {
      const sizes = new Map<string, number>();
      for (const e of entries) {
        if (e.kind !== 'object') continue;
        const change = JSON.parse(e.json) as ObjectChange;
        if (change.sha256) sizes.set(change.sha256, change.size);
      }
      await eachConcurrently(res.missingBlobs, BLOB_STREAMS, (sha) => this.sendBlob(sha, sizes.get(sha) ?? 0));
      res = await this.post(
        head,
        entries.filter((e) => e.seq > res.applied),
      );
    }
    if (res.epoch > this.deps.epoch()) this.deps.onPeerEpoch(peer.name, res.epoch);
    if (res.applied !== this.acked) {
      if (res.applied < this.acked) {
        this.deps.logger.warn(
          { peer: peer.name, acked: this.acked, peerApplied: res.applied },
          'replication: peer is behind what it acknowledged; resending',
        );
        const tail = log.stats().tail;
        if (res.applied + 1 < tail)
          throw new Error(
            `${peer.name} needs entries from ${res.applied + 1}, but the log starts at ${tail}: it needs a full resync`,
          );
      }
      this.acked = res.applied;
    }
    const durable = Math.min(res.durable, res.applied);
    if (durable > this.durableAcked || res.applied < this.durableAcked) {
      this.durableAcked = durable;
      this.deps.onAck(peer.name, durable);
    }
    this.lastAckAt = this.now();
  }

  /** Posts a batch, its entries' changes spliced in as stored (no parse and re-serialise). */
  private async post(head: Omit<BatchRequest, 'entries'>, entries: RawLogEntry[]): Promise<BatchResponse> {
    const items = entries.map(
      (e) => `{"seq":${e.seq},"createdAt":${e.createdAt},"bytes":${e.bytes},"change":${e.json}}`,
    );
    const text = `${JSON.stringify(head).slice(0, -1)},"entries":[${items.join(',')}]}`;
    return this.deps.client.call<BatchResponse>(this.deps.peer.url, 'POST', BATCH_PATH, new RawJson(text), {
      timeoutMs: BATCH_TIMEOUT_MS,
      signal: this.stopping.signal,
    });
  }

  private async sendBlob(sha256: string, size: number): Promise<void> {
    try {
      await this.deps.client.call(this.deps.peer.url, 'PUT', `${BLOB_PATH}${sha256}`, undefined, {
        stream: { body: this.deps.blobs.read(sha256), sha256, size },
        timeoutMs: 60_000 + Math.ceil(size / 1000),
        signal: this.stopping.signal,
      });
    } catch (err) {
      if (err instanceof PeerRequestError && err.status === 404)
        throw new Error(`body ${sha256} is missing here: cannot ship it`);
      throw err;
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
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
