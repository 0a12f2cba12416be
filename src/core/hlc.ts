/**
 * @module Hybrid logical clock. Timestamps order events across regions: they follow
 * wall-clock time when clocks agree and never go backwards when they do not.
 *
 * An HLC timestamp is serialised as a fixed-width string, `WWWWWWWWWWWWWWW-LLLLLL`
 * (wall milliseconds, logical counter), so that string order is timestamp order.
 *
 * As built (DESIGN §5, "Clocks"):
 * - A clock starts above a seed, the highest timestamp the region holds on disk, so it
 *   never goes back across a restart even when the host's wall clock was set back.
 * - Within a run a timestamp is always greater than every one issued or observed before.
 * - A remote timestamp more than `maxAheadMs` ahead of this host's wall clock is refused
 *   with ClockAheadError and never adopted: one peer with a clock far ahead (or a forged
 *   `999999999999999-999999`) cannot drag every later local timestamp with it.
 * - The clock never produces a malformed timestamp: at the end of the fixed width it
 *   throws ClockExhaustedError instead of growing a 16th digit.
 */

export type Hlc = string;

const WALL_DIGITS = 15;
const LOGICAL_DIGITS = 6;
const MAX_LOGICAL = 10 ** LOGICAL_DIGITS - 1;
/** The greatest wall time a timestamp can hold (about the year 33658). */
const MAX_WALL = 10 ** WALL_DIGITS - 1;

/** Default bound on how far ahead of the local wall clock a remote timestamp may be. */
export const DEFAULT_MAX_CLOCK_AHEAD_MS = 500;

export interface HlcParts {
  wall: number;
  logical: number;
}

export function formatHlc({ wall, logical }: HlcParts): Hlc {
  if (!isWall(wall) || !Number.isInteger(logical) || logical < 0 || logical > MAX_LOGICAL) {
    throw new RangeError(`HLC parts out of range: wall ${wall}, logical ${logical}`);
  }
  return `${String(wall).padStart(WALL_DIGITS, '0')}-${String(logical).padStart(LOGICAL_DIGITS, '0')}`;
}

const HLC_PATTERN = /^(\d{15})-(\d{6})$/;

export function parseHlc(hlc: Hlc): HlcParts {
  const m = typeof hlc === 'string' ? HLC_PATTERN.exec(hlc) : null;
  if (!m) throw new Error(`malformed HLC timestamp: ${JSON.stringify(hlc)?.slice(0, 80)}`);
  return { wall: Number(m[1]), logical: Number(m[2]) };
}

export function isHlc(value: unknown): value is Hlc {
  return typeof value === 'string' && HLC_PATTERN.test(value);
}

/** A remote timestamp too far ahead of this host's wall clock: refused, never adopted. */
export class ClockAheadError extends Error {
  constructor(
    /** The remote timestamp as received. */
    readonly remote: Hlc,
    /** How far its wall time is ahead of this host's wall clock, in ms. */
    readonly aheadMs: number,
    /** The configured bound it exceeds. */
    readonly maxAheadMs: number,
  ) {
    super(
      `a remote clock is ${aheadMs} ms ahead of this host's wall clock (more than the ${maxAheadMs} ms allowed): ` +
        `timestamp ${remote} refused, not adopted`,
    );
    this.name = 'ClockAheadError';
  }
}

/** The clock reached the greatest timestamp its fixed width can hold (a poisoned seed). */
export class ClockExhaustedError extends Error {
  constructor(last: HlcParts) {
    super(`the hybrid logical clock cannot advance past ${formatHlc(last)}`);
    this.name = 'ClockExhaustedError';
  }
}

export interface HlcOptions {
  /** The wall clock, in ms since the epoch (Date.now by default). */
  now?: () => number;
  /** The highest timestamp already used (the newest version on disk): every tick is above it. */
  seed?: Hlc | undefined;
  /** A remote timestamp further ahead of the wall clock than this is refused (ClockAheadError). */
  maxAheadMs?: number;
}

export class HybridLogicalClock {
  private last: HlcParts = { wall: 0, logical: 0 };
  private readonly wallClock: () => number;
  readonly maxAheadMs: number;

  constructor(options: HlcOptions | (() => number) = {}) {
    const o = typeof options === 'function' ? { now: options } : options;
    this.wallClock = o.now ?? Date.now;
    this.maxAheadMs = o.maxAheadMs ?? DEFAULT_MAX_CLOCK_AHEAD_MS;
    if (!Number.isFinite(this.maxAheadMs) || this.maxAheadMs < 0) {
      throw new RangeError(`maxAheadMs must be a non-negative number, not ${this.maxAheadMs}`);
    }
    if (o.seed !== undefined) this.last = parseHlc(o.seed);
  }

  /** A timestamp for a local event, greater than every timestamp issued or observed so far. */
  tick(): Hlc {
    const physical = this.now();
    if (physical > this.last.wall) {
      this.last = { wall: physical, logical: 0 };
    } else {
      this.last = bump(this.last.wall, this.last.logical);
    }
    return formatHlc(this.last);
  }

  /**
   * Merge a timestamp received from another region, so later local events order after it.
   * Throws (and changes nothing) for a malformed timestamp, and with ClockAheadError for
   * one more than `maxAheadMs` ahead of this host's wall clock.
   */
  observe(remote: Hlc): void {
    const r = parseHlc(remote);
    const physical = this.now();
    const aheadMs = r.wall - physical;
    if (aheadMs > this.maxAheadMs) throw new ClockAheadError(remote, aheadMs, this.maxAheadMs);
    const wall = Math.max(physical, r.wall, this.last.wall);
    let next: HlcParts;
    if (wall === this.last.wall && wall === r.wall) {
      next = bump(wall, Math.max(this.last.logical, r.logical));
    } else if (wall === this.last.wall) {
      next = bump(wall, this.last.logical);
    } else if (wall === r.wall) {
      next = bump(wall, r.logical);
    } else {
      next = { wall, logical: 0 };
    }
    this.last = next;
  }

  /** The greatest timestamp issued or observed so far (the seed before the first). */
  peek(): Hlc {
    return formatHlc(this.last);
  }

  /** The wall clock as this HLC reads it: whole milliseconds, never past the fixed width. */
  private now(): number {
    const t = Math.floor(this.wallClock());
    if (!isWall(t)) throw new RangeError(`the wall clock reads ${t}, outside what a timestamp can hold`);
    return t;
  }
}

function isWall(wall: number): boolean {
  return Number.isInteger(wall) && wall >= 0 && wall <= MAX_WALL;
}

/** The timestamp just after (wall, logical); the logical counter borrows the next millisecond when exhausted. */
function bump(wall: number, logical: number): HlcParts {
  if (logical < MAX_LOGICAL) return { wall, logical: logical + 1 };
  if (wall >= MAX_WALL) throw new ClockExhaustedError({ wall, logical });
  return { wall: wall + 1, logical: 0 };
}
