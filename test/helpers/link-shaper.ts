/**
 * @module One direction of a long link between two regions, for the fault proxy
 * (fault-proxy.ts): a one-way propagation delay and an optional bandwidth cap.
 *
 * Each connection has a `Flow` per direction: an in-order queue with one timer, so a
 * chunk read at t is written at t + delay however many chunks are in flight (pipelined,
 * not stop-and-go). With a cap, the `Link` (shared by every connection in that
 * direction) grants link time to pieces of at most `PIECE_BYTES`, round-robin among the
 * connections with bytes waiting (like fq on a router): a piece leaves the link at the
 * time it got it + bytes / cap, and is written delay ms later. Link time is kept on a
 * virtual clock, so late timers lose no throughput.
 *
 * A chunk keeps the delay of the moment it was read; a new cap applies to link time
 * granted from then on (removing it lets every waiting piece go at once).
 * With no delay and no cap, a chunk is written synchronously by `send`.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** The largest piece the link serialises at once. */
export const PIECE_BYTES = 16 * 1024;
/** Queued-but-unwritten bytes of one connection and direction above which its source is paused. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

interface Piece {
  buf: Buffer;
  readAt: number;
  delayMs: number;
}

/** A piece past the link, written at `dueAt`; `buf: null` is the sender's FIN. */
interface InFlight {
  buf: Buffer | null;
  dueAt: number;
}

/** One direction of the link: its settings, its counter, and the link time it shares out. */
export class Link {
  delayMs = 0;
  bandwidthBytesPerSec: number | null = null;
  /** Bytes written to the far side. */
  bytes = 0;
  /** Bytes read and dropped (blackhole). */
  dropped = 0;
  /** Bytes read and not yet written, over all connections. */
  queued = 0;
  private readonly ring: Flow[] = [];
  private busyUntil = 0;
  private timer: NodeJS.Timeout | undefined;

  flow(from: Socket, to: Socket): Flow {
    return new Flow(this, from, to);
  }

  setBandwidth(bytesPerSec: number | null): void {
    this.bandwidthBytesPerSec = bytesPerSec;
    this.pump();
  }

  /** Puts a flow with waiting pieces in the round-robin ring. */
  request(flow: Flow): void {
    if (!this.ring.includes(flow)) this.ring.push(flow);
    this.pump();
  }

  forget(flow: Flow): void {
    const i = this.ring.indexOf(flow);
    if (i >= 0) this.ring.splice(i, 1);
    if (this.ring.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Grants the link, one piece per flow in turn, to every piece whose turn has come. */
  private pump(): void {
    const now = performance.now();
    const cap = this.bandwidthBytesPerSec;
    while (this.ring.length > 0 && (cap === null || this.busyUntil <= now)) {
      const flow = this.ring.shift()!;
      const piece = flow.waiting[0]!;
      let leaveAt = piece.readAt;
      if (cap !== null) {
        leaveAt = Math.max(this.busyUntil, piece.readAt) + (piece.buf.length / cap) * 1000;
        this.busyUntil = leaveAt;
      }
      if (flow.grant(leaveAt, now)) this.ring.push(flow);
    }
    if (this.ring.length > 0 && !this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.pump();
        },
        Math.max(1, Math.ceil(this.busyUntil - now)),
      );
    }
  }
}

/** One connection in one direction: pieces waiting for the link, then pieces in flight. */
export class Flow {
  /** Pieces waiting for link time (only with a cap), oldest first. */
  readonly waiting: Piece[] = [];
  private readonly inFlight: InFlight[] = [];
  private lastDue = 0;
  private queued = 0;
  private endAfterWaiting = false;
  private timer: NodeJS.Timeout | undefined;
  private pausedForQueue = false;
  private pausedForDrain = false;

  constructor(
    private readonly link: Link,
    private readonly from: Socket,
    private readonly to: Socket,
  ) {}

  /** A chunk read from `from`. */
  send(chunk: Buffer): void {
    const now = performance.now();
    const { delayMs } = this.link;
    if (this.link.bandwidthBytesPerSec === null && this.waiting.length === 0) {
      this.queue(chunk.length);
      this.land(chunk, now + delayMs, now);
    } else {
      for (let i = 0; i < chunk.length; i += PIECE_BYTES) {
        this.waiting.push({ buf: chunk.subarray(i, i + PIECE_BYTES), readAt: now, delayMs });
      }
      this.queue(chunk.length);
      this.link.request(this);
    }
    if (this.queued > MAX_QUEUED_BYTES && !this.pausedForQueue) {
      this.pausedForQueue = true;
      this.from.pause();
    }
  }

  /** `from` ended: `to` is ended after the bytes before it. */
  end(): void {
    const now = performance.now();
    if (this.waiting.length > 0) this.endAfterWaiting = true;
    else this.land(null, now + this.link.delayMs, now);
  }

  /** The head waiting piece got the link and leaves it at `leaveAt`; true if more wait. */
  grant(leaveAt: number, now: number): boolean {
    const piece = this.waiting.shift()!;
    this.land(piece.buf, leaveAt + piece.delayMs, now);
    if (this.waiting.length > 0) return true;
    if (this.endAfterWaiting) {
      this.endAfterWaiting = false;
      this.land(null, leaveAt + piece.delayMs, now);
    }
    return false;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.link.forget(this);
    this.waiting.length = 0;
    this.inFlight.length = 0;
    this.queue(-this.queued);
  }

  private queue(bytes: number): void {
    this.queued += bytes;
    this.link.queued += bytes;
  }

  private land(buf: Buffer | null, dueAt: number, now: number): void {
    // Never ahead of an earlier piece (the delay may have been lowered since).
    this.lastDue = Math.max(this.lastDue, dueAt);
    this.inFlight.push({ buf, dueAt: this.lastDue });
    if (!this.timer) this.flush(now);
  }

  /** Writes every piece that is due, in order, and sets the timer for the next one. */
  private flush(now = performance.now()): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.dueAt <= now) {
      const { buf } = this.inFlight.shift()!;
      if (buf) this.queue(-buf.length);
      if (this.to.destroyed) continue;
      if (buf === null) {
        this.to.end();
        continue;
      }
      this.link.bytes += buf.length;
      if (!this.to.write(buf) && !this.pausedForDrain) {
        this.pausedForDrain = true;
        this.from.pause();
        this.to.once('drain', () => {
          this.pausedForDrain = false;
          this.resumeIfClear();
        });
      }
    }
    if (this.pausedForQueue && this.queued <= MAX_QUEUED_BYTES) {
      this.pausedForQueue = false;
      this.resumeIfClear();
    }
    const head = this.inFlight[0];
    if (head) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.flush();
        },
        Math.max(1, Math.ceil(head.dueAt - now)),
      );
    }
  }

  private resumeIfClear(): void {
    if (!this.pausedForQueue && !this.pausedForDrain && !this.from.destroyed) this.from.resume();
  }
}
