/**
 * @module Object bodies travel beside the table log, never in front of it (DESIGN §5):
 * per peer, a queue of bodies served by workers of their own (`BODY_STREAMS`
 * connections: their own share of the link), fed by the shipper the moment an object
 * entry leaves in a batch, and by the peer's answers naming the bodies it still waits
 * for (after a restart on either side). The peer applies an object's metadata once its
 * body has arrived; entries that do not depend on it are applied meanwhile.
 *
 * A body already sent in this process is not sent again because of an answer made
 * before it arrived; a large body is sent only after the peer said it lacks it (one
 * round trip, against sending it twice).
 */
import type { Logger } from 'pino';
import type { ObjectBodies } from '../ports/object-bodies.js';
import { BodyNotHereError, type PeerAddress, type PeerTransport } from '../ports/peer-transport.js';

/** Bodies streamed to one peer at once. */
export const BODY_STREAMS = 4;
/** Bodies above this size are sent only once the peer says it lacks them. */
export const ASK_FIRST_BYTES = 256 * 1024;
/** A body that failed to go is tried again when the peer asks for it after this long (its answers keep naming it). */
export const BODY_RETRY_MS = 2000;
const REMEMBER_SENT = 4096;

export interface BodyFigures {
  /** Bodies waiting or in flight, and their bytes. */
  pending: number;
  pendingBytes: number;
  inFlight: number;
  sent: number;
  sentBytes: number;
  lastError: string | null;
}

interface Wanted {
  sha256: string;
  size: number;
}

export class BodyShipper {
  private readonly queue: Wanted[] = [];
  private readonly waiting = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  /** sha256 → when its send completed (the last REMEMBER_SENT bodies). */
  private readonly sentAt = new Map<string, number>();
  private readonly failedAt = new Map<string, number>();
  private workers = 0;
  private idleWaiters: Array<() => void> = [];
  private sent = 0;
  private sentBytes = 0;
  private lastError: string | null = null;
  private stopped = false;

  constructor(
    private readonly deps: {
      peer: PeerAddress;
      bodies: ObjectBodies;
      transport: PeerTransport;
      logger: Logger;
      signal: AbortSignal;
      now?: () => number;
    },
  ) {}

  /**
   * Queue a body for the peer (`size`: as far as known, for the figures; the file says).
   * `askedAt`: when the request whose answer named it left
   * (a body sent since then had not arrived when that answer was made).
   */
  want(sha256: string, size: number, askedAt?: number): void {
    if (this.stopped || this.waiting.has(sha256) || this.inFlight.has(sha256)) return;
    const sent = this.sentAt.get(sha256);
    if (sent !== undefined && (askedAt === undefined || sent >= askedAt)) return;
    // A body that failed is tried again once the peer, still lacking it, asks after a pause.
    const failed = this.failedAt.get(sha256);
    if (failed !== undefined && this.now() - failed < BODY_RETRY_MS) return;
    this.waiting.set(sha256, size);
    this.queue.push({ sha256, size });
    this.pump();
  }

  /** The peer answers again: bodies that failed while it could not be reached go at once when asked for. */
  reachable(): void {
    this.failedAt.clear();
  }

  figures(): BodyFigures {
    let pendingBytes = 0;
    for (const size of this.waiting.values()) pendingBytes += size;
    for (const size of this.inFlight.values()) pendingBytes += size;
    return {
      pending: this.waiting.size + this.inFlight.size,
      pendingBytes,
      inFlight: this.inFlight.size,
      sent: this.sent,
      sentBytes: this.sentBytes,
      lastError: this.lastError,
    };
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves once no body is waiting or on its way. */
  async idle(): Promise<void> {
    while (this.workers > 0 || this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (!this.stopped && this.workers < BODY_STREAMS && this.queue.length > 0) {
      this.workers++;
      void this.work().finally(() => {
        this.workers--;
        this.pump();
        if (this.workers === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }

  private async work(): Promise<void> {
    for (let next = this.queue.shift(); next && !this.stopped; next = this.queue.shift()) {
      this.waiting.delete(next.sha256);
      this.inFlight.set(next.sha256, next.size);
      try {
        await this.ship(next);
        this.remember(next.sha256);
        this.failedAt.delete(next.sha256);
        this.lastError = null;
      } catch (err) {
        if (this.stopped) return;
        this.failedAt.set(next.sha256, this.now());
        this.lastError = (err as Error).message;
        if (err instanceof BodyNotHereError) {
          this.deps.logger.error(
            { peer: this.deps.peer.name, sha256: next.sha256 },
            'replication: a body the peer needs is not stored here (its object cannot be applied there)',
          );
        }
      } finally {
        this.inFlight.delete(next.sha256);
      }
    }
  }

  private async ship({ sha256 }: Wanted): Promise<void> {
    const { bodies, transport, peer, signal } = this.deps;
    const size = await bodies.size(sha256);
    if (size === undefined) throw new BodyNotHereError(sha256);
    if (size > ASK_FIRST_BYTES && (await transport.hasBody(peer, sha256, { timeoutMs: 10_000, signal }))) return;
    await transport.sendBody(
      peer,
      { sha256, size, stream: bodies.read(sha256) },
      { timeoutMs: 60_000 + Math.ceil(size / 1000), signal },
    );
    this.sent++;
    this.sentBytes += size;
  }

  private remember(sha256: string): void {
    this.sentAt.delete(sha256);
    this.sentAt.set(sha256, this.now());
    if (this.sentAt.size > REMEMBER_SENT) this.sentAt.delete(this.sentAt.keys().next().value!);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
