/**
 * @module The batches a shipper has in flight to its peer (DESIGN §5: streaming, not
 * stop-and-wait). A write leaves as soon as it is durable, whatever is in flight, up to
 * a window in batches, entries and bytes of JSON; answers come back on their own.
 *
 * Each batch is numbered in the order it left (its ordinal) and belongs to a
 * generation: a rewind (a lost batch, an error, a refusal) starts a new generation
 * from where the peer really is, and batches of older generations are answered but
 * steer nothing. The ordinals give causality for answers that arrive out of order: an
 * answer to a batch that left after the answer which set the peer's position was
 * received describes the peer later than that position, so it is believed even when
 * it is lower (the peer was restored); an older answer may only move the position on.
 */

export interface WindowLimits {
  batches: number;
  entries: number;
  bytes: number;
}

/**
 * 256 batches, 20,000 entries, 16 MiB. At 500 writes/s over a 150 ms round trip about
 * 75 batches of one write each are in the air; with 32 a write waited for a slot and lag
 * at 75 ms one-way rose from 77 to 91 ms (p50) and 167 ms (p99); with 128, 77 / 91 ms.
 * They travel pipelined on two connections (src/peers/peer-client.ts: 2 × 128), well
 * under a peer's per-address connection cap. A peer catching up gets 16 MiB per round
 * trip (about 100 MiB/s at 150 ms).
 */
export const WINDOW: WindowLimits = { batches: 256, entries: 20_000, bytes: 16 * 1024 * 1024 };

export interface Flight {
  ordinal: number;
  generation: number;
  logId: string;
  /** The batch's entries follow this sequence of `logId` (a heartbeat: the peer's position). */
  after: number;
  /** Its last entry (`after` for a heartbeat). */
  last: number;
  entries: number;
  bytes: number;
  launchedAt: number;
  /** A move to another log id: it travels alone (compare-and-set on the receiver). */
  exclusive: boolean;
}

export class ShipWindow {
  private readonly flights = new Map<number, Flight>();
  private nextOrdinal = 1;
  private idleWaiters: Array<() => void> = [];
  generation = 0;
  entries = 0;
  bytes = 0;
  /** Batches, entries and bytes of the current generation: what the window bounds. */
  private current = { batches: 0, entries: 0, bytes: 0, exclusive: false };

  constructor(private readonly limits: WindowLimits = WINDOW) {}

  get size(): number {
    return this.flights.size;
  }

  /** The ordinal the next batch will get: every answer to it or a later one was made after now. */
  get nextToLeave(): number {
    return this.nextOrdinal;
  }

  /** Batches of the current generation in flight. */
  get currentSize(): number {
    return this.current.batches;
  }

  /**
   * Whether another batch may leave now: one at a time while probing a peer, none behind
   * a move. Batches of past generations (answered late or never) take no room.
   */
  hasRoom(probing: boolean): boolean {
    const c = this.current;
    if (c.batches === 0) return true;
    if (probing || c.exclusive) return false;
    return c.batches < this.limits.batches && c.entries < this.limits.entries && c.bytes < this.limits.bytes;
  }

  open(flight: Omit<Flight, 'ordinal' | 'generation'>): Flight {
    const f: Flight = { ...flight, ordinal: this.nextOrdinal++, generation: this.generation };
    this.flights.set(f.ordinal, f);
    this.entries += f.entries;
    this.bytes += f.bytes;
    this.current.batches++;
    this.current.entries += f.entries;
    this.current.bytes += f.bytes;
    this.current.exclusive ||= f.exclusive;
    return f;
  }

  close(f: Flight): void {
    if (!this.flights.delete(f.ordinal)) return;
    this.entries -= f.entries;
    this.bytes -= f.bytes;
    if (this.isCurrent(f)) {
      this.current.batches--;
      this.current.entries -= f.entries;
      this.current.bytes -= f.bytes;
      if (f.exclusive) this.current.exclusive = false;
    }
    if (this.flights.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Start again from the peer's position: what is in flight steers nothing any more. */
  rewind(): void {
    this.generation++;
    this.current = { batches: 0, entries: 0, bytes: 0, exclusive: false };
  }

  isCurrent(f: Flight): boolean {
    return f.generation === this.generation;
  }

  /** Resolves once nothing is in flight. */
  settled(): Promise<void> {
    if (this.flights.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
